/**
 * What of the shared log this store instance can read: the index and the batch cache, fed
 * by two sources, this instance's acknowledged appends and the tailer (which reads every
 * batch of the log, whoever wrote it), and the listeners of `log.watch`.
 *
 * Batches become readable strictly in log order. `readable` is a stream sequence such that
 * every batch at or below it is in the index (or was purged, which only happens to trimmed
 * batches). Why not insert an own batch the moment its publish is acknowledged, whatever
 * lies below it: with several hub replicas appending, another replica's batch J-1 may reach
 * this instance's tailer after our own batch J was acknowledged. A reader that already read
 * stream X past J (an endpoint delivering from a cursor) would never look at J-1's records
 * of X. So an own batch above `readable + 1` waits in `pendingOwn` until the tailer has
 * delivered what lies below it (milliseconds: the tailer follows the stream's head); with a
 * single writer every acknowledged batch is `readable + 1` and is readable at once, which
 * gives read-your-writes. The tailer skips batches at or below `readable` (our own, already
 * inserted), so nothing is inserted twice and nothing is decoded twice.
 *
 * Watch listeners are called after a batch is in the index, in log order, with the streams
 * of its records that were not already trimmed.
 */
import type { BatchCache } from './batch-cache.js';
import type { StoreLog } from './connection.js';
import { type DecodedBatch, decodeFrame } from './frame.js';
import type { LogIndex } from './log-index.js';
import { itemSeq } from './seqs.js';

type Listener = (streams: readonly string[]) => void;

interface Waiter {
  readonly batchSeq: number;
  readonly resolve: () => void;
}

export class LogView {
  readonly index: LogIndex;
  readonly cache: BatchCache;
  readonly #log: StoreLog;
  #readable: number;
  readonly #pendingOwn = new Map<number, DecodedBatch>();
  #waiters: Waiter[] = [];
  readonly #listeners = new Set<Listener>();
  readonly #progress = new Set<() => void>();

  /** `readable`: the stream sequence before the first batch the tailer will deliver. */
  constructor(index: LogIndex, cache: BatchCache, readable: number, log: StoreLog) {
    this.index = index;
    this.cache = cache;
    this.#readable = readable;
    this.#log = log;
  }

  get readable(): number {
    return this.#readable;
  }

  /** The tailer read the message at stream sequence `batchSeq`. */
  tailed(batchSeq: number, payload: Uint8Array): void {
    this.#reached(batchSeq, () => this.#decode(batchSeq, payload));
  }

  /** The stream has no message at `batchSeq` (purged): nothing to index there. */
  gone(batchSeq: number): void {
    this.#reached(batchSeq, () => ({ items: [], bytes: 0 }));
  }

  /** The log was read up to `batchSeq`, whose batch is an own pending one or `read()`. */
  #reached(batchSeq: number, read: () => DecodedBatch): void {
    if (batchSeq <= this.#readable) return;
    // Own batches below this one cannot be waiting (the tailer delivers in order), unless
    // another replica purged them first, having seen all their records trimmed.
    for (const seq of [...this.#pendingOwn.keys()].sort((a, b) => a - b)) {
      if (seq < batchSeq) this.#insert(seq, this.#takePending(seq)!);
    }
    this.#insert(batchSeq, this.#takePending(batchSeq) ?? read());
    this.#drainPending();
  }

  /** An own batch was acknowledged; resolves once it is readable (at once with a single writer). */
  ownAcked(batchSeq: number, batch: DecodedBatch): Promise<void> {
    if (batchSeq <= this.#readable) return Promise.resolve();
    this.#pendingOwn.set(batchSeq, batch);
    this.#drainPending();
    if (batchSeq <= this.#readable) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ batchSeq, resolve }));
  }

  watch(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Called whenever `readable` moves (open waits on it to catch up). */
  onProgress(fn: () => void): () => void {
    this.#progress.add(fn);
    return () => {
      this.#progress.delete(fn);
    };
  }

  /**
   * The stream sequence below which this instance needs nothing: no record it holds lives
   * there, and it has seen everything there (never above `readable`, so batches it has not
   * read yet, its own acknowledged ones included, are kept).
   */
  purgeableBelow(): number {
    const lowest = this.index.lowestBatch();
    const unseen = this.#readable + 1;
    return lowest === undefined ? unseen : Math.min(lowest, unseen);
  }

  #takePending(batchSeq: number): DecodedBatch | undefined {
    const batch = this.#pendingOwn.get(batchSeq);
    this.#pendingOwn.delete(batchSeq);
    return batch;
  }

  #drainPending(): void {
    for (;;) {
      const next = this.#takePending(this.#readable + 1);
      if (!next) break;
      this.#insert(this.#readable + 1, next);
    }
    if (this.#waiters.length > 0) {
      const ready = this.#waiters.filter((w) => w.batchSeq <= this.#readable);
      this.#waiters = this.#waiters.filter((w) => w.batchSeq > this.#readable);
      for (const w of ready) w.resolve();
    }
  }

  #decode(batchSeq: number, payload: Uint8Array): DecodedBatch {
    try {
      return decodeFrame(payload);
    } catch (err) {
      // Not ours (someone published on the log subject): nothing to index, the log goes on.
      this.#log('warn', `store: skipping log message ${batchSeq}: ${String(err)}`);
      return { items: [], bytes: 0 };
    }
  }

  #insert(batchSeq: number, batch: DecodedBatch): void {
    this.#readable = Math.max(this.#readable, batchSeq);
    const seen = new Set<string>();
    batch.items.forEach((item, k) => {
      if (this.index.insert(item.stream, itemSeq(batchSeq, k), item.expiresAtMs)) seen.add(item.stream);
    });
    if (seen.size > 0) this.cache.set(batchSeq, batch);
    for (const fn of this.#progress) fn();
    if (seen.size === 0) return;
    const streams = [...seen];
    for (const listener of this.#listeners) {
      try {
        listener(streams);
      } catch (err) {
        this.#log('warn', `store: a log watch listener threw: ${String(err)}`);
      }
    }
  }
}
