/**
 * `read` of the JetStream log: positions come from the index, payloads from the batch cache
 * or, on a miss, one get of the whole batch (a later read of its other records hits the
 * cache). A direct get may be answered by any replica (the stream allows direct gets), so a
 * replica that has not applied the batch yet answers "not found"; then the stream leader
 * is asked. If the leader has not got it either, the batch was purged by another hub
 * replica that saw its records trimmed before this one did: its records are dropped from
 * the index and the read is made again.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { assert } from '../../errors.js';
import type { LogRecord } from '../types.js';
import type { StoreLog } from './connection.js';
import { type DecodedBatch, decodeFrame } from './frame.js';
import type { IndexEntry } from './log-index.js';
import type { LogView } from './log-view.js';
import { batchOf, indexOf } from './seqs.js';

/** Reads made again after finding purged batches; one more finds none in practice. */
const readAttemptsMax = 3;

export class LogReader {
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #view: LogView;
  readonly #log: StoreLog;
  readonly #loading = new Map<number, Promise<DecodedBatch | undefined>>();
  #fetches = 0;

  constructor(jsm: JetStreamManager, stream: string, view: LogView, log: StoreLog) {
    this.#jsm = jsm;
    this.#stream = stream;
    this.#view = view;
    this.#log = log;
  }

  /** Batches fetched from the server (cache misses). */
  get fetches(): number {
    return this.#fetches;
  }

  async read(stream: string, afterSeq: number, max: number): Promise<LogRecord[]> {
    for (let attempt = 1; ; attempt++) {
      const entries = this.#view.index.range(stream, afterSeq, max);
      const seqs = [...new Set(entries.map((e) => batchOf(e.seq)))];
      const batches = new Map<number, DecodedBatch | undefined>();
      await Promise.all(seqs.map(async (s) => batches.set(s, await this.#batch(s))));
      const gone = seqs.filter((s) => batches.get(s) === undefined);
      if (gone.length === 0 || attempt === readAttemptsMax) return this.#records(stream, entries, batches);
      for (const s of gone) {
        this.#log('info', `store: log batch ${s} was purged by another replica; dropping its records`);
        this.#view.index.dropBatch(s);
      }
    }
  }

  #records(
    stream: string,
    entries: IndexEntry[],
    batches: Map<number, DecodedBatch | undefined>,
  ): LogRecord[] {
    const records: LogRecord[] = [];
    for (const e of entries) {
      const batch = batches.get(batchOf(e.seq));
      if (!batch) continue;
      const item = batch.items[indexOf(e.seq)];
      assert(item?.stream === stream, `log seq ${e.seq} holds a record of stream ${stream}`);
      // A copy: the batch stays cached and callers own what they get.
      records.push({ stream, seq: e.seq, data: new Uint8Array(item.data), expiresAtMs: e.expiresAtMs });
    }
    return records;
  }

  #batch(batchSeq: number): Promise<DecodedBatch | undefined> {
    const cached = this.#view.cache.get(batchSeq);
    if (cached) return Promise.resolve(cached);
    let loading = this.#loading.get(batchSeq);
    if (!loading) {
      loading = this.#fetch(batchSeq).finally(() => this.#loading.delete(batchSeq));
      this.#loading.set(batchSeq, loading);
    }
    return loading;
  }

  async #fetch(batchSeq: number): Promise<DecodedBatch | undefined> {
    this.#fetches++;
    let data: Uint8Array | undefined;
    try {
      data = (await this.#jsm.direct.getMessage(this.#stream, { seq: batchSeq }))?.data;
    } catch {
      // A replica failing the direct get is no answer; the leader gives one below.
    }
    data ??= (await this.#jsm.streams.getMessage(this.#stream, { seq: batchSeq }))?.data;
    if (data === undefined) return undefined;
    const batch = decodeFrame(data);
    this.#view.cache.set(batchSeq, batch);
    return batch;
  }
}
