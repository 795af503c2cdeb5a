/**
 * Timers as an injectable dependency, beside the Clock: supervision waits (backoff, health
 * check intervals, polling adopted processes) run on real timers in the agent and on a
 * hand-driven scheduler in unit tests, which then never sleep.
 */
import { type Clock, ManualClock } from '../util/clock.js';

/** Cancels a scheduled call; cancelling twice, or after it ran, does nothing. */
export type Cancel = () => void;

export interface Scheduler {
  /** Calls `fn` once, `delayMs` from now (0 or negative: as soon as possible). */
  after(delayMs: number, fn: () => void): Cancel;
}

/** Node's timers. They keep the process alive, as a pending restart should. */
export const realScheduler: Scheduler = {
  after(delayMs, fn) {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    return () => clearTimeout(handle);
  },
};

interface Pending {
  readonly atMs: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A scheduler driven by `advance`, over a ManualClock it moves: timers fire in time order
 * (then in the order they were set), each with the clock at its due time.
 */
export class ManualScheduler implements Scheduler {
  readonly clock: ManualClock;
  #pending: Pending[] = [];
  #seq = 0;

  constructor(clock: ManualClock = new ManualClock()) {
    this.clock = clock;
  }

  after(delayMs: number, fn: () => void): Cancel {
    const entry: Pending = { atMs: this.clock.nowMs() + Math.max(0, delayMs), seq: this.#seq++, fn };
    this.#pending.push(entry);
    return () => {
      this.#pending = this.#pending.filter((p) => p !== entry);
    };
  }

  /** Timers not yet fired. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** When the earliest pending timer is due, if any. */
  nextDueMs(): number | undefined {
    return this.#earliest()?.atMs;
  }

  /** Moves the clock by `ms`, firing every timer that falls due on the way (also ones set meanwhile). */
  advance(ms: number): void {
    const end = this.clock.nowMs() + ms;
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.atMs > end) break;
      this.#pending = this.#pending.filter((p) => p !== next);
      // The clock never goes back, even for a timer that was overdue when advance began.
      this.clock.advance(Math.max(0, next.atMs - this.clock.nowMs()));
      next.fn();
    }
    this.clock.advance(Math.max(0, end - this.clock.nowMs()));
  }

  #earliest(): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.#pending) {
      if (best === undefined || p.atMs < best.atMs || (p.atMs === best.atMs && p.seq < best.seq)) best = p;
    }
    return best;
  }
}

/** A clock and a scheduler that agree on the time. */
export interface TimeSource {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
}
