/**
 * Trims, shared by every store instance on the log: the KV bucket `${prefix}_TRIM` holds,
 * per stream (escaped key), the seq up to which its records are gone, only ever raised
 * (compare-and-set, kv-bucket.ts). Every instance watches the bucket and drops those records
 * from its index, so a record delivered and trimmed by one hub replica is gone for all.
 * Storage comes back separately and in bulk (purger.ts).
 *
 * A trim writes the bucket first and then drops the records here: the index never runs
 * ahead of what is durable. A trim that cannot drop anything (the stream holds nothing up to
 * that seq, and every batch that could hold such a record has been seen) writes nothing:
 * repeated trims, the common case, cost no round trip.
 */
import { BucketWatcher } from './bucket-watcher.js';
import { prepareItem } from './frame.js';
import { type Bucket, decodeNumber, setMonotonic } from './kv-bucket.js';
import { escapeKey, unescapeKey } from './kv-keys.js';
import type { LogView } from './log-view.js';
import { assertSeq, batchOf } from './seqs.js';

export interface TrimsOptions {
  readonly bucket: Bucket;
  readonly view: LogView;
  /** Called when a trim dropped records: storage may be reclaimable. */
  readonly onDropped: () => void;
  readonly alive: () => boolean;
}

export class Trims {
  readonly #o: TrimsOptions;
  #watcher: BucketWatcher | undefined;

  constructor(o: TrimsOptions) {
    this.#o = o;
  }

  /** Loads every recorded trim, then follows new ones. Call before the log is read. */
  async start(): Promise<void> {
    this.#watcher = await BucketWatcher.start({
      bucket: this.#o.bucket,
      alive: this.#o.alive,
      onEntry: (e) => {
        if (e.value !== undefined) this.#apply(unescapeKey(e.key), decodeNumber(e.value));
      },
    });
  }

  async trim(stream: string, uptoSeq: number): Promise<void> {
    assertSeq(uptoSeq, 'uptoSeq');
    prepareItem({ stream, data: new Uint8Array(0), expiresAtMs: 0 });
    const { index } = this.#o.view;
    if (uptoSeq <= index.trimmedUpto(stream)) return;
    if (!index.holdsUpTo(stream, uptoSeq) && this.#o.view.readable >= batchOf(uptoSeq)) return;
    await setMonotonic(this.#o.bucket, escapeKey(stream, 'stream name'), uptoSeq);
    this.#apply(stream, uptoSeq);
  }

  #apply(stream: string, uptoSeq: number): void {
    if (this.#o.view.index.trim(stream, uptoSeq)) this.#o.onDropped();
  }

  async stop(): Promise<void> {
    await this.#watcher?.stop();
  }
}
