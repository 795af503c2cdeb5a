/** The backoff formula: full jitter under a ceiling that doubles per failure, capped. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { limits } from '../../src/limits.js';
import { backoffCeilingMs, backoffDelayMs } from '../../src/upstream/backoff.js';

const policy = { baseMs: limits.upstreamBackoffBaseMs, maxMs: limits.upstreamBackoffMaxMs };

test('ceilings double from the base and stop at the cap', () => {
  const ceilings = Array.from({ length: 9 }, (_, n) => backoffCeilingMs(policy, n));
  assert.deepEqual(ceilings, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  assert.equal(backoffCeilingMs(policy, 10_000), 60000, 'huge attempt counts stay finite and capped');
  assert.equal(backoffCeilingMs(policy, -3), 1000);
});

test('a delay is the draw times the ceiling, in whole ms, within [0, ceiling)', () => {
  assert.equal(
    backoffDelayMs(policy, 0, () => 0),
    0,
  );
  assert.equal(
    backoffDelayMs(policy, 0, () => 0.5),
    500,
  );
  assert.equal(
    backoffDelayMs(policy, 3, () => 0.25),
    2000,
  );
  assert.equal(
    backoffDelayMs(policy, 20, () => 0.999),
    59940,
  );
  // A broken random source still gives a delay within bounds.
  assert.equal(
    backoffDelayMs(policy, 0, () => 1),
    999,
  );
  assert.equal(
    backoffDelayMs(policy, 0, () => -1),
    0,
  );
  fc.assert(
    fc.property(fc.nat(100), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, r) => {
      const d = backoffDelayMs(policy, n, () => r);
      return Number.isInteger(d) && d >= 0 && d < backoffCeilingMs(policy, n);
    }),
  );
});
