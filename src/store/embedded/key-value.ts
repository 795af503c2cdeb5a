/**
 * The key-value map: identities, twins, leases. Every write takes the next number of one
 * store-wide `kvRevision` counter, so a key's revision increases on every write and never
 * repeats, not even after the key is deleted and created again: a holder of an old revision
 * cannot win a compare-and-set against the new key (fencing). NATS KV numbers revisions the
 * same way, so both backends agree. Compare-and-set runs inside the write transaction,
 * which holds LMDB's cross-process write lock.
 */

import { assert, TandemError } from '../../errors.js';
import type { KeyValue, KvEntry, PutOptions } from '../types.js';
import { decodeText, headerOf, payloadOf, textKey, withHeader } from './codec.js';
import type { StoreContext } from './context.js';
import { readCounter, writeCounter } from './counters.js';

function assertExpected(options: PutOptions | undefined): number | undefined {
  const expected = options?.expectedRevision;
  if (expected !== undefined) assertRevision(expected);
  return expected;
}

function assertRevision(revision: number): void {
  assert(Number.isSafeInteger(revision) && revision >= 0, 'expectedRevision is a non-negative integer');
}

function conflict(key: string, expected: number, actual: number): TandemError {
  return new TandemError(
    'TANDEM_E_STORE_CONFLICT',
    `key ${JSON.stringify(key)} is at revision ${actual}, expected ${expected}`,
    { details: { key, expectedRevision: expected, revision: actual } },
  );
}

export class EmbeddedKeyValue implements KeyValue {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async get(key: string): Promise<KvEntry | undefined> {
    const k = textKey(key, 'key');
    return this.#ctx.read('kv get', () => {
      const value = this.#ctx.env.kv.get(k);
      return value === undefined ? undefined : { key, value: payloadOf(value), revision: headerOf(value) };
    });
  }

  async put(key: string, value: Uint8Array, options?: PutOptions): Promise<number> {
    const k = textKey(key, 'key');
    const expected = assertExpected(options);
    assert(value instanceof Uint8Array, 'kv value is a Uint8Array');
    const { kv, meta } = this.#ctx.env;
    return this.#ctx.write(() => {
      const current = kv.get(k);
      const actual = current === undefined ? 0 : headerOf(current);
      if (expected !== undefined && expected !== actual) throw conflict(key, expected, actual);
      const revision = readCounter(meta, 'kvRevision') + 1;
      writeCounter(meta, 'kvRevision', revision);
      kv.putSync(k, withHeader(revision, value));
      return revision;
    }, value.length);
  }

  async delete(key: string, options?: PutOptions): Promise<boolean> {
    const k = textKey(key, 'key');
    const expected = assertExpected(options);
    const { kv } = this.#ctx.env;
    return this.#ctx.write(() => {
      const current = kv.get(k);
      const actual = current === undefined ? 0 : headerOf(current);
      if (expected !== undefined && expected !== actual) throw conflict(key, expected, actual);
      if (current === undefined) return false;
      kv.removeSync(k);
      return true;
    });
  }

  /** Sorted by JavaScript string order, which the JetStream backend can reproduce exactly. */
  async list(prefix: string): Promise<KvEntry[]> {
    const start = prefix === '' ? undefined : Buffer.from(prefix, 'utf8');
    return this.#ctx.read('kv list', () => {
      const entries: KvEntry[] = [];
      for (const { key, value } of this.#ctx.env.kv.getRange(start ? { start } : {})) {
        if (start && !key.subarray(0, start.length).equals(start)) break;
        entries.push({ key: decodeText(key), value: payloadOf(value), revision: headerOf(value) });
      }
      return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }
}
