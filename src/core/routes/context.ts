/**
 * What a condition reads from one message. One context serves every route of a message, so
 * the body is decoded and parsed at most once, and only if some condition reads `$body`.
 */
import type { HubMessage, MessageSource } from '../../hub/message.js';
import { type JsonRoot, parseJsonBody } from './body.js';

type Bag = Readonly<Record<string, string>>;

/** edgeHub builds its property dictionaries with StringComparer.OrdinalIgnoreCase (Routing.Core/Message.cs). */
function lookup(bag: Bag, name: string, lower: string, folded: () => Map<string, string>): string | undefined {
  if (Object.hasOwn(bag, name)) {
    const v = bag[name];
    return typeof v === 'string' ? v : undefined;
  }
  return folded().get(lower);
}

function fold(bag: Bag): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(bag)) {
    const key = k.toLowerCase();
    if (typeof v === 'string' && !m.has(key)) m.set(key, v);
  }
  return m;
}

const EMPTY: Bag = {};

export class EvalContext {
  readonly message: HubMessage;
  readonly from: MessageSource;
  readonly #props: Bag;
  readonly #sys: Bag;
  #foldedProps: Map<string, string> | undefined;
  #foldedSys: Map<string, string> | undefined;
  /** undefined: not parsed yet; null: no queryable body. */
  #body: JsonRoot | null | undefined;

  constructor(message: HubMessage, from: MessageSource) {
    this.message = message;
    this.from = from;
    this.#props = message.properties ?? EMPTY;
    this.#sys = message.systemProperties ?? EMPTY;
  }

  /** An application property; `lower` is `name.toLowerCase()`, computed once at compile time. */
  appProperty(name: string, lower: string): string | undefined {
    return lookup(this.#props, name, lower, () => {
      this.#foldedProps ??= fold(this.#props);
      return this.#foldedProps;
    });
  }

  /** A system property under Tandem's (IoT Hub's long) name. */
  systemProperty(name: string, lower: string): string | undefined {
    return lookup(this.#sys, name, lower, () => {
      this.#foldedSys ??= fold(this.#sys);
      return this.#foldedSys;
    });
  }

  /** The body as a JSON object, parsed on first use; null when it cannot be queried. */
  body(): JsonRoot | null {
    if (this.#body === undefined) {
      const type = this.systemProperty('contentType', 'contenttype');
      const encoding = this.systemProperty('contentEncoding', 'contentencoding');
      this.#body = parseJsonBody(this.message.body, type, encoding);
    }
    return this.#body;
  }
}
