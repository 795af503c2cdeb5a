/**
 * The MessageLog of the JetStream store: appends go through group commit (appender.ts),
 * reads, counts and stream lists are answered from this instance's index (log-view.ts)
 * with payloads from the batch cache or the server (log-reader.ts), trims are shared
 * through a KV bucket (trims.ts), and `watch` reports every batch that becomes readable
 * here, whoever appended it.
 */
import { assert } from '../../errors.js';
import type { AppendItem, LogRecord, MessageLog } from '../types.js';
import type { Appender } from './appender.js';
import { toStoreError } from './failures.js';
import type { LogReader } from './log-reader.js';
import type { LogView } from './log-view.js';
import { retryUnavailable } from './retry.js';
import { assertSeq } from './seqs.js';
import type { Trims } from './trims.js';

export interface LogParts {
  readonly appender: Appender;
  readonly reader: LogReader;
  readonly view: LogView;
  readonly trims: Trims;
  /** Throws TANDEM_E_STORE once the store is closed. */
  readonly check: (what: string) => void;
}

export class JetStreamLog implements MessageLog {
  readonly #p: LogParts;

  constructor(parts: LogParts) {
    this.#p = parts;
  }

  append(items: readonly AppendItem[]): Promise<number[]> {
    return this.#p.appender.append(items);
  }

  async read(stream: string, afterSeq: number, max: number): Promise<LogRecord[]> {
    assert(typeof stream === 'string', 'stream is a string');
    assertSeq(afterSeq, 'afterSeq');
    assert(Number.isSafeInteger(max) && max >= 0, 'max is a non-negative integer');
    this.#p.check('log read');
    try {
      return await retryUnavailable(() => this.#p.reader.read(stream, afterSeq, max), 'read');
    } catch (err) {
      throw toStoreError(err, 'log read');
    }
  }

  async trim(stream: string, uptoSeq: number): Promise<void> {
    this.#p.check('log trim');
    try {
      await this.#p.trims.trim(stream, uptoSeq);
    } catch (err) {
      throw toStoreError(err, 'log trim');
    }
  }

  async count(stream: string, afterSeq: number): Promise<number> {
    assertSeq(afterSeq, 'afterSeq');
    this.#p.check('log count');
    return this.#p.view.index.count(stream, afterSeq);
  }

  async streams(): Promise<string[]> {
    this.#p.check('log streams');
    return this.#p.view.index.streams();
  }

  watch(listener: (streams: readonly string[]) => void): () => void {
    this.#p.check('log watch');
    return this.#p.view.watch(listener);
  }
}
