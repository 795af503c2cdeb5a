/**
 * Group commit: every write of the store goes through one queue, and everything queued
 * while the previous transaction was being fsynced is written in the next one. One
 * transaction in flight, one fsync per transaction, however many appends it carries.
 *
 * lmdb-js can batch on its own (writes made in one event-loop turn share a transaction),
 * but that is switched off (see lmdb-env.ts), and ours is explicit: it counts commits, so
 * tests and benchmarks can see how many writes shared one; it caps the bytes of one
 * transaction; and each queued write gets its own outcome.
 *
 * A queued write is a function run inside the write transaction (on the main thread, with
 * the cross-process write lock held, so what it reads is current for every process). It
 * may refuse itself by throwing a TandemError *before its first write*; the others in the
 * transaction go on. Any other throw means a write failed half-way: the whole transaction
 * is a child transaction and is aborted, and every write in it fails (all or none).
 */
import { TandemError } from '../../errors.js';
import { toStoreError } from './failures.js';
import type { LmdbEnv } from './lmdb-env.js';

/** Bytes of appends one transaction takes before the rest waits for the next one. */
const transactionBytesMax = 8 * 1024 * 1024;

export type TxnWork<T> = () => T;

interface Queued {
  readonly work: TxnWork<unknown>;
  readonly bytes: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: TandemError };

export interface CommitStats {
  /** Write transactions committed (each is one fdatasync plus one O_DSYNC meta write). */
  readonly commits: number;
  /** Queued writes those transactions carried. */
  readonly writes: number;
}

export class GroupCommitter {
  readonly #env: LmdbEnv;
  readonly #dir: string;
  readonly #beforeEach: () => void;
  #queue: Queued[] = [];
  #running = false;
  #closed = false;
  #idle: Promise<void> = Promise.resolve();
  #signalIdle: (() => void) | undefined;
  #commits = 0;
  #writes = 0;

  /** `beforeEach` runs at the start of every transaction, before any queued write. */
  constructor(env: LmdbEnv, dir: string, beforeEach: () => void) {
    this.#env = env;
    this.#dir = dir;
    this.#beforeEach = beforeEach;
  }

  get stats(): CommitStats {
    return { commits: this.#commits, writes: this.#writes };
  }

  /** Runs `work` in the next write transaction; resolves with its result once that is durable. */
  submit<T>(work: TxnWork<T>, bytes = 0): Promise<T> {
    if (this.#closed) return Promise.reject(new TandemError('TANDEM_E_STORE', 'the store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, bytes, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#running) this.#start();
    });
  }

  /** Refuses new writes and waits for queued ones to be committed. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#idle;
  }

  #start(): void {
    this.#running = true;
    this.#idle = new Promise((resolve) => {
      this.#signalIdle = resolve;
    });
    // Wait for the end of this event-loop turn, so writes issued together go together.
    setImmediate(() => void this.#loop());
  }

  async #loop(): Promise<void> {
    try {
      while (this.#queue.length > 0) await this.#commitOne(this.#takeBatch());
    } finally {
      this.#running = false;
      this.#signalIdle?.();
    }
  }

  #takeBatch(): Queued[] {
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && (n === 0 || bytes + this.#queue[n]!.bytes <= transactionBytesMax)) {
      bytes += this.#queue[n]!.bytes;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #commitOne(batch: Queued[]): Promise<void> {
    let outcomes: Outcome[] = [];
    try {
      // A child transaction, so a throw aborts everything written in it (see top).
      await this.#env.root.childTransaction(() => {
        outcomes = this.#runAll(batch);
        return undefined;
      });
      this.#commits++;
      this.#writes += batch.length;
    } catch (err) {
      const error = await toStoreError(err, this.#dir, 'write transaction');
      for (const q of batch) q.reject(error);
      return;
    }
    batch.forEach((q, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) q.resolve(outcome.value);
      else q.reject(outcome?.error ?? new TandemError('TANDEM_E_ASSERT', 'write ran without an outcome'));
    });
  }

  #runAll(batch: readonly Queued[]): Outcome[] {
    this.#beforeEach();
    return batch.map((q): Outcome => {
      try {
        return { ok: true, value: q.work() };
      } catch (err) {
        // A TandemError is a refusal made before writing; anything else aborts the batch.
        if (err instanceof TandemError) return { ok: false, error: err };
        throw err;
      }
    });
  }
}
