/**
 * The durable message log on LMDB: one B-tree keyed `stream | seq` (codec.ts), so reading a
 * stream after a position, counting it and trimming it are range scans.
 *
 * Sequence numbers come from the `logSeq` counter, read and advanced inside the same
 * transaction that stores the records: they are unique and increasing across streams,
 * processes and restarts, and a failed transaction gives its numbers back unused.
 */

import { assert } from '../../errors.js';
import type { AppendItem, LogRecord, MessageLog } from '../types.js';
import {
  assertSeq,
  decodeLogKey,
  headerOf,
  logKey,
  logKeyEnd,
  logRecordBytes,
  payloadOf,
  streamPrefix,
  withHeader,
} from './codec.js';
import type { StoreContext } from './context.js';
import { readCounter, writeCounter } from './counters.js';

/** Records one trim transaction deletes; a long trim takes several, so appends are not held up. */
const trimRecordsPerTransactionMax = 10_000;

interface PreparedItem {
  readonly prefix: Buffer;
  readonly value: Buffer;
  readonly bytes: number;
}

function prepare(item: AppendItem): PreparedItem {
  assert(item.data instanceof Uint8Array, 'append item data is a Uint8Array');
  assert(Number.isFinite(item.expiresAtMs) && item.expiresAtMs >= 0, 'expiresAtMs is a finite number >= 0');
  return {
    prefix: streamPrefix(item.stream),
    value: withHeader(item.expiresAtMs, item.data),
    bytes: logRecordBytes(item.stream, item.data),
  };
}

export class EmbeddedLog implements MessageLog {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async append(items: readonly AppendItem[]): Promise<number[]> {
    if (items.length === 0) return [];
    // Encode before queueing: a bad item is refused alone instead of inside a transaction.
    const prepared = items.map(prepare);
    const sizes = prepared.map((p) => p.bytes);
    const totalBytes = sizes.reduce((a, b) => a + b, 0);
    const { log, meta } = this.#ctx.env;
    return this.#ctx.write(() => {
      this.#ctx.space.admit(sizes);
      const first = readCounter(meta, 'logSeq') + 1;
      const seqs = prepared.map((p, i) => {
        log.putSync(logKey(p.prefix, first + i), p.value);
        return first + i;
      });
      writeCounter(meta, 'logSeq', first + prepared.length - 1);
      return seqs;
    }, totalBytes);
  }

  async read(stream: string, afterSeq: number, max: number): Promise<LogRecord[]> {
    assertSeq(afterSeq, 'afterSeq');
    assert(Number.isSafeInteger(max) && max >= 0, 'max is a non-negative integer');
    return this.#ctx.read('log read', () => {
      if (max === 0) return [];
      const prefix = streamPrefix(stream);
      const range = this.#ctx.env.log.getRange({
        start: logKey(prefix, afterSeq + 1),
        end: logKeyEnd(prefix),
        limit: max,
      });
      const records: LogRecord[] = [];
      for (const { key, value } of range) {
        const { seq } = decodeLogKey(key);
        records.push({ stream, seq, data: payloadOf(value), expiresAtMs: headerOf(value) });
      }
      return records;
    });
  }

  async trim(stream: string, uptoSeq: number): Promise<void> {
    assertSeq(uptoSeq, 'uptoSeq');
    const prefix = streamPrefix(stream);
    const range = { start: logKey(prefix, 0), end: logKey(prefix, uptoSeq + 1) };
    const { log } = this.#ctx.env;
    for (;;) {
      // Nothing to drop is the common case of a repeated trim: no transaction, no fsync.
      const any = await this.#ctx.read('log trim', () => [...log.getKeys({ ...range, limit: 1 })].length > 0);
      if (!any) return;
      const removed = await this.#ctx.write(() => {
        const keys = [...log.getKeys({ ...range, limit: trimRecordsPerTransactionMax })];
        for (const key of keys) log.removeSync(key);
        return keys.length;
      });
      if (removed < trimRecordsPerTransactionMax) return;
    }
  }

  async count(stream: string, afterSeq: number): Promise<number> {
    assertSeq(afterSeq, 'afterSeq');
    return this.#ctx.read('log count', () => {
      const prefix = streamPrefix(stream);
      return this.#ctx.env.log.getKeysCount({ start: logKey(prefix, afterSeq + 1), end: logKeyEnd(prefix) });
    });
  }

  /** Skip-scan: the first key of each stream, then jump past that stream's range. */
  async streams(): Promise<string[]> {
    return this.#ctx.read('log streams', () => {
      const names: string[] = [];
      let start: Buffer | undefined;
      for (;;) {
        const [key] = [...this.#ctx.env.log.getKeys(start ? { start, limit: 1 } : { limit: 1 })];
        if (!key) break;
        const { stream } = decodeLogKey(key);
        names.push(stream);
        start = logKeyEnd(streamPrefix(stream));
      }
      return names.sort();
    });
  }
}
