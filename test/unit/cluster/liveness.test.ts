import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideLease, LivenessView, SelfFence } from '../../../src/core/cluster/liveness.js';

const a1 = { replica: 'a', incarnation: 'a-1' };
const b1 = { replica: 'b', incarnation: 'b-1' };

test('a member is alive while new heartbeats are seen within the TTL, overdue after', () => {
  const v = new LivenessView(1500);
  v.observe(a1, 10, 1000);
  assert.equal(v.isAlive('a', 'a-1', 2499), true);
  v.observe(a1, 11, 2000);
  assert.equal(v.isAlive('a', 'a-1', 3499), true);
  assert.deepEqual(v.overdue(3499), []);
  assert.equal(v.isAlive('a', 'a-1', 3500), false);
  assert.deepEqual(v.overdue(3500), ['a']);
  // A replayed (older or same) revision does not refresh the member.
  v.observe(a1, 11, 3400);
  assert.deepEqual(v.overdue(3500), ['a']);
});

test('a new incarnation replaces the old one: the old one is not alive', () => {
  const v = new LivenessView(1500);
  v.observe(a1, 1, 0);
  v.observe({ replica: 'a', incarnation: 'a-2' }, 2, 100);
  assert.equal(v.isAlive('a', 'a-1', 200), false);
  assert.equal(v.isAlive('a', 'a-2', 200), true);
  assert.equal(v.incarnationOf('a'), 'a-2');
  v.removed('a');
  assert.equal(v.incarnationOf('a'), undefined);
});

test('self fence: fenced before the first heartbeat and once none succeeded for the fence time', () => {
  const f = new SelfFence(1000);
  assert.equal(f.fenced(0), true);
  f.succeeded(100);
  assert.equal(f.fenced(1099), false);
  assert.equal(f.fenced(1100), true);
  // An ack that arrives late counts from when it was sent, never later.
  f.succeeded(50);
  assert.equal(f.fenced(1100), true);
});

test('fence time below TTL: a replica has stopped before any observer may call it dead', () => {
  const ttl = 1500;
  const fence = new SelfFence(1000);
  const view = new LivenessView(ttl);
  for (const sentAt of [0, 37, 480, 999]) {
    for (const delay of [0, 1, 200, 900]) {
      fence.succeeded(sentAt);
      view.observe(a1, sentAt + 1, sentAt + delay); // seen no earlier than it was sent
      const observerCallsDead = sentAt + delay + ttl;
      assert.equal(fence.fenced(observerCallsDead - 1), true, `sent ${sentAt}, seen +${delay}`);
    }
  }
});

test('lease decisions: create, take released or dead, keep own, wait for a live holder', () => {
  const alive = (r: string) => r === 'b';
  assert.deepEqual(decideLease(undefined, a1, alive), { kind: 'create' });
  assert.deepEqual(decideLease({ replica: null, incarnation: null, checkpoint: 7 }, a1, alive), {
    kind: 'take',
    checkpoint: 7,
  });
  assert.deepEqual(decideLease({ replica: 'a', incarnation: 'a-1', checkpoint: 9 }, a1, alive), {
    kind: 'mine',
    checkpoint: 9,
  });
  assert.deepEqual(decideLease({ ...b1, checkpoint: 3 }, a1, alive), { kind: 'wait', holder: 'b' });
  assert.deepEqual(decideLease({ replica: 'c', incarnation: 'c-1', checkpoint: 5 }, a1, alive), {
    kind: 'take',
    checkpoint: 5,
  });
  // Our own replica id but an older process: not ours, and taken only because it is not alive.
  assert.deepEqual(
    decideLease({ replica: 'a', incarnation: 'a-0', checkpoint: 4 }, a1, () => false),
    {
      kind: 'take',
      checkpoint: 4,
    },
  );
});
