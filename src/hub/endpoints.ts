/**
 * The set of endpoint streams the hub delivers: one EndpointDelivery per stream, created
 * when a route names it or the log already holds records for it, and a sweep that expires
 * messages nobody is consuming (TTL, G1's "or expires by its TTL and is counted").
 */
import { limits } from '../limits.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { type DeliveryObserver, EndpointDelivery } from './endpoint-delivery.js';
import type { EndpointOwnership } from './ownership.js';

export interface EndpointsOptions {
  readonly store: Store;
  readonly ownership: EndpointOwnership;
  readonly clock: Clock;
  readonly observer: DeliveryObserver;
  readonly onError: (err: unknown) => void;
  readonly windowMax?: number;
}

export class Endpoints {
  readonly #o: EndpointsOptions;
  readonly #byStream = new Map<string, EndpointDelivery>();
  /** Called when a stream is first known, so a connected consumer can be attached to it. */
  onNewStream: (stream: string, delivery: EndpointDelivery) => void = () => {};
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: EndpointsOptions) {
    this.#o = options;
  }

  /** Loads the streams that already hold records and starts the TTL sweep. */
  async start(): Promise<void> {
    for (const stream of await this.#o.store.log.streams()) this.get(stream);
    this.#sweepTimer = setInterval(() => void this.sweep(), limits.expirySweepIntervalMs);
    this.#sweepTimer.unref();
  }

  get(stream: string): EndpointDelivery {
    let d = this.#byStream.get(stream);
    if (!d) {
      d = new EndpointDelivery({
        stream,
        store: this.#o.store,
        ownership: this.#o.ownership,
        clock: this.#o.clock,
        windowMax: this.#o.windowMax ?? limits.inflightWindowMessagesMax,
        readBatchMax: limits.deliveryReadBatchMessagesMax,
        checkpointCoalesceMs: limits.checkpointCoalesceMs,
        observer: this.#o.observer,
        onError: this.#o.onError,
      });
      this.#byStream.set(stream, d);
      this.onNewStream(stream, d);
    }
    return d;
  }

  /** Streams whose name starts with `prefix` (e.g. every input of one module). */
  withPrefix(prefix: string): EndpointDelivery[] {
    return [...this.#byStream.values()].filter((d) => d.stream.startsWith(prefix));
  }

  all(): EndpointDelivery[] {
    return [...this.#byStream.values()];
  }

  async sweep(): Promise<void> {
    for (const d of this.#byStream.values()) {
      try {
        await d.sweepExpired();
      } catch (err) {
        this.#o.onError(err);
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    await Promise.all([...this.#byStream.values()].map((d) => d.close()));
  }
}
