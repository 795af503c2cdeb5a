import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { policyProblems, renderSchedule, schedule, simulateLoss } from '../../../src/core/placement/index.js';
import { input, node, withCondition, work } from './fixtures.js';

describe('placement: headroom policy', () => {
  test('two nodes: modules using more than half of each node are refused, with what does not fit where', () => {
    const i = input([node('n0'), node('n1')], [work('a', 0.6), work('b', 0.6)]);
    const s = schedule(i);
    assert.deepEqual(s.assignment, { 'a#0': 'n0', 'b#0': 'n1' });
    assert.equal(s.headroom.ok, false);
    assert.deepEqual(policyProblems(i, s), [
      'if n0 failed, a#0 (needs cpu 0.6, memory 0 MB) fits nowhere: n0: down; n1: cpu: needs 0.6, 0.4 of 1 free',
      'if n1 failed, b#0 (needs cpu 0.6, memory 0 MB) fits nowhere: n0: cpu: needs 0.6, 0.4 of 1 free; n1: down',
    ]);
  });

  test('two nodes at half each keep the policy; a degraded placement is accepted only when asked', () => {
    assert.equal(
      schedule(input([node('n0'), node('n1')], [work('a', 0.5), work('b', 0.5)])).headroom.ok,
      true,
    );
    const degraded = schedule(input([node('n0'), node('n1')], [work('a', 0.6), work('b', 0.6)], {}, 0));
    assert.equal(degraded.headroom.ok, true);
    assert.equal(degraded.headroom.losses.length, 0);
  });

  test('a device only one node has cannot survive that node (GPU)', () => {
    const i = input(
      [node('n0', 4, { devices: { gpu: 1 } }), node('n1', 4)],
      [work('infer', 1, { devices: { gpu: 1 } })],
    );
    const s = schedule(i);
    assert.equal(s.assignment['infer#0'], 'n0');
    assert.equal(s.headroom.ok, false);
    assert.match(policyProblems(i, s)[0] ?? '', /if n0 failed, infer#0 .* n1: gpu: needs 1, 0 of 0 free/);
  });

  test('one node cannot absorb its own loss', () => {
    const i = input([node('n0')], [work('a', 0.1)]);
    assert.equal(schedule(i).headroom.ok, false);
  });
});

describe('placement: constraints', () => {
  test('node selectors and anti-affinity between replicas', () => {
    const nodes = [
      node('n0', 2, { labels: { zone: 'a' } }),
      node('n1', 2, { labels: { zone: 'b' } }),
      node('n2', 2, { labels: { zone: 'a' } }),
    ];
    const s = schedule(input(nodes, [work('x', 0.1, { replicas: 2, nodeSelector: { zone: 'a' } })], {}, 0));
    assert.deepEqual(s.assignment, { 'x#0': 'n0', 'x#1': 'n2' });
    const three = schedule(
      input(nodes, [work('x', 0.1, { replicas: 3, nodeSelector: { zone: 'a' } })], {}, 0),
    );
    assert.deepEqual(three.unplaced, [
      {
        instance: 'x#2',
        why: {
          n0: 'runs another replica of x (anti-affinity)',
          n1: 'lacks label zone=a',
          n2: 'runs another replica of x (anti-affinity)',
        },
      },
    ]);
  });

  test('memory and devices count like cpu; nothing is overcommitted', () => {
    const s = schedule(
      input(
        [node('n0', 8, { memoryMb: 512 })],
        [work('a', 0, { memoryMb: 300 }), work('b', 0, { memoryMb: 300 })],
        {},
        0,
      ),
    );
    assert.equal(Object.keys(s.assignment).length, 1);
    assert.match(s.unplaced[0]?.why.n0 ?? '', /memory: needs 300 MB, 212 of 512 MB free/);
  });
});

describe('placement: failures, drain and return', () => {
  const nodes = [node('n0'), node('n1'), node('n2')];
  const workloads = [work('a', 0.3), work('b', 0.3), work('c', 0.3), work('d', 0.3)];

  test('a node that goes down: only its instances move, each with its reason', () => {
    const first = schedule(input(nodes, workloads));
    assert.equal(first.headroom.ok, true);
    const lost = Object.entries(first.assignment).find(([, n]) => n === 'n1')?.[0] as string;
    const after = schedule(withCondition(input(nodes, workloads, first.assignment), 'n1', 'down'));
    assert.deepEqual(
      after.moves.map((m) => [m.instance, m.from, m.reason]),
      [[lost, 'n1', 'node n1 is down']],
    );
    assert.equal(after.headroom.budget, 0);
  });

  test('drain moves everything away; cordon keeps what runs and takes nothing new', () => {
    const first = schedule(input(nodes, workloads));
    const drained = schedule(
      withCondition(input(nodes, workloads, first.assignment), 'n0', 'ready', 'drained'),
    );
    assert.ok(Object.values(drained.assignment).every((n) => n !== 'n0'));
    assert.ok(drained.moves.every((m) => m.from === 'n0' && m.reason === 'node n0 is drained'));
    const cordoned = withCondition(
      input(nodes, [...workloads, work('e', 0.1)], first.assignment),
      'n0',
      'ready',
      'cordoned',
    );
    const s = schedule(cordoned);
    assert.deepEqual(
      s.moves.map((m) => [m.instance, m.from]),
      [['e#0', undefined]],
    );
    assert.notEqual(s.assignment['e#0'], 'n0');
  });

  test('a local volume waits for its node instead of starting elsewhere on empty data', () => {
    const w = [work('db', 0.2, { volume: 'local' }), work('a', 0.2)];
    const first = schedule(input(nodes, w));
    const home = first.assignment['db#0'] as string;
    const down = schedule(withCondition(input(nodes, w, first.assignment), home, 'down'));
    assert.equal(down.assignment['db#0'], home);
    assert.deepEqual(
      down.waiting.map((x) => x.instance),
      ['db#0'],
    );
    assert.match(down.waiting[0]?.reason ?? '', /its node down; a local volume does not move/);
    const back = schedule(input(nodes, w, down.assignment));
    assert.deepEqual(back.waiting, []);
    assert.equal(back.assignment['db#0'], home);
    const loss = simulateLoss(input(nodes, w), first.assignment, [home]);
    assert.deepEqual(loss.waiting, ['db#0']);
  });

  test('a recovering node takes no work; a new node restores the policy with the fewest moves', () => {
    const two = [node('n0', 1, { labels: { zone: 'a' } }), node('n1', 1, { labels: { zone: 'a' } })];
    const w = [work('x', 0.6, { nodeSelector: { zone: 'a' } }), work('y', 0.6)];
    const degraded = schedule(input(two, w, {}, 0));
    assert.deepEqual(degraded.assignment, { 'x#0': 'n0', 'y#0': 'n1' });
    const grown = [...two, node('n2', 1, { labels: { zone: 'b' } })];
    assert.equal(
      schedule(withCondition(input(grown, w, degraded.assignment), 'n2', 'recovering')).moves.length,
      0,
    );
    // x can only go to zone a, so n1 must be free for it: y moves to the new node, nothing else.
    const s = schedule(input(grown, w, degraded.assignment));
    assert.equal(s.headroom.ok, true, renderSchedule(input(grown, w), s).join('\n'));
    assert.deepEqual(s.moves, [
      { instance: 'y#0', from: 'n1', to: 'n2', reason: 'rebalanced to keep the headroom policy' },
    ]);
  });
});

test('renderSchedule shows nodes, what runs, the policy and a simulated loss', () => {
  const i = input([node('n0'), node('n1')], [work('a', 0.4), work('b', 0.4)]);
  const s = schedule(i);
  const text = renderSchedule(i, s, [simulateLoss(i, s.assignment, ['n0'])]).join('\n');
  assert.equal(
    text,
    [
      'node n0 (ready): cpu 0.4, memory 0 MB of cpu 1, memory 1024 MB',
      '  runs: a#0',
      'node n1 (ready): cpu 0.4, memory 0 MB of cpu 1, memory 1024 MB',
      '  runs: b#0',
      'move: a#0 (new) -> n0: new instance',
      'move: b#0 (new) -> n1: new instance',
      'headroom: absorbs the loss of 1 node(s): yes',
      'if n0 failed:',
      '  a#0 would move n0 -> n1',
    ].join('\n'),
  );
});
