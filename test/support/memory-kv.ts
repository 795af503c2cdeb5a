/**
 * An in-memory KeyValue for unit tests, following the contract of src/store/types.ts:
 * revisions increase on every write, `expectedRevision` is compare-and-set (0 = only if
 * absent), a lost race is TANDEM_E_STORE_CONFLICT, values are copied in and out so callers
 * cannot change stored bytes, and list() is sorted by key.
 */
import { TandemError } from '../../src/errors.js';
import type { KeyValue, KvEntry, PutOptions } from '../../src/store/types.js';

interface Stored {
  readonly value: Uint8Array;
  readonly revision: number;
}

/** A copy even for a Buffer, whose slice() would share memory. */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export class MemoryKeyValue implements KeyValue {
  readonly #entries = new Map<string, Stored>();
  /** One counter for the whole map, like a JetStream KV bucket's stream sequence. */
  #lastRevision = 0;

  async get(key: string): Promise<KvEntry | undefined> {
    const s = this.#entries.get(key);
    return s === undefined ? undefined : { key, value: copy(s.value), revision: s.revision };
  }

  async put(key: string, value: Uint8Array, options?: PutOptions): Promise<number> {
    this.#check(key, options);
    const revision = ++this.#lastRevision;
    this.#entries.set(key, { value: copy(value), revision });
    return revision;
  }

  async delete(key: string, options?: PutOptions): Promise<boolean> {
    this.#check(key, options);
    return this.#entries.delete(key);
  }

  async list(prefix: string): Promise<KvEntry[]> {
    const keys = [...this.#entries.keys()].filter((k) => k.startsWith(prefix)).sort();
    return keys.map((key) => {
      const s = this.#entries.get(key)!;
      return { key, value: copy(s.value), revision: s.revision };
    });
  }

  #check(key: string, options: PutOptions | undefined): void {
    const expected = options?.expectedRevision;
    if (expected === undefined) return;
    const actual = this.#entries.get(key)?.revision ?? 0;
    if (actual !== expected) {
      throw new TandemError('TANDEM_E_STORE_CONFLICT', `revision of ${key} is ${actual}, not ${expected}`, {
        details: { key, expectedRevision: expected, actualRevision: actual },
      });
    }
  }
}
