/** The restart-policy reducer: IoT Edge's policies and backoff, driven by a hand-moved clock. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  backoffDelayMs,
  initialPolicyState,
  type PolicyConfig,
  type PolicyEffect,
  type PolicyEvent,
  type PolicyState,
  restartsAfter,
  step,
} from '../../../src/core/agent/restart-policy.js';
import type { RestartPolicy } from '../../../src/core/manifest/deployment.js';
import { limits } from '../../../src/limits.js';
import { ManualClock } from '../../../src/util/clock.js';

const config = (policy: RestartPolicy = 'always'): PolicyConfig => ({
  policy,
  baseMs: limits.restartBackoffBaseMs,
  maxMs: limits.restartBackoffMaxMs,
  resetMs: limits.restartCountResetMs,
});

/** Applies events like a supervisor would, remembering the armed timer and the effects seen. */
class Driver {
  state: PolicyState = initialPolicyState();
  timerAt: number | undefined;
  effects: PolicyEffect[] = [];
  readonly clock = new ManualClock();
  constructor(readonly cfg: PolicyConfig) {}

  send(event: PolicyEvent): void {
    const out = step(this.cfg, this.state, event, this.clock.nowMs());
    this.state = out.state;
    for (const e of out.effects) {
      this.effects.push(e);
      if (e.type === 'setTimer') this.timerAt = e.atMs;
      if (e.type === 'clearTimer') this.timerAt = undefined;
    }
  }

  /** Moves the clock to the armed timer and fires it. */
  fireTimer(): void {
    assert.ok(this.timerAt !== undefined, 'a timer is armed');
    this.clock.advance(this.timerAt - this.clock.nowMs());
    this.timerAt = undefined;
    this.send({ type: 'timerFired' });
  }

  took(type: PolicyEffect['type']): boolean {
    const seen = this.effects.some((e) => e.type === type);
    this.effects = [];
    return seen;
  }
}

const crash = { type: 'exited', code: 1, signal: undefined } as const;

test('a crashing module walks through backoff: 10, 20, 40, 80, 160, 300, 300 s', () => {
  const d = new Driver(config('on-failure'));
  d.send({ type: 'startRequested' });
  assert.ok(d.took('spawn'));
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    d.send({ type: 'started' });
    assert.equal(d.state.phase, 'running');
    d.clock.advance(500); // it crashes half a second after starting
    d.send(crash);
    assert.equal(d.state.phase, 'backoff');
    const exitAt = d.clock.nowMs();
    assert.equal(d.state.nextStartAtMs, d.timerAt);
    delays.push(((d.timerAt ?? 0) - exitAt) / 1000);
    d.fireTimer();
    assert.equal(d.state.phase, 'starting');
    assert.equal(d.state.restartCount, i + 1);
    assert.ok(d.took('spawn'));
  }
  assert.deepEqual(delays, [10, 20, 40, 80, 160, 300, 300, 300]);
});

test('the restart count resets after 10 minutes of healthy running (timer), and the next crash waits 10 s', () => {
  const d = new Driver(config('always'));
  d.send({ type: 'startRequested' });
  for (let i = 0; i < 3; i++) {
    d.send({ type: 'started' });
    d.send(crash);
    d.fireTimer();
  }
  d.send({ type: 'started' });
  assert.equal(d.state.restartCount, 3);
  assert.equal(d.timerAt, d.clock.nowMs() + limits.restartCountResetMs, 'reset timer armed');
  d.clock.advance(limits.restartCountResetMs - 1);
  assert.equal(d.state.restartCount, 3, 'not yet');
  d.fireTimer();
  assert.equal(d.state.restartCount, 0);
  d.send(crash);
  assert.equal((d.state.nextStartAtMs ?? 0) - d.clock.nowMs(), 10_000);
});

test('a long healthy run resets the count at the crash even without the timer; unhealthy time does not count', () => {
  const d = new Driver(config('on-unhealthy'));
  d.state = { ...initialPolicyState(4), phase: 'starting' };
  d.send({ type: 'started' });
  d.clock.advance(limits.restartCountResetMs);
  d.send(crash);
  assert.equal(d.state.restartCount, 0);
  assert.equal((d.state.nextStartAtMs ?? 0) - d.clock.nowMs(), 10_000);

  const e = new Driver(config('on-failure'));
  e.state = { ...initialPolicyState(4), phase: 'starting' };
  e.send({ type: 'started' });
  e.clock.advance(60_000);
  e.send({ type: 'unhealthy' });
  assert.equal(e.state.phase, 'unhealthy');
  assert.ok(!e.took('kill'), 'on-failure does not restart an unhealthy module');
  e.clock.advance(limits.restartCountResetMs);
  e.send(crash);
  assert.equal(e.state.restartCount, 4, 'unhealthy for 10 min is not healthy for 10 min');
  assert.equal((e.state.nextStartAtMs ?? 0) - e.clock.nowMs(), 160_000);
});

type Ending = 'exit 0' | 'exit 1' | 'SIGKILL' | 'unknown' | 'unhealthy';
const endings: Record<Ending, PolicyEvent> = {
  'exit 0': { type: 'exited', code: 0, signal: undefined },
  'exit 1': crash,
  SIGKILL: { type: 'exited', code: undefined, signal: 'SIGKILL' },
  unknown: { type: 'exited', code: undefined, signal: undefined },
  unhealthy: { type: 'unhealthy' },
};
// IoT Edge: never = never; on-failure = crash; on-unhealthy = crash or unhealthy; always = anything.
const expected: Record<RestartPolicy, Record<Ending, string>> = {
  never: {
    'exit 0': 'stopped',
    'exit 1': 'failed',
    SIGKILL: 'failed',
    unknown: 'failed',
    unhealthy: 'unhealthy',
  },
  'on-failure': {
    'exit 0': 'stopped',
    'exit 1': 'backoff',
    SIGKILL: 'backoff',
    unknown: 'backoff',
    unhealthy: 'unhealthy',
  },
  'on-unhealthy': {
    'exit 0': 'stopped',
    'exit 1': 'backoff',
    SIGKILL: 'backoff',
    unknown: 'backoff',
    unhealthy: 'backoff',
  },
  always: {
    'exit 0': 'backoff',
    'exit 1': 'backoff',
    SIGKILL: 'backoff',
    unknown: 'backoff',
    unhealthy: 'backoff',
  },
};

test('each policy decides as IoT Edge does', () => {
  for (const policy of Object.keys(expected) as RestartPolicy[]) {
    for (const ending of Object.keys(endings) as Ending[]) {
      const d = new Driver(config(policy));
      d.send({ type: 'startRequested' });
      d.send({ type: 'started' });
      d.took('spawn');
      d.send(endings[ending]);
      if (ending === 'unhealthy' && d.took('kill')) {
        // The kill's result arrives as an exit (SIGTERM here); it is a restart, whatever the code.
        d.send({ type: 'exited', code: undefined, signal: 'SIGTERM' });
      }
      assert.equal(d.state.phase, expected[policy][ending], `${policy} after ${ending}`);
      assert.equal(restartsAfter(policy, 'clean'), policy === 'always');
    }
  }
});

test('a stop request ends in stopped, never in a restart, from every live phase', () => {
  const running = new Driver(config('always'));
  running.send({ type: 'startRequested' });
  running.send({ type: 'started' });
  running.took('spawn');
  running.send({ type: 'stopRequested' });
  assert.equal(running.state.phase, 'stopping');
  assert.ok(running.took('kill'));
  running.send({ type: 'exited', code: 143, signal: undefined });
  assert.equal(running.state.phase, 'stopped');

  const backoff = new Driver(config('always'));
  backoff.send({ type: 'startRequested' });
  backoff.send({ type: 'started' });
  backoff.send(crash);
  backoff.send({ type: 'stopRequested' });
  assert.equal(backoff.state.phase, 'stopped');
  assert.equal(backoff.timerAt, undefined, 'backoff timer cleared');

  const starting = new Driver(config('always'));
  starting.send({ type: 'startRequested' });
  starting.send({ type: 'stopRequested' });
  assert.ok(!starting.took('kill'), 'nothing to kill before the spawn completed');
  starting.send({ type: 'started' });
  assert.ok(starting.took('kill'), 'killed as soon as it has started');
  starting.send({ type: 'exited', code: undefined, signal: 'SIGTERM' });
  assert.equal(starting.state.phase, 'stopped');
});

test('a start failure is failed with its reason, and a start request tries again from 0', () => {
  const d = new Driver(config('always'));
  d.send({ type: 'startRequested' });
  d.send({ type: 'startFailed', reason: 'command not found: nope' });
  assert.equal(d.state.phase, 'failed');
  assert.equal(d.state.failure, 'command not found: nope');
  d.took('spawn');
  d.send({ type: 'startRequested' });
  assert.ok(d.took('spawn'));
  assert.equal(d.state.phase, 'starting');
});

test('an unhealthy module that recovers before being restarted is running again', () => {
  const d = new Driver(config('on-failure'));
  d.send({ type: 'startRequested' });
  d.send({ type: 'started' });
  d.send({ type: 'unhealthy' });
  d.send({ type: 'healthy' });
  assert.equal(d.state.phase, 'running');
});

test('restartCountMax gives up as edgeAgent MaxRestartCount does', () => {
  const d = new Driver({ ...config('always'), restartCountMax: 2 });
  d.send({ type: 'startRequested' });
  for (let i = 0; i < 2; i++) {
    d.send({ type: 'started' });
    d.send(crash);
    d.fireTimer();
  }
  d.send({ type: 'started' });
  d.send(crash);
  assert.equal(d.state.phase, 'failed');
  assert.match(d.state.failure ?? '', /gave up after 2 restarts; last: exited with code 1/);
});

test('property: delays stay within [base, cap], never shrink until a reset, and a reset restarts at base', () => {
  const runMs = fc.oneof(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 20 * 60_000 }));
  fc.assert(
    fc.property(fc.array(runMs, { minLength: 1, maxLength: 40 }), (runs) => {
      const d = new Driver(config('on-failure'));
      d.send({ type: 'startRequested' });
      let previous = 0;
      for (const ms of runs) {
        d.send({ type: 'started' });
        const startedAt = d.clock.nowMs();
        // Let any reset timer fire if the run is long enough, as the supervisor would.
        if (d.timerAt !== undefined && d.timerAt <= startedAt + ms) d.fireTimer();
        d.clock.advance(startedAt + ms - d.clock.nowMs());
        d.send(crash);
        const delay = (d.state.nextStartAtMs ?? 0) - d.clock.nowMs();
        assert.ok(
          delay >= limits.restartBackoffBaseMs && delay <= limits.restartBackoffMaxMs,
          `delay ${delay}`,
        );
        if (ms >= limits.restartCountResetMs) assert.equal(delay, limits.restartBackoffBaseMs);
        else assert.ok(delay >= previous, `monotonic: ${previous} then ${delay}`);
        assert.equal(delay, backoffDelayMs(d.state.restartCount, config()));
        previous = delay;
        d.fireTimer();
      }
    }),
  );
});
