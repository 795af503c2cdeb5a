/**
 * Decoded log batches, least recently used first out, bounded in bytes (the frames' sizes).
 * A store's own appends go in as they are acknowledged and other replicas' batches as the
 * tailer reads them, so the records a hub delivers next are usually here; a miss costs one
 * get of that batch from JetStream (log-reader.ts).
 */
import type { DecodedBatch } from './frame.js';

export class BatchCache {
  readonly #bytesMax: number;
  /** Map iteration order is insertion order: the first key is the least recently used. */
  readonly #batches = new Map<number, DecodedBatch>();
  #bytes = 0;

  constructor(bytesMax: number) {
    this.#bytesMax = bytesMax;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(batchSeq: number): DecodedBatch | undefined {
    const batch = this.#batches.get(batchSeq);
    if (batch) {
      this.#batches.delete(batchSeq);
      this.#batches.set(batchSeq, batch);
    }
    return batch;
  }

  set(batchSeq: number, batch: DecodedBatch): void {
    if (batch.bytes > this.#bytesMax) return;
    this.delete(batchSeq);
    this.#batches.set(batchSeq, batch);
    this.#bytes += batch.bytes;
    for (const [seq, old] of this.#batches) {
      if (this.#bytes <= this.#bytesMax) break;
      this.#batches.delete(seq);
      this.#bytes -= old.bytes;
    }
  }

  delete(batchSeq: number): void {
    const old = this.#batches.get(batchSeq);
    if (old) {
      this.#batches.delete(batchSeq);
      this.#bytes -= old.bytes;
    }
  }
}
