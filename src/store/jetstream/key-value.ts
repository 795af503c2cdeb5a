/**
 * The key-value map on the NATS KV bucket `${prefix}_KV` (history 1, replicated like the log).
 *
 * Revisions are the bucket stream's sequence numbers: they increase with every write of any
 * key and are never reused, not after a delete either (a delete writes a marker, which takes
 * a sequence number of its own), exactly what fencing needs and what the embedded store does.
 *
 * - put without expectedRevision: a plain write.
 * - put with expectedRevision (0: absent or deleted, so a deleted key can be created again;
 *   N: the key's live revision) is a compare-and-set (kv-cas.ts, which also explains why not
 *   nats.js' create/update on nats-server 2.9); a lost race is TANDEM_E_STORE_CONFLICT.
 * - delete reads first (the contract answers whether the key existed), then writes a delete
 *   marker by compare-and-set on the revision it read, so it cannot delete a newer write it
 *   did not see; a lost race is retried when the caller gave no revision, a conflict when
 *   it did.
 * - get and list read from the stream leader (no direct gets, see streams.ts).
 * Keys are escaped (kv-keys.ts).
 */
import { assert, TandemError } from '../../errors.js';
import type { KvChange, KvEntry, PutOptions, WatchableKeyValue } from '../types.js';
import { BucketWatcher } from './bucket-watcher.js';
import { toStoreError } from './failures.js';
import { type Bucket, getLive, scanBucket } from './kv-bucket.js';
import { CasConflict, compareAndSet } from './kv-cas.js';
import { escapeKey, escapeKeyPrefix, unescapeKey } from './kv-keys.js';
import { retryUnavailable } from './retry.js';

export interface KeyValueContext {
  readonly bucket: Bucket;
  /** Throws TANDEM_E_STORE once the store is closed. */
  readonly check: (what: string) => void;
  readonly alive: () => boolean;
  /** Live watches, stopped when the store closes. */
  readonly watchers: Set<{ stop(): Promise<void> }>;
}

function expectedOf(options: PutOptions | undefined): number | undefined {
  const expected = options?.expectedRevision;
  if (expected !== undefined) {
    assert(Number.isSafeInteger(expected) && expected >= 0, 'expectedRevision is a non-negative integer');
  }
  return expected;
}

function conflict(key: string, expected: number, actual: number): TandemError {
  return new TandemError(
    'TANDEM_E_STORE_CONFLICT',
    `key ${JSON.stringify(key)} is at revision ${actual}, expected ${expected}`,
    { details: { key, expectedRevision: expected, revision: actual } },
  );
}

const byKey = (a: KvEntry, b: KvEntry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export class JetStreamKeyValue implements WatchableKeyValue {
  readonly #c: KeyValueContext;

  constructor(context: KeyValueContext) {
    this.#c = context;
  }

  async get(key: string): Promise<KvEntry | undefined> {
    const k = escapeKey(key);
    this.#c.check('kv get');
    try {
      const e = await getLive(this.#c.bucket.kv, k);
      return e ? { key, value: new Uint8Array(e.value), revision: e.revision } : undefined;
    } catch (err) {
      throw toStoreError(err, `kv get ${JSON.stringify(key)}`);
    }
  }

  async put(key: string, value: Uint8Array, options?: PutOptions): Promise<number> {
    const k = escapeKey(key);
    const expected = expectedOf(options);
    assert(value instanceof Uint8Array, 'kv value is a Uint8Array');
    this.#c.check('kv put');
    try {
      const { kv } = this.#c.bucket;
      if (expected === undefined) return await retryUnavailable(() => kv.put(k, value), 'write');
      return await compareAndSet(this.#c.bucket, k, value, expected);
    } catch (err) {
      if (err instanceof CasConflict) throw conflict(key, expected ?? 0, err.revision);
      throw toStoreError(err, `kv put ${JSON.stringify(key)}`);
    }
  }

  async delete(key: string, options?: PutOptions): Promise<boolean> {
    const k = escapeKey(key);
    const expected = expectedOf(options);
    this.#c.check('kv delete');
    try {
      for (;;) {
        const current = await getLive(this.#c.bucket.kv, k);
        const actual = current?.revision ?? 0;
        if (expected !== undefined && expected !== actual) throw new CasConflict(actual);
        if (!current) return false;
        try {
          await compareAndSet(this.#c.bucket, k, undefined, actual);
          return true;
        } catch (err) {
          // Without an expected revision, a write in between only means: look again.
          if (!(err instanceof CasConflict) || expected !== undefined) throw err;
        }
      }
    } catch (err) {
      if (err instanceof CasConflict) throw conflict(key, expected ?? 0, err.revision);
      throw toStoreError(err, `kv delete ${JSON.stringify(key)}`);
    }
  }

  async list(prefix: string): Promise<KvEntry[]> {
    assert(typeof prefix === 'string', 'prefix is a string');
    this.#c.check('kv list');
    const escaped = escapeKeyPrefix(prefix);
    let raw: Awaited<ReturnType<typeof scanBucket>>;
    try {
      raw = await retryUnavailable(() => scanBucket(this.#c.bucket), 'read');
    } catch (err) {
      throw toStoreError(err, 'kv list');
    }
    return raw
      .filter((e) => e.key.startsWith(escaped) && e.value !== undefined)
      .map((e) => ({ key: unescapeKey(e.key), value: new Uint8Array(e.value!), revision: e.revision }))
      .sort(byKey);
  }

  async watch(prefix: string, onChange: (change: KvChange) => void): Promise<{ stop(): void }> {
    assert(typeof prefix === 'string', 'prefix is a string');
    this.#c.check('kv watch');
    const escaped = escapeKeyPrefix(prefix);
    const deliver = (change: KvChange) => {
      try {
        onChange(change);
      } catch (err) {
        this.#c.bucket.log('warn', `store: a kv watch callback threw: ${String(err)}`);
      }
    };
    try {
      const watcher = await BucketWatcher.start({
        bucket: this.#c.bucket,
        alive: this.#c.alive,
        onEntry: (e) => {
          if (!e.key.startsWith(escaped)) return;
          deliver({
            key: unescapeKey(e.key),
            revision: e.revision,
            value: e.value && new Uint8Array(e.value),
          });
        },
      });
      this.#c.watchers.add(watcher);
      return {
        stop: () => {
          this.#c.watchers.delete(watcher);
          void watcher.stop();
        },
      };
    } catch (err) {
      throw toStoreError(err, `kv watch ${JSON.stringify(prefix)}`);
    }
  }
}
