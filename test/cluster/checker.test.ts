/** The G1–G3 checker on hand-made histories: ones that must pass and ones that must fail. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Arrival,
  assertHolds,
  check,
  type History,
  HistoryRecorder,
  type Lease,
  type SentMessage,
} from '../support/checker.js';

const routing = { d1: ['filter/input1', 'upstream'], d2: ['upstream'] };

function sent(sender: string, seqs: readonly number[], unacked: readonly number[] = []): SentMessage[] {
  return seqs.map((seq) => ({ sender, seq, acked: !unacked.includes(seq) }));
}

/** Arrivals at one endpoint from "sender:seq" tokens, in order, one ms apart. */
function at(endpoint: string, tokens: string): Arrival[] {
  return tokens
    .split(' ')
    .filter((t) => t !== '')
    .map((t, i) => {
      const [sender = '', seq = ''] = t.split(':');
      return { endpoint, sender, seq: Number(seq), atMs: 1000 + i };
    });
}

function history(parts: Partial<History>): History {
  return { sent: [], arrivals: [], leases: [], ...parts };
}

const clean = history({
  sent: [...sent('d1', [1, 2, 3]), ...sent('d2', [1, 2])],
  arrivals: [...at('filter/input1', 'd1:1 d1:2 d1:3'), ...at('upstream', 'd2:1 d1:1 d1:2 d2:2 d1:3')],
});

describe('cluster checker: histories that hold', () => {
  test('every acknowledged message arrives once, in order', () => {
    const report = check(clean, routing);
    assertHolds(report, { windowMax: 1 });
    assert.equal(report.totals.acked, 5);
    assert.equal(report.totals.arrivals, 8);
    assert.equal(report.totals.repeats, 0);
    assert.deepEqual(
      report.endpoints.map((e) => [e.endpoint, e.expected]),
      [
        ['filter/input1', 3],
        ['upstream', 5],
      ],
    );
  });

  test('an unacknowledged message may be missing or may arrive', () => {
    const h = history({
      sent: sent('d2', [1, 2, 3], [2, 3]),
      arrivals: at('upstream', 'd2:1 d2:3'),
    });
    assertHolds(check(h, routing), { windowMax: 1 });
  });

  test('repeats within the window, after crashes in a row, hold', () => {
    // Window 3: replays from the checkpoint, even twice running, reach back at most 3.
    const h = history({
      sent: sent('d2', [1, 2, 3, 4, 5]),
      arrivals: at('upstream', 'd2:1 d2:2 d2:3 d2:2 d2:3 d2:2 d2:3 d2:4 d2:5 d2:4 d2:5'),
    });
    const report = check(h, routing);
    assertHolds(report, { windowMax: 3 });
    const upstream = report.endpoints[0]!;
    assert.equal(upstream.repeats, 6);
    assert.equal(upstream.maxRewind, 2);
    assert.equal(upstream.maxDeliveries, 3);
  });

  test('a repeat does not count as reordering', () => {
    const h = history({ sent: sent('d2', [1, 2, 3]), arrivals: at('upstream', 'd2:1 d2:2 d2:1 d2:2 d2:3') });
    const report = check(h, routing);
    assert.equal(report.totals.orderViolations, 0);
    assertHolds(report, { windowMax: 2 });
  });

  test('leases handed over without overlap, and one replica renewing its own, hold', () => {
    const leases: Lease[] = [
      { replica: 'r1', endpoint: 'upstream', fromMs: 0, toMs: 100 },
      { replica: 'r1', endpoint: 'upstream', fromMs: 50, toMs: 150 },
      { replica: 'r2', endpoint: 'upstream', fromMs: 150, toMs: Number.POSITIVE_INFINITY },
      { replica: 'r1', endpoint: 'filter/input1', fromMs: 120, toMs: 200 },
    ];
    assertHolds(check(history({ leases }), routing), { windowMax: 1 });
  });

  test('routing may be a function', () => {
    const report = check(clean, (s) => (s === 'd1' ? ['filter/input1', 'upstream'] : ['upstream']));
    assertHolds(report, { windowMax: 1 });
  });
});

describe('cluster checker: histories that must fail', () => {
  test('G1: an acknowledged message lost at one endpoint', () => {
    const h = history({
      sent: sent('d1', [1, 2, 3]),
      arrivals: [...at('filter/input1', 'd1:1 d1:3'), ...at('upstream', 'd1:1 d1:2 d1:3')],
    });
    const report = check(h, routing);
    assert.deepEqual(report.endpoints.find((e) => e.endpoint === 'filter/input1')!.missing, [
      { sender: 'd1', seq: 2 },
    ]);
    assert.throws(
      () => assertHolds(report, { windowMax: 10 }),
      /filter\/input1: G1: 1 acknowledged never arrived/,
    );
  });

  test('G1: an endpoint that received nothing at all', () => {
    const report = check(history({ sent: sent('d1', [1]), arrivals: at('upstream', 'd1:1') }), routing);
    assert.throws(() => assertHolds(report, { windowMax: 10 }), /filter\/input1: G1/);
  });

  test('G2: a sender reordered at an endpoint', () => {
    const h = history({ sent: sent('d2', [1, 2, 3]), arrivals: at('upstream', 'd2:1 d2:3 d2:2') });
    const report = check(h, routing);
    assert.deepEqual(report.endpoints[0]!.orderViolations, [{ sender: 'd2', seq: 2, after: 3 }]);
    assert.throws(() => assertHolds(report, { windowMax: 10 }), /G2: 1 out of order/);
  });

  test('G2: reordering of an unacknowledged message still counts', () => {
    const h = history({ sent: sent('d2', [1, 2, 3], [2]), arrivals: at('upstream', 'd2:1 d2:3 d2:2') });
    assert.throws(() => assertHolds(check(h, routing), { windowMax: 10 }), /G2/);
  });

  test('G3: a redelivery reaching back past the window', () => {
    const h = history({
      sent: sent('d2', [1, 2, 3, 4]),
      arrivals: at('upstream', 'd2:1 d2:2 d2:3 d2:4 d2:1'),
    });
    const report = check(h, routing);
    assert.equal(report.endpoints[0]!.maxRewind, 4);
    assertHolds(report, { windowMax: 4 });
    assert.throws(() => assertHolds(report, { windowMax: 3 }), /G3: a redelivery reached back 4 > window 3/);
  });

  test('two replicas owning one endpoint at once', () => {
    const leases: Lease[] = [
      { replica: 'r1', endpoint: 'upstream', fromMs: 0, toMs: 100 },
      { replica: 'r2', endpoint: 'upstream', fromMs: 99, toMs: Number.POSITIVE_INFINITY },
    ];
    const report = check(history({ leases }), routing);
    assert.equal(report.totals.overlaps, 1);
    assert.throws(() => assertHolds(report, { windowMax: 1 }), /upstream: 1 overlapping leases/);
  });

  test('a message never sent, or at an endpoint its sender is not routed to', () => {
    const h = history({
      sent: sent('d2', [1]),
      arrivals: [...at('upstream', 'd2:1 d2:7'), ...at('filter/input1', 'd2:1')],
    });
    const report = check(h, routing);
    assert.deepEqual(
      report.endpoints.map((e) => e.unexpected.map((u) => u.reason)),
      [['not routed here'], ['never sent']],
    );
    assert.throws(() => assertHolds(report, { windowMax: 1 }), /unexpected arrivals/);
  });
});

describe('history recorder', () => {
  test('records sends, acks (once each) and arrivals as a checkable history', () => {
    const r = new HistoryRecorder();
    r.sent('d2', 1, 10);
    r.acked('d2', 1, 11);
    r.acked('d2', 1, 12);
    r.acked('d2', 2, 13);
    r.sent('d2', 3, 14);
    r.arrived('upstream', 'd2', 1, 20, 'replica-a');
    r.arrived('upstream', 'd2', 2, 21);
    r.lease({ replica: 'replica-a', endpoint: 'upstream', fromMs: 0, toMs: 30 });
    assert.equal(r.ackedCount(), 2);
    assert.equal(r.ackedCount('d2'), 2);
    assert.equal(r.arrivalCount('upstream'), 2);
    const h = r.history();
    assert.deepEqual(h.sent, [
      { sender: 'd2', seq: 1, sentMs: 10, ackedMs: 11, acked: true },
      { sender: 'd2', seq: 2, ackedMs: 13, acked: true },
      { sender: 'd2', seq: 3, sentMs: 14, acked: false },
    ]);
    assert.equal(h.arrivals[0]!.via, 'replica-a');
    assertHolds(check(h, routing), { windowMax: 1 });
  });
});
