/**
 * Consumer checkpoints in the KV bucket `${prefix}_CKPT`: one key per consumer (escaped,
 * kv-keys.ts), its value the seq as decimal text (readable with `nats kv get`). `set` only
 * moves a checkpoint forward, by compare-and-set on the key's revision (kv-bucket.ts), so
 * two hub replicas racing cannot move it back.
 */
import type { Checkpoints } from '../types.js';
import { toStoreError } from './failures.js';
import { type Bucket, decodeNumber, getLive, scanBucket, setMonotonic } from './kv-bucket.js';
import { escapeKey, unescapeKey } from './kv-keys.js';
import { retryUnavailable } from './retry.js';
import { assertSeq } from './seqs.js';

export interface CheckpointsContext {
  readonly bucket: Bucket;
  readonly check: (what: string) => void;
}

export class JetStreamCheckpoints implements Checkpoints {
  readonly #c: CheckpointsContext;

  constructor(context: CheckpointsContext) {
    this.#c = context;
  }

  async get(consumer: string): Promise<number> {
    const key = escapeKey(consumer, 'consumer');
    this.#c.check('checkpoint get');
    try {
      const e = await getLive(this.#c.bucket.kv, key);
      return e ? decodeNumber(e.value) : 0;
    } catch (err) {
      throw toStoreError(err, 'checkpoint get');
    }
  }

  async set(consumer: string, seq: number): Promise<void> {
    assertSeq(seq, 'checkpoint seq');
    const key = escapeKey(consumer, 'consumer');
    this.#c.check('checkpoint set');
    try {
      await setMonotonic(this.#c.bucket, key, seq);
    } catch (err) {
      throw toStoreError(err, 'checkpoint set');
    }
  }

  async list(): Promise<Map<string, number>> {
    this.#c.check('checkpoint list');
    try {
      const all = new Map<string, number>();
      for (const e of await retryUnavailable(() => scanBucket(this.#c.bucket), 'read')) {
        all.set(unescapeKey(e.key), decodeNumber(e.value!));
      }
      return all;
    } catch (err) {
      throw toStoreError(err, 'checkpoint list');
    }
  }
}
