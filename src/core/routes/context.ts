/**
 * What a condition reads from one message. One context serves every route of a message, so
 * the body is decoded and parsed at most once, and only if some condition reads `$body`.
 */
import type { HubMessage, MessageSource } from '../../hub/message.js';
import { type JsonRoot, parseJsonBody } from './body.js';

type Bag = Readonly<Record<string, string>>;

/** Whether `key` equals `lower` (already lower-cased) ignoring case, without allocating for ASCII keys. */
function sameIgnoringCase(key: string, lower: string): boolean {
  if (key.length !== lower.length) return false;
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i);
    if (c >= 0x80) return key.toLowerCase() === lower;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * edgeHub builds its property dictionaries with StringComparer.OrdinalIgnoreCase
 * (Routing.Core/Message.cs). The exact name is tried first; a miss scans the (at most 81) keys.
 */
function lookup(bag: Bag, name: string, lower: string): string | undefined {
  let v: unknown;
  if (Object.hasOwn(bag, name)) {
    v = bag[name];
  } else {
    for (const k in bag) {
      if (Object.hasOwn(bag, k) && sameIgnoringCase(k, lower)) {
        v = bag[k];
        break;
      }
    }
  }
  return typeof v === 'string' ? v : undefined;
}

const EMPTY: Bag = {};

export class EvalContext {
  readonly message: HubMessage;
  readonly from: MessageSource;
  readonly #props: Bag;
  readonly #sys: Bag;
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
    return lookup(this.#props, name, lower);
  }

  /** A system property under Tandem's (IoT Hub's long) name. */
  systemProperty(name: string, lower: string): string | undefined {
    return lookup(this.#sys, name, lower);
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
