/**
 * Group commit for the JetStream log. Appends queue up; a flush packs every queued append
 * (up to one frame: below the server's max_payload, at most 65536 items) into ONE JetStream
 * message, so one replicated write carries many appends, and an append's items, being in
 * one message, are stored all or none.
 *
 * Flushes in flight are bounded by limits.jetstreamFlushesInflightMax, which is 1: pipelined
 * publishes keep their order only while nothing is lost, and a batch retried after its
 * server died must not be overtaken by a later one (see the limit). A flush starts at the end of the event-loop turn in which
 * appends were queued (setImmediate), so appends issued together go together.
 *
 * Failures:
 * - an invalid item rejects its append before anything is queued;
 * - an append that cannot fit one frame on its own, and a frame the stream refuses for its
 *   size cap, fail with TANDEM_E_STORE_FULL: nothing of them is stored;
 * - no responders / a timeout (a leader election, a reconnect) are retried with the same
 *   Nats-Msg-Id, so a batch whose acknowledgement was lost is not stored twice (the stream's
 *   duplicate window covers the retries), until the oldest append of the flush has waited
 *   limits.jetstreamAppendTimeoutMs; then TANDEM_E_STORE (the batch may still have been stored:
 *   the hub withholds the PUBACK and the client sends again, at least once). While a flush
 *   retries, no new flush starts, so a batch sent later cannot overtake it.
 */
import { randomUUID } from 'node:crypto';
import { TandemError } from '../../errors.js';
import { limits } from '../../limits.js';
import type { AppendItem } from '../types.js';
import type { StoreLog } from './connection.js';
import { closedError, isRetriable, toStoreError } from './failures.js';
import { FrameBuilder, frameItemsMax, type PreparedItem, prepareItem } from './frame.js';
import { itemSeq } from './seqs.js';

export interface AppenderDeps {
  /** Publishes one frame; resolves with its stream sequence. */
  readonly publish: (frame: Uint8Array, msgId: string, timeoutMs: number) => Promise<number>;
  /** The largest frame the connection's server takes. */
  readonly frameBytesMax: () => number;
  /** The frame is stored at `batchSeq`; resolves once its records are readable here. */
  readonly committed: (batchSeq: number, frame: Uint8Array, deadlineMs: number) => Promise<void>;
  /** False once the connection is closed for good (nothing to retry then). */
  readonly alive: () => boolean;
  readonly log: StoreLog;
}

export interface AppendStats {
  /** JetStream messages (batches) stored. */
  readonly batches: number;
  /** Appends those batches carried. */
  readonly appends: number;
  /** Items (records) those batches carried. */
  readonly items: number;
  /** Publish attempts sent again after no responders or a timeout. */
  readonly retries: number;
}

interface Queued {
  readonly items: readonly PreparedItem[];
  readonly enqueuedMs: number;
  readonly resolve: (seqs: number[]) => void;
  readonly reject: (err: unknown) => void;
}

const retryPauseMs = 250;

export class Appender {
  readonly #deps: AppenderDeps;
  readonly #msgIdPrefix = randomUUID();
  #queue: Queued[] = [];
  #inflight = 0;
  #retrying = 0;
  #scheduled = false;
  #closed = false;
  #flushNo = 0;
  #idle: (() => void) | undefined;
  #stats = { batches: 0, appends: 0, items: 0, retries: 0 };

  constructor(deps: AppenderDeps) {
    this.#deps = deps;
  }

  stats(): AppendStats {
    return { ...this.#stats };
  }

  async append(items: readonly AppendItem[]): Promise<number[]> {
    if (this.#closed) throw closedError('log append');
    if (items.length === 0) return [];
    const prepared = items.map(prepareItem);
    const alone = new FrameBuilder();
    const bytes = alone.bytes + alone.growthOf(prepared);
    if (bytes > this.#deps.frameBytesMax() || prepared.length > frameItemsMax) {
      throw new TandemError(
        'TANDEM_E_STORE_FULL',
        `an append of ${prepared.length} items and ${bytes} bytes does not fit one JetStream message`,
        { details: { reason: 'message', bytes, frameBytesMax: this.#deps.frameBytesMax() } },
      );
    }
    return new Promise<number[]>((resolve, reject) => {
      this.#queue.push({ items: prepared, enqueuedMs: Date.now(), resolve, reject });
      this.#schedule();
    });
  }

  /** Refuses new appends and waits until every queued one is settled. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#queue.length === 0 && this.#inflight === 0) return;
    await new Promise<void>((resolve) => {
      this.#idle = resolve;
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (
      this.#queue.length > 0 &&
      this.#inflight < limits.jetstreamFlushesInflightMax &&
      this.#retrying === 0
    ) {
      const taken = this.#take();
      if (taken) void this.#flush(taken.appends, taken.frame);
    }
    if (this.#queue.length === 0 && this.#inflight === 0) this.#idle?.();
  }

  /** The next frame's appends, oldest first; appends that waited too long fail here. */
  #take(): { appends: Queued[]; frame: FrameBuilder } | undefined {
    const frame = new FrameBuilder();
    const max = this.#deps.frameBytesMax();
    const expired = Date.now() - limits.jetstreamAppendTimeoutMs;
    const appends: Queued[] = [];
    let n = 0;
    if (this.#queue.length > 0 && this.#queue[0]!.enqueuedMs < expired) {
      this.#failQueued(
        new TandemError('TANDEM_E_STORE', 'log append: the JetStream log did not answer in time'),
      );
      return undefined;
    }
    for (; n < this.#queue.length; n++) {
      const next = this.#queue[n]!;
      const fits = frame.bytes + frame.growthOf(next.items) <= max;
      if (appends.length > 0 && (!fits || frame.itemCount + next.items.length > frameItemsMax)) break;
      frame.add(next.items);
      appends.push(next);
    }
    // One splice per frame: shift() per append is quadratic on a long queue.
    this.#queue.splice(0, n);
    return appends.length > 0 ? { appends, frame } : undefined;
  }

  async #flush(appends: Queued[], builder: FrameBuilder): Promise<void> {
    this.#inflight++;
    try {
      const frame = builder.encode();
      const deadline = appends[0]!.enqueuedMs + limits.jetstreamAppendTimeoutMs;
      const batchSeq = await this.#publish(frame, `${this.#msgIdPrefix}.${++this.#flushNo}`, deadline);
      let k = 0;
      const seqs = appends.map((a) => a.items.map(() => itemSeq(batchSeq, k++)));
      this.#stats.batches++;
      this.#stats.appends += appends.length;
      this.#stats.items += k;
      await this.#deps.committed(batchSeq, frame, deadline);
      for (const [i, a] of appends.entries()) a.resolve(seqs[i]!);
    } catch (err) {
      const error = toStoreError(err, 'log append');
      for (const a of appends) a.reject(error);
      this.#failQueued(error);
    } finally {
      this.#inflight--;
      this.#pump();
    }
  }

  /**
   * Fails every queued append. They were issued after the one that failed, perhaps by the
   * same sender: storing them would put that sender's later messages before the failed one,
   * which the sender (given no PUBACK) sends again after them (G2). So all of them fail too,
   * and are sent again, in order.
   */
  #failQueued(error: TandemError): void {
    const queued = this.#queue.splice(0, this.#queue.length);
    for (const a of queued) a.reject(error);
  }

  async #publish(frame: Uint8Array, msgId: string, deadline: number): Promise<number> {
    let retrying = false;
    try {
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new TandemError('TANDEM_E_STORE', 'log append: the JetStream log did not answer in time');
        }
        try {
          return await this.#deps.publish(
            frame,
            msgId,
            Math.min(left, limits.jetstreamPublishAttemptTimeoutMs),
          );
        } catch (err) {
          if (!isRetriable(err) || !this.#deps.alive()) throw err;
          if (!retrying) {
            retrying = true;
            this.#retrying++;
            this.#deps.log('warn', `store: log append waiting for JetStream (${String(err)})`);
          }
          this.#stats.retries++;
          await new Promise((resolve) => setTimeout(resolve, Math.min(retryPauseMs, Math.max(0, left))));
        }
      }
    } finally {
      if (retrying) this.#retrying--;
    }
  }
}
