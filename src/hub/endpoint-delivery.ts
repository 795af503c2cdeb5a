/**
 * Ordered, at-least-once delivery of one endpoint's stream to whoever consumes it now.
 *
 * Records are read from the log after the endpoint's checkpoint and sent in seq order with
 * at most `windowMax` sent past the last durable checkpoint: unacknowledged, or acknowledged
 * but not yet checkpointed. So a crash repeats at most `windowMax` messages (G3). The
 * checkpoint only moves over a contiguous acknowledged prefix, so a reconnect or a hub
 * restart resumes exactly after the last message known to be received (G1, G2).
 *
 * Only the endpoint's owner sends (ownership.ts): on one node that is always this hub; in a
 * cluster it is the replica holding the endpoint's lease, and the checkpoint comes with the
 * lease. A lost lease stops sending at once; unacknowledged messages go to the next owner.
 */
import { assert } from '../errors.js';
import { limits } from '../limits.js';
import type { LogRecord, Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import type { HubMessage } from './message.js';
import { decodeMessage } from './message-codec.js';
import type { EndpointOwnership } from './ownership.js';

export interface DeliverySink {
  /** True while the sink can take another message now (socket not backed up). */
  readonly ready: boolean;
  /** Sends a message; `done` is called when the receiver acknowledged it (QoS 1) or at once (QoS 0). */
  deliver(msg: HubMessage, record: LogRecord, done: () => void): void;
}

/** Hears when this hub gains or loses an endpoint it holds (Hub.holdEndpoint). */
export interface OwnershipHolder {
  granted(): void;
  lost(): void;
}

export interface DeliveryObserver {
  delivered(stream: string, count: number): void;
  expired(stream: string, count: number): void;
}

export interface EndpointDeliveryOptions {
  readonly stream: string;
  readonly store: Store;
  readonly ownership: EndpointOwnership;
  readonly clock: Clock;
  readonly windowMax: number;
  readonly readBatchMax: number;
  readonly checkpointCoalesceMs: number;
  readonly observer: DeliveryObserver;
  /** Called when a log operation fails; delivery retries on the next notify. */
  readonly onError: (err: unknown) => void;
}

interface Outstanding {
  readonly seq: number;
  done: boolean;
  readonly expired: boolean;
}

export class EndpointDelivery {
  readonly #o: EndpointDeliveryOptions;
  #sink: DeliverySink | undefined;
  /** Bumped on attach/detach so that acks from an old sink are ignored. */
  #generation = 0;
  #committed = 0;
  #flushedCheckpoint = 0;
  /** Messages committed in memory but not yet in the durable checkpoint. */
  #unflushed = 0;
  #cursor = 0;
  #buffer: LogRecord[] = [];
  #bufferIndex = 0;
  #outstanding: Outstanding[] = [];
  #pumping = false;
  #again = false;
  #flushTimer: NodeJS.Timeout | undefined;
  #permitTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  /** This hub asked to own the endpoint (always on one node; while a consumer is attached in a cluster). */
  #wanted = false;
  /** This hub owns it now: only then does it send, sweep and checkpoint. */
  #owned = false;
  readonly #holders = new Set<OwnershipHolder>();
  /** Counts grants and losses, so a checkpoint write finishing after a change is ignored. */
  #term = 0;
  #closed = false;

  /** Resolves at the first grant: on one node, the checkpoint was loaded. */
  readonly #firstGrant: Promise<void>;
  #signalGranted: () => void = () => {};

  constructor(options: EndpointDeliveryOptions) {
    this.#o = options;
    this.#firstGrant = new Promise((resolve) => {
      this.#signalGranted = resolve;
    });
    if (!options.ownership.onDemand) this.#want();
  }

  get stream(): string {
    return this.#o.stream;
  }

  get attached(): boolean {
    return this.#sink !== undefined;
  }

  /** True while this hub owns the endpoint (in a cluster: holds its lease). */
  get owned(): boolean {
    return this.#owned;
  }

  get inflight(): number {
    return this.#outstanding.length;
  }

  /** The sink that consumes this endpoint from now on; a previous sink is dropped. */
  attach(sink: DeliverySink): void {
    this.#reset();
    this.#sink = sink;
    if (!this.#wanted) this.#want();
    this.notify();
  }

  /** Stops delivering to `sink`; its unacknowledged messages will be sent again. */
  detach(sink: DeliverySink): void {
    if (this.#sink !== sink) return;
    this.#sink = undefined;
    this.#reset();
    if (this.#o.ownership.onDemand && this.#holders.size === 0) this.#unwant();
  }

  /**
   * Keeps wanting the endpoint while no sink is attached, and tells `holder` whenever this
   * hub gains or loses it: the upstream connector connects to the cloud only while its hub
   * owns `upstream` (a cloud allows one connection per edge device).
   */
  hold(holder: OwnershipHolder): () => void {
    this.#holders.add(holder);
    if (!this.#wanted) this.#want();
    else if (this.#owned) queueMicrotask(() => this.#holders.has(holder) && holder.granted());
    return () => {
      if (!this.#holders.delete(holder)) return;
      if (this.#o.ownership.onDemand && this.#holders.size === 0 && !this.#sink) void this.#unwant();
    };
  }

  #want(): void {
    this.#wanted = true;
    this.#o.ownership.want(this.#o.stream, {
      granted: (checkpoint) => {
        if (!this.#wanted || this.#closed) return;
        this.#term++;
        this.#owned = true;
        this.#committed = checkpoint;
        this.#flushedCheckpoint = checkpoint;
        this.#unflushed = 0;
        this.#reset();
        this.#signalGranted();
        if (this.#sink) this.notify();
        for (const h of this.#holders) h.granted();
      },
      lost: () => {
        this.#term++;
        this.#owned = false;
        this.#unflushed = 0;
        this.#reset();
        for (const h of this.#holders) h.lost();
      },
    });
  }

  /** Gives the endpoint up once pending checkpoint writes are done, leaving its checkpoint. */
  #unwant(): Promise<void> {
    if (!this.#wanted) return this.#flushing;
    this.#wanted = false;
    const left = this.#owned ? this.#committed : undefined;
    this.#term++;
    this.#owned = false;
    this.#flushing = this.#flushing.then(async () => {
      try {
        await this.#o.ownership.unwant(this.#o.stream, left);
      } catch (err) {
        this.#o.onError(err);
      }
    });
    return this.#flushing;
  }

  /** New records may be in the log, or the sink has room again. */
  notify(): void {
    if (this.#closed) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    void this.#pump();
  }

  /** Messages still to be delivered (not yet acknowledged). */
  async queueLength(): Promise<number> {
    const after = this.#owned ? this.#committed : await this.#o.ownership.knownCheckpoint(this.#o.stream);
    return this.#o.store.log.count(this.#o.stream, after);
  }

  /** Drops expired messages at the head of an endpoint nobody consumes now, counting them. */
  async sweepExpired(): Promise<void> {
    // One node owns every endpoint once its checkpoint is loaded; a cluster sweeps only what it owns.
    if (!this.#o.ownership.onDemand) await this.#firstGrant;
    if (!this.#owned || this.#sink || this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      const now = this.#o.clock.nowMs();
      const records = await this.#o.store.log.read(this.#o.stream, this.#committed, this.#o.readBatchMax);
      let expired = 0;
      for (const r of records) {
        if (this.#sink || !isExpired(r, now)) break;
        this.#committed = r.seq;
        this.#cursor = r.seq;
        expired++;
      }
      if (expired > 0) {
        this.#o.observer.expired(this.#o.stream, expired);
        this.#unflushed += expired;
        this.#scheduleFlush();
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#again) this.notify();
  }

  async close(): Promise<void> {
    clearTimeout(this.#flushTimer);
    clearTimeout(this.#permitTimer);
    await this.#flush();
    this.#closed = true;
    this.#sink = undefined;
    // In a cluster another replica can take the endpoint over at once instead of after a lease timeout.
    if (this.#o.ownership.onDemand) await this.#unwant();
  }

  #reset(): void {
    this.#generation++;
    this.#outstanding = [];
    this.#buffer = [];
    this.#bufferIndex = 0;
    this.#cursor = this.#committed;
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        await this.#fill();
      } while (this.#again && !this.#closed);
    } catch (err) {
      this.#o.onError(err);
    } finally {
      this.#pumping = false;
    }
  }

  /** Sends until the window is full, the sink is busy or the log has nothing more. */
  async #fill(): Promise<void> {
    while (
      this.#owned &&
      this.#permitted() &&
      this.#sink?.ready &&
      this.#outstanding.length + this.#unflushed < this.#o.windowMax &&
      !this.#closed
    ) {
      if (this.#bufferIndex >= this.#buffer.length) {
        const generation = this.#generation;
        const records = await this.#o.store.log.read(this.#o.stream, this.#cursor, this.#o.readBatchMax);
        if (generation !== this.#generation) continue;
        if (records.length === 0) return;
        this.#buffer = records;
        this.#bufferIndex = 0;
        this.#cursor = records[records.length - 1]!.seq;
      }
      this.#sendOne(this.#sink, this.#buffer[this.#bufferIndex++]!);
    }
  }

  /**
   * The owner's permission can run out between events (a cluster replica's heartbeats are no
   * longer confirmed): checked before every send, not only when 'lost' arrives. Looked at
   * again a heartbeat later, since a permission renewed in time brings no event.
   */
  #permitted(): boolean {
    const ownership = this.#o.ownership;
    if (!ownership.permits || ownership.permits(this.#o.stream)) return true;
    clearTimeout(this.#permitTimer);
    this.#permitTimer = setTimeout(() => this.notify(), limits.clusterHeartbeatIntervalMs);
    return false;
  }

  #sendOne(sink: DeliverySink, record: LogRecord): void {
    if (isExpired(record, this.#o.clock.nowMs())) {
      this.#outstanding.push({ seq: record.seq, done: true, expired: true });
      this.#advance();
      return;
    }
    const entry: Outstanding = { seq: record.seq, done: false, expired: false };
    this.#outstanding.push(entry);
    const generation = this.#generation;
    sink.deliver(decodeMessage(record.data), record, () => {
      if (generation !== this.#generation || entry.done) return;
      entry.done = true;
      this.#advance();
    });
  }

  /** Moves the committed position over the acknowledged prefix and refills the window. */
  #advance(): void {
    let delivered = 0;
    let expired = 0;
    while (this.#outstanding.length > 0 && this.#outstanding[0]!.done) {
      const entry = this.#outstanding.shift()!;
      assert(entry.seq > this.#committed, 'checkpoint moves forward only');
      this.#committed = entry.seq;
      if (entry.expired) expired++;
      else delivered++;
    }
    if (delivered > 0) this.#o.observer.delivered(this.#o.stream, delivered);
    if (expired > 0) this.#o.observer.expired(this.#o.stream, expired);
    if (delivered + expired > 0) {
      this.#unflushed += delivered + expired;
      // A quarter window waiting for the checkpoint: write it now, so checkpoints stay
      // pipelined behind delivery instead of stalling the window.
      if (this.#unflushed >= this.#o.windowMax * limits.checkpointEagerFraction) void this.#flush();
      else this.#scheduleFlush();
      this.notify();
    }
  }

  #scheduleFlush(delayMs = this.#o.checkpointCoalesceMs): void {
    if (this.#flushTimer || this.#closed) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.#flush();
    }, delayMs);
  }

  /** Writes the checkpoint, then trims what it covers; serialised so trims never overtake. */
  #flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#flushing = this.#flushing.then(async () => {
      const seq = this.#committed;
      const covered = this.#unflushed;
      const term = this.#term;
      if (seq <= this.#flushedCheckpoint || !this.#owned) return;
      try {
        await this.#o.ownership.save(this.#o.stream, seq);
        // Ownership changed meanwhile: the new term started from its own checkpoint.
        if (term !== this.#term) return;
        this.#flushedCheckpoint = seq;
        this.#unflushed -= covered;
        this.notify();
        await this.#o.store.log.trim(this.#o.stream, seq);
      } catch (err) {
        this.#o.onError(err);
        // Nothing else would write it: a full window waits for this checkpoint. Try again soon.
        this.#scheduleFlush(limits.checkpointRetryMs);
      }
    });
    return this.#flushing;
  }
}

function isExpired(record: LogRecord, nowMs: number): boolean {
  return record.expiresAtMs !== 0 && record.expiresAtMs <= nowMs;
}
