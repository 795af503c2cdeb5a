/**
 * Counters kept in the `meta` database, read and written inside the write transaction so
 * that they move in the same commit as the data they number (and so that two processes
 * writing the same store never hand out the same number).
 */
import { headerOf, numberValue } from './codec.js';
import type { BinaryDb } from './lmdb-env.js';

export type CounterName = 'logSeq' | 'kvRevision';

const keys: Record<CounterName, Buffer> = {
  logSeq: Buffer.from('logSeq'),
  kvRevision: Buffer.from('kvRevision'),
};

export function readCounter(meta: BinaryDb, name: CounterName): number {
  const value = meta.get(keys[name]);
  return value === undefined ? 0 : headerOf(value);
}

export function writeCounter(meta: BinaryDb, name: CounterName, value: number): void {
  meta.putSync(keys[name], numberValue(value));
}
