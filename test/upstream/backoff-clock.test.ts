/**
 * The reconnect policy of a running connector, driven by a manual clock and hand-fired
 * timers against a real Mosquitto that is first absent, then present, then gone again:
 * delays double with full jitter up to the cap, and start over after a successful CONNACK.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { limits } from '../../src/limits.js';
import {
  backoffCeilingMs,
  parseUpstreamTarget,
  UpstreamConnector,
  type UpstreamHub,
} from '../../src/upstream/index.js';
import { ManualClock } from '../../src/util/clock.js';
import { FakeTimers } from './support/fake-timers.js';
import { Mosquitto } from './support/mosquitto.js';
import { waitForState } from './support/wait.js';

/** Enough of a hub for the connector: an empty upstream stream. */
function emptyHub(): UpstreamHub & { attached: number } {
  const hub = {
    attached: 0,
    consumeEndpoint: () => {
      hub.attached++;
      return { notify: () => {}, detach: () => {} };
    },
    // One node: this hub owns `upstream` at once.
    holdEndpoint: (_stream: string, holder: { granted(): void }) => {
      holder.granted();
      return () => {};
    },
    queueLength: async () => 0,
    metrics: { sent: new Map<string, number>(), expired: new Map<string, number>() },
  };
  return hub;
}

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

test('backoff: x2 per failure with full jitter, capped, reset after a connection', async () => {
  const broker = await Mosquitto.create();
  cleanups.push(() => broker.dispose());
  const clock = new ManualClock();
  const timers = new FakeTimers();
  // Jitter draws: the extremes of [0, 1) and points between, so bounds and scaling both show.
  const draws = [0.999, 0.5, 0, 0.25, 0.999, 0.75, 0.999, 0.999, 0.999, 0.6, 0.999];
  let drawn = 0;
  const random = (): number => draws[drawn++ % draws.length]!;
  const policy = { baseMs: limits.upstreamBackoffBaseMs, maxMs: limits.upstreamBackoffMaxMs };
  const hub = emptyHub();
  const up = new UpstreamConnector(hub, parseUpstreamTarget({ kind: 'mqtt', url: broker.url }), {
    edgeDeviceId: 'edge-backoff',
    clock,
    timers,
    random,
  });
  cleanups.push(() => up.close());

  up.start();
  const seen: number[] = [];
  for (let attempt = 0; attempt < 9; attempt++) {
    await waitForState(up, 'backoff');
    const [timer] = timers.pending;
    assert.ok(timer && timers.pending.length === 1, 'exactly one retry is scheduled');
    const ceiling = backoffCeilingMs(policy, attempt);
    assert.equal(ceiling, Math.min(policy.maxMs, policy.baseMs * 2 ** attempt));
    assert.equal(timer.ms, Math.floor(draws[attempt]! * ceiling), `attempt ${attempt}`);
    assert.ok(timer.ms >= 0 && timer.ms < ceiling);
    const s = await up.status();
    assert.equal(s.nextAttemptAtMs, clock.nowMs() + timer.ms);
    assert.equal(s.failures, attempt + 1);
    assert.match(s.lastError ?? '', /ECONNREFUSED/);
    seen.push(timer.ms);
    clock.advance(timer.ms);
    timers.fire();
  }
  // The ceilings went 1, 2, 4, 8, 16, 32, 60 (cap), 60, 60 s.
  assert.deepEqual(seen, [999, 1000, 0, 2000, 15984, 24000, 59940, 59940, 59940]);

  // The ninth attempt is under way when the cloud comes back: let it fail, then succeed.
  await waitForState(up, 'backoff');
  await broker.start();
  clock.advance(timers.pending[0]!.ms);
  timers.fire();
  await waitForState(up, 'connected');
  const connected = await up.status();
  assert.equal(connected.failures, 0);
  assert.equal(connected.connects, 1);
  assert.equal(connected.nextAttemptAtMs, undefined);
  assert.equal(hub.attached, 1);

  // Lost again: the first delay is drawn under the base again.
  const drawBefore = drawn;
  await broker.stop();
  await waitForState(up, 'backoff');
  const [again] = timers.pending;
  assert.equal(again!.ms, Math.floor(draws[drawBefore % draws.length]! * policy.baseMs));
  assert.ok(again!.ms < policy.baseMs);
  assert.equal((await up.status()).failures, 1);
});
