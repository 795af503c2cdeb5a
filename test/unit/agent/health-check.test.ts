/** Health monitor: thresholds on a manual scheduler, then the real command runner. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CheckResult, runCheckCommand, startHealthMonitor } from '../../../src/agent/health-check.js';
import { ManualScheduler, realScheduler } from '../../../src/agent/supervisor-timers.js';
import type { HealthCheck } from '../../../src/core/manifest/deployment.js';
import { moduleEnv } from './support.js';

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const check: HealthCheck = { command: 'probe', args: [], intervalSecs: 30, timeoutSecs: 5, retries: 3 };

test('unhealthy after `retries` failures in a row, healthy again after one success', async () => {
  const scheduler = new ManualScheduler();
  const results: boolean[] = [false, false, true, false, false, false, false, true];
  const events: string[] = [];
  const ran: number[] = [];
  const monitor = startHealthMonitor({
    check,
    env: {},
    scheduler,
    run: async () => {
      ran.push(scheduler.clock.nowMs());
      const ok = results.shift() ?? true;
      return { ok, detail: ok ? 'passed' : 'exited with code 1' } satisfies CheckResult;
    },
    onUnhealthy: (detail) => events.push(`unhealthy: ${detail}`),
    onHealthy: () => events.push('healthy'),
  });
  const start = scheduler.clock.nowMs();
  for (let i = 0; i < 8; i++) {
    scheduler.advance(30_000);
    await flush();
  }
  // Two failures then a success: not enough; then four failures: unhealthy once at the third.
  assert.deepEqual(events, ['unhealthy: exited with code 1', 'healthy']);
  assert.deepEqual(
    ran.map((t) => (t - start) / 1000),
    [30, 60, 90, 120, 150, 180, 210, 240],
    'one check per interval, the first one interval after the start',
  );
  assert.equal(monitor.healthy, true);
  monitor.stop();
  assert.equal(scheduler.pendingCount, 0, 'stopped: nothing scheduled');
});

test('a check in flight when the monitor stops is cancelled and its result ignored', async () => {
  const scheduler = new ManualScheduler();
  let aborted = false;
  const monitor = startHealthMonitor({
    check: { ...check, retries: 1 },
    env: {},
    scheduler,
    run: (_c, ctx) =>
      new Promise((resolve) =>
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
          resolve({ ok: false, detail: 'cancelled' });
        }),
      ),
    onUnhealthy: () => assert.fail('a cancelled check must not count'),
    onHealthy: () => {},
  });
  scheduler.advance(30_000);
  monitor.stop();
  await flush();
  assert.equal(aborted, true);
});

const real = (command: string, args: string[], timeoutSecs = 5) =>
  runCheckCommand(
    { command, args, intervalSecs: 1, timeoutSecs, retries: 1 },
    {
      env: moduleEnv(),
      timeoutMs: timeoutSecs * 1000,
      scheduler: realScheduler,
      signal: new AbortController().signal,
    },
  );

test('real checks: exit 0 passes; exit 1, a missing command and a timeout fail with a reason', async () => {
  assert.deepEqual(await real('true', []), { ok: true, detail: 'health check passed' });
  assert.deepEqual(await real('sh', ['-c', 'echo not ready >&2; exit 1']), {
    ok: false,
    detail: 'health check exited with code 1: not ready',
  });
  const missing = await real('tandem-no-such-probe', []);
  assert.equal(missing.ok, false);
  assert.match(missing.detail, /command not found: tandem-no-such-probe/);
  const began = Date.now();
  const slow = await real('sh', ['-c', 'sleep 30'], 0.3);
  assert.deepEqual(slow, { ok: false, detail: 'health check timed out after 0.3 s' });
  assert.ok(Date.now() - began < 5_000, 'the timed-out check was killed, not waited for');
});

test('a real monitor: `sh -c "exit 1"` turns unhealthy after its retries', async () => {
  const began = Date.now();
  const detail = await new Promise<string>((resolve) => {
    const monitor = startHealthMonitor({
      check: { command: 'sh', args: ['-c', 'exit 1'], intervalSecs: 0.05, timeoutSecs: 5, retries: 2 },
      env: moduleEnv(),
      onUnhealthy: (d) => {
        monitor.stop();
        resolve(d);
      },
      onHealthy: () => {},
    });
  });
  assert.equal(detail, 'health check exited with code 1');
  assert.ok(Date.now() - began >= 100, 'two intervals at least');
});
