/** A hand-driven timer scheduler for the connector's policy timers (retry, renewal, drain). */
import type { Timers } from '../../../src/upstream/index.js';

export interface FakeTimer {
  readonly fn: () => void;
  readonly ms: number;
  cancelled: boolean;
  fired: boolean;
}

export class FakeTimers implements Timers {
  readonly all: FakeTimer[] = [];

  setTimeout(fn: () => void, ms: number): unknown {
    const t: FakeTimer = { fn, ms, cancelled: false, fired: false };
    this.all.push(t);
    return t;
  }

  clearTimeout(handle: unknown): void {
    if (handle) (handle as FakeTimer).cancelled = true;
  }

  get pending(): FakeTimer[] {
    return this.all.filter((t) => !t.cancelled && !t.fired);
  }

  /** Runs one pending timer (the only one, or the one `pick` chooses). */
  fire(pick: (t: FakeTimer) => boolean = () => true): FakeTimer {
    const t = this.pending.find(pick);
    if (!t) throw new Error('no pending timer to fire');
    t.fired = true;
    t.fn();
    return t;
  }
}
