/**
 * Gives trimmed log storage back to JetStream. A batch can go once none of its records is
 * still in the index, and the log is a queue in practice (endpoints deliver in order), so
 * storage is reclaimed by purging the stream below the oldest batch anything still lives in:
 * `purge(stream, { seq })` keeps messages >= seq. Never above what this instance has read
 * (LogView.purgeableBelow), so batches it has not indexed yet, its own acknowledged ones
 * included, stay. Another hub replica that has not seen those trims yet loses nothing: the
 * records were trimmed for everyone (trims.ts), and a read that finds a batch gone drops it
 * (log-reader.ts).
 *
 * One purge is one replicated operation; it runs at most every limits.jetstreamPurgeIntervalMs
 * and only when the boundary moved, not per trim.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { limits } from '../../limits.js';
import type { StoreLog } from './connection.js';
import type { LogView } from './log-view.js';

export class Purger {
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #view: LogView;
  readonly #log: StoreLog;
  #purgedBelow: number;
  #lastRunMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;
  #purges = 0;

  /** `firstSeq`: the stream's first sequence at open (everything below is gone already). */
  constructor(jsm: JetStreamManager, stream: string, view: LogView, firstSeq: number, log: StoreLog) {
    this.#jsm = jsm;
    this.#stream = stream;
    this.#view = view;
    this.#purgedBelow = firstSeq;
    this.#log = log;
  }

  /** Purges done by this instance. */
  get purges(): number {
    return this.#purges;
  }

  schedule(): void {
    if (this.#stopped || this.#timer) return;
    const delay = Math.max(0, this.#lastRunMs + limits.jetstreamPurgeIntervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#running.then(() => this.#run());
    }, delay);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    const below = this.#view.purgeableBelow();
    // nats-server 2.9.10 purges *everything* for { seq: 1 } (measured); below 1 is nothing anyway.
    if (below <= this.#purgedBelow || below <= 1) return;
    this.#lastRunMs = Date.now();
    try {
      await this.#jsm.streams.purge(this.#stream, { seq: below });
      this.#purgedBelow = below;
      this.#purges++;
    } catch (err) {
      this.#log(
        'warn',
        `store: purging ${this.#stream} below ${below} failed (tried again after the next trim): ${String(err)}`,
      );
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
