/**
 * Direct methods: a call goes to the target's live connection as
 * `$iothub/methods/POST/{name}/?$rid={rid}` and completes when the client publishes
 * `$iothub/methods/res/{status}/?$rid={rid}`, or fails after the call's timeout
 * (IoT Hub doc "Understand and invoke direct methods").
 */
import { TandemError } from '../errors.js';
import { limits } from '../limits.js';

export interface MethodResult {
  readonly status: number;
  readonly payload: unknown;
}

/** How the invoker reaches a client; the hub's session registry implements it. */
export interface MethodTransport {
  /** Sends the request; false when the target is not connected or not subscribed to methods. */
  sendMethodRequest(identity: string, name: string, rid: string, payload: Uint8Array): boolean;
}

interface Pending {
  readonly identity: string;
  readonly resolve: (r: MethodResult) => void;
  readonly timer: NodeJS.Timeout;
}

export interface InvokeOptions {
  readonly identity: string;
  readonly methodName: string;
  readonly payload: unknown;
  readonly responseTimeoutSec?: number;
}

export class MethodInvoker {
  readonly #transport: MethodTransport;
  readonly #pending = new Map<string, Pending>();
  #nextRid = 1;

  constructor(transport: MethodTransport) {
    this.#transport = transport;
  }

  invoke(options: InvokeOptions): Promise<MethodResult> {
    const timeoutSec = clampTimeout(options.responseTimeoutSec);
    const body = Buffer.from(JSON.stringify(options.payload ?? null), 'utf8');
    if (body.length > limits.methodPayloadBytesMax) {
      return Promise.reject(
        new TandemError('TANDEM_E_TOO_LARGE', `method payload over ${limits.methodPayloadBytesMax} bytes`),
      );
    }
    let perTarget = 0;
    for (const p of this.#pending.values()) if (p.identity === options.identity) perTarget++;
    if (perTarget >= limits.pendingMethodCallsMax) {
      return Promise.reject(
        new TandemError('TANDEM_E_API', `too many pending method calls for ${options.identity}`),
      );
    }
    const rid = (this.#nextRid++).toString(16);
    return new Promise<MethodResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        reject(
          new TandemError(
            'TANDEM_E_METHOD_TIMEOUT',
            `${options.identity} did not answer ${options.methodName} within ${timeoutSec} s`,
          ),
        );
      }, timeoutSec * 1000);
      this.#pending.set(rid, { identity: options.identity, resolve, timer });
      if (!this.#transport.sendMethodRequest(options.identity, options.methodName, rid, body)) {
        clearTimeout(timer);
        this.#pending.delete(rid);
        reject(
          new TandemError(
            'TANDEM_E_METHOD_OFFLINE',
            `${options.identity} is not connected or not subscribed to direct methods`,
          ),
        );
      }
    });
  }

  /** A client's response; responses to unknown or foreign request ids are ignored. */
  respond(identity: string, rid: string, status: number, body: Uint8Array): void {
    const pending = this.#pending.get(rid);
    if (!pending || pending.identity !== identity) return;
    this.#pending.delete(rid);
    clearTimeout(pending.timer);
    pending.resolve({ status, payload: parsePayload(body) });
  }

  /** Fails every call still waiting (hub shutdown). */
  close(): void {
    for (const [rid, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(rid);
      p.resolve({ status: 503, payload: { message: 'hub shutting down' } });
    }
  }
}

function clampTimeout(asked: number | undefined): number {
  const t = asked ?? limits.methodTimeoutSecondsDefault;
  return Math.min(limits.methodTimeoutSecondsMax, Math.max(limits.methodTimeoutSecondsMin, t));
}

function parsePayload(body: Uint8Array): unknown {
  if (body.length === 0) return null;
  const text = Buffer.from(body).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
