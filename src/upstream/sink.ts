/**
 * The hub's consumer of the `upstream` stream for one live MQTT connection. It publishes
 * each message at QoS 1 in the order the hub hands them over (one connection, so the broker
 * keeps that order [MQTT-4.6.0-6]) and calls the hub's `done` on the PUBACK, which moves the
 * durable checkpoint. At most `windowMax` publishes wait for their PUBACK: that bounds the
 * messages sent again after a connection loss (G3). A sink lives exactly as long as its
 * connection; the connector detaches it (and makes a new one) on every reconnect.
 */
import type { MqttClient } from 'mqtt';
import type { DeliverySink } from '../hub/endpoint-delivery.js';
import type { HubMessage } from '../hub/message.js';
import type { LogRecord } from '../store/types.js';
import type { Publication } from './publication.js';

/**
 * Negative PUBACK reasons that judge the message, not the connection: resending it would
 * fail the same way forever, blocking everything behind it. 0x83 "implementation specific
 * error" is "valid but the receiver is not willing to accept it" (a Tandem parent's answer to
 * an oversized message), 0x95 packet too large, 0x99 payload format invalid (MQTT 5.0
 * section 3.4.2.1). Other failures (0x87 not authorized, 0x90 topic invalid, 0x97 quota
 * exceeded...) are about configuration or capacity: the message is kept and the connection
 * is retried with backoff, so a fixed configuration delivers everything.
 */
export const messageRefusalReasonCodes: ReadonlySet<number> = new Set([0x83, 0x95, 0x99]);

export interface SinkHost {
  readonly client: MqttClient;
  readonly windowMax: number;
  /** Throws when the message cannot be put on the wire at all (too large for a topic...). */
  format(msg: HubMessage): Publication;
  /** The message is dropped for good: the receiver refused it, or it cannot be formatted. */
  refused(msg: HubMessage, why: string): void;
  /** The connection failed while publishing; the connector closes it and backs off. */
  failed(err: Error): void;
  /** The last PUBACK came in while draining (before a renewal reconnect). */
  drained(): void;
  /** There is room in the window again. */
  notify(): void;
}

function reasonCodeOf(err: Error): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export class UpstreamSink implements DeliverySink {
  readonly #host: SinkHost;
  #inflight = 0;
  #dead = false;
  #draining = false;

  constructor(host: SinkHost) {
    this.#host = host;
  }

  get inflight(): number {
    return this.#inflight;
  }

  get ready(): boolean {
    return (
      !this.#dead && !this.#draining && this.#host.client.connected && this.#inflight < this.#host.windowMax
    );
  }

  /** Acknowledgements after this are ignored: the hub sends those messages again to the next sink. */
  kill(): void {
    this.#dead = true;
  }

  /** Stops taking messages; `drained` is called once nothing is in flight. */
  drain(): void {
    this.#draining = true;
    if (this.#inflight === 0) this.#host.drained();
  }

  deliver(msg: HubMessage, _record: LogRecord, done: () => void): void {
    let pub: Publication;
    try {
      pub = this.#host.format(msg);
    } catch (err) {
      this.#host.refused(msg, err instanceof Error ? err.message : String(err));
      done();
      return;
    }
    this.#inflight++;
    const options =
      pub.properties === undefined ? { qos: 1 as const } : { qos: 1 as const, properties: pub.properties };
    this.#host.client.publish(pub.topic, pub.payload, options, (err) => this.#acked(msg, done, err));
  }

  #acked(msg: HubMessage, done: () => void, err: Error | undefined): void {
    if (this.#dead) return;
    const wasFull = this.#inflight >= this.#host.windowMax;
    this.#inflight--;
    if (err) {
      const code = reasonCodeOf(err);
      if (code === undefined || !messageRefusalReasonCodes.has(code)) {
        this.#host.failed(err);
        return;
      }
      this.#host.refused(msg, `${err.message} (reason 0x${code.toString(16)})`);
    }
    done();
    if (this.#draining && this.#inflight === 0) this.#host.drained();
    else if (wasFull) this.#host.notify();
  }
}
