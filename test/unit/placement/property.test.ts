/**
 * The placement function over many random clusters and deployments: it never overcommits,
 * its "keeps the policy" is true, it changes nothing when nothing changed, it moves only what
 * a lost node ran, every move a rebalance makes is needed, and it is deterministic.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  addAmounts,
  instancesOf,
  noAmounts,
  type PlacementInput,
  type PlacementNode,
  place,
  type Schedule,
  schedule,
  type Workload,
} from '../../../src/core/placement/index.js';
import { score } from '../../../src/core/placement/rebalance.js';
import { withCondition } from './fixtures.js';

const runs = { numRuns: 150 };

const nodeArb = fc.record({
  cpuMilli: fc.integer({ min: 1, max: 8 }).map((n) => n * 500),
  memoryMb: fc.integer({ min: 1, max: 8 }).map((n) => n * 512),
  gpu: fc.integer({ min: 0, max: 2 }),
  zone: fc.constantFrom('a', 'b'),
  condition: fc.constantFrom('ready', 'ready', 'ready', 'ready', 'down', 'recovering'),
  admin: fc.constantFrom('active', 'active', 'active', 'cordoned', 'drained'),
});

const workloadArb = fc.record({
  cpuMilli: fc.integer({ min: 0, max: 12 }).map((n) => n * 125),
  memoryMb: fc.integer({ min: 0, max: 8 }).map((n) => n * 128),
  gpu: fc.constantFrom(0, 0, 0, 1),
  zone: fc.constantFrom(undefined, undefined, 'a', 'b'),
  replicas: fc.integer({ min: 1, max: 3 }),
  volume: fc.constantFrom('none', 'none', 'none', 'local', 'replicated'),
});

const clusterArb = fc
  .record({
    nodes: fc.array(nodeArb, { minLength: 1, maxLength: 5 }),
    workloads: fc.array(workloadArb, { minLength: 0, maxLength: 7 }),
    tolerated: fc.constantFrom(0, 1, 1, 2),
  })
  .map(
    ({ nodes, workloads, tolerated }): PlacementInput => ({
      nodes: nodes.map(
        (n, i): PlacementNode => ({
          name: `n${i}`,
          capacity: { cpuMilli: n.cpuMilli, memoryMb: n.memoryMb, devices: n.gpu > 0 ? { gpu: n.gpu } : {} },
          labels: { zone: n.zone },
          condition: n.condition as PlacementNode['condition'],
          admin: n.admin as PlacementNode['admin'],
        }),
      ),
      workloads: workloads.map(
        (w, i): Workload => ({
          module: `m${i}`,
          replicas: w.replicas,
          demand: { cpuMilli: w.cpuMilli, memoryMb: w.memoryMb, devices: w.gpu > 0 ? { gpu: w.gpu } : {} },
          nodeSelector: w.zone ? { zone: w.zone } : {},
          volume: w.volume as Workload['volume'],
        }),
      ),
      current: {},
      policy: { nodeLossesTolerated: tolerated },
    }),
  );

/** Placed from scratch, then settled (as a running cluster would be). */
function settled(i: PlacementInput): PlacementInput {
  return { ...i, current: schedule(i).assignment };
}

function assertValid(i: PlacementInput, s: Schedule): void {
  const nodes = new Map(i.nodes.map((n) => [n.name, n]));
  const waiting = new Set(s.waiting.map((w) => w.instance));
  const used = new Map<string, typeof noAmounts>();
  const seen = new Set<string>();
  for (const { id, workload } of instancesOf(i.workloads)) {
    const at = s.assignment[id];
    const unplaced = s.unplaced.some((u) => u.instance === id);
    assert.ok((at !== undefined) !== unplaced, `${id}: placed xor unplaced`);
    if (at === undefined || waiting.has(id)) continue;
    const n = nodes.get(at);
    assert.ok(
      n && n.condition !== 'down' && n.admin !== 'drained',
      `${id} runs on ${at}, which cannot run it`,
    );
    for (const [k, v] of Object.entries(workload.nodeSelector))
      assert.equal(n.labels[k], v, `${id} selector`);
    const key = `${at}/${workload.module}`;
    assert.ok(!seen.has(key), `two replicas of ${workload.module} on ${at}`);
    seen.add(key);
    used.set(at, addAmounts(used.get(at) ?? noAmounts, workload.demand));
  }
  for (const [name, u] of used) {
    const cap = (nodes.get(name) as PlacementNode).capacity;
    assert.ok(u.cpuMilli <= cap.cpuMilli && u.memoryMb <= cap.memoryMb, `${name} overcommitted`);
    for (const [d, n] of Object.entries(u.devices))
      assert.ok(n <= (cap.devices[d] ?? 0), `${name} ${d} overcommitted`);
  }
}

test('property: never overcommits, never breaks a selector or anti-affinity, accounts for every instance', () => {
  fc.assert(
    fc.property(clusterArb, (i) => {
      const s = schedule(i);
      assertValid(i, s);
      assertValid(i, schedule(settled(i)));
    }),
    runs,
  );
});

test('property: "keeps the policy" is true: every simulated loss is absorbed by the scheduler itself', () => {
  fc.assert(
    fc.property(clusterArb, (i0) => {
      const i = { ...i0, policy: { nodeLossesTolerated: Math.min(1, i0.policy.nodeLossesTolerated) } };
      const s = schedule(i);
      if (!s.headroom.ok || s.headroom.budget === 0) return;
      for (const n of i.nodes.filter((x) => x.condition === 'ready' && x.admin !== 'drained')) {
        const after = schedule(withCondition({ ...i, current: s.assignment }, n.name, 'down'));
        assert.deepEqual(after.unplaced, [], `losing ${n.name} strands instances`);
        assertValid(withCondition(i, n.name, 'down'), after);
      }
    }),
    runs,
  );
});

test('property: nothing changed, nothing moves; the result does not depend on input order', () => {
  fc.assert(
    fc.property(clusterArb, (i) => {
      const s = schedule(i);
      const again = schedule({ ...i, current: s.assignment });
      assert.deepEqual(again.moves, []);
      assert.deepEqual(again.assignment, s.assignment);
      const shuffled = { ...i, nodes: [...i.nodes].reverse(), workloads: [...i.workloads].reverse() };
      assert.deepEqual(schedule(shuffled), s);
    }),
    runs,
  );
});

test('property: a node that goes moves only what it ran, unless room must be made for its instances', () => {
  fc.assert(
    fc.property(clusterArb, fc.nat(), (i0, pick) => {
      const i = settled(i0);
      const up = i.nodes.filter((n) => n.condition !== 'down');
      if (up.length === 0) return;
      const lost = (up[pick % up.length] as PlacementNode).name;
      const after = withCondition(i, lost, 'down');
      if (place(after).unplaced.length > schedule(i).unplaced.length) return;
      for (const m of schedule(after).moves) {
        if (m.from !== undefined) assert.equal(m.from, lost, `${m.instance} moved off ${m.from}`);
      }
    }),
    runs,
  );
});

test('property: when a node comes, every move made is needed (undoing any one scores worse)', () => {
  fc.assert(
    fc.property(clusterArb, fc.nat(), (i0, pick) => {
      const down = i0.nodes.filter((n) => n.condition === 'down');
      if (down.length === 0) return;
      const back = (down[pick % down.length] as PlacementNode).name;
      const before = settled(i0);
      const after = withCondition(before, back, 'ready');
      const s = schedule(after);
      const target = score(after, s);
      for (const m of s.moves) {
        if (m.from === undefined || m.to === undefined) continue;
        const undone = place({ ...after, current: { ...s.assignment, [m.instance]: m.from } });
        if (undone.assignment[m.instance] !== m.from) continue; // cannot go back at all
        assert.ok(score(after, undone) > target, `${m.instance} ${m.from}->${m.to} is not needed`);
      }
    }),
    runs,
  );
});
