/**
 * `tandem up`'s live status view. On a terminal: the status redrawn in place about once a
 * second (sooner after a module changes), with the latest log lines under it. Elsewhere (a
 * pipe, a log file, --detach): log lines as they come, and `key=value` status lines every
 * few seconds, never a control character.
 */
import type { StatusResponse } from '../api/types.js';
import { paint } from './output.js';
import { renderStatus, renderStatusLines } from './render-status.js';

/** Redraw period on a terminal: live enough to see messages flow, cheap enough to ignore. */
const REDRAW_MS = 1000;
/** Log lines kept under the terminal view. */
const LOG_LINES_SHOWN = 8;

export interface StatusViewOptions {
  readonly tty: boolean;
  readonly color: boolean;
  /** Seconds between status lines when not a terminal; 0 turns them off. */
  readonly intervalSecs: number;
}

export class StatusView {
  readonly #o: StatusViewOptions;
  readonly #recent: string[] = [];
  #source: (() => Promise<StatusResponse>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #drawing = false;

  constructor(options: StatusViewOptions) {
    this.#o = options;
  }

  start(source: () => Promise<StatusResponse>): void {
    this.#source = source;
    const every = this.#o.tty ? REDRAW_MS : this.#o.intervalSecs * 1000;
    if (every <= 0) return;
    if (this.#o.tty) process.stdout.write('\u001b[2J');
    this.#timer = setInterval(() => void this.#draw(), every);
    void this.#draw();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#source = undefined;
  }

  /** A module changed: redraw soon on a terminal (status lines elsewhere keep their pace). */
  changed(): void {
    if (this.#o.tty && this.#source) void this.#draw();
  }

  log(level: 'info' | 'warn', message: string): void {
    const line = `${new Date().toISOString()} ${level} ${message}`;
    if (!this.#o.tty || !this.#source) {
      process.stderr.write(`${line}\n`);
      return;
    }
    this.#recent.push(line);
    if (this.#recent.length > LOG_LINES_SHOWN) this.#recent.shift();
  }

  async #draw(): Promise<void> {
    const source = this.#source;
    if (!source || this.#drawing) return;
    this.#drawing = true;
    try {
      const status = await source();
      if (!this.#source) return;
      if (!this.#o.tty) {
        process.stdout.write(`${renderStatusLines(status).join('\n')}\n`);
        return;
      }
      const width = Math.max(60, Math.min(process.stdout.columns ?? 80, 120));
      const logs = this.#recent.map((l) => paint(this.#o.color, 'dim', l.slice(0, width)));
      // Home, draw each line clearing its old tail, then clear below: no flicker, no stale text.
      const screen = `${renderStatus(status, { color: this.#o.color, width })}\n${logs.join('\n')}`;
      process.stdout.write(`\u001b[H${screen.split('\n').join('\u001b[K\n')}\u001b[K\n\u001b[J`);
    } catch (err) {
      process.stderr.write(`status view: ${String(err)}\n`);
    } finally {
      this.#drawing = false;
    }
  }
}
