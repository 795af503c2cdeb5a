/**
 * IoT Edge's backoff once for real: real clock, real timers, real limits. A module that exits 1
 * at once is restarted after about 10 s, then about 20 s. Takes ~35 s on purpose.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { ModuleSupervisor } from '../../src/agent/module-supervisor.js';
import { limits } from '../../src/limits.js';
import { fileLines, fixture, processLaunch, TempDirs, waitFor } from '../unit/agent/support.js';

const temp = new TempDirs();
after(() => temp.cleanup());

test('a module that exits 1 right away is restarted after ~10 s, then ~20 s', {
  timeout: 120_000,
}, async (t) => {
  assert.equal(limits.restartBackoffBaseMs, 10_000, 'the real limit');
  const dir = await temp.make();
  const starts = path.join(dir, 'starts');
  const backoffAt: number[] = [];
  const runningAt: number[] = [];
  let last = '';
  const sup = new ModuleSupervisor(
    processLaunch('crasher', dir, 'sh', [fixture('count-starts.sh'), starts, 'exit', '1'], {
      restartPolicy: 'on-failure',
    }),
    {
      onChange: (s) => {
        if (s.state === last) return;
        last = s.state;
        if (s.state === 'backoff') backoffAt.push(Date.now());
        if (s.state === 'running') runningAt.push(Date.now());
      },
    },
  );
  try {
    await sup.start();
    await waitFor('the third backoff', () => backoffAt.length === 3, 60_000);
    const first = runningAt[1]! - backoffAt[0]!;
    const second = runningAt[2]! - backoffAt[1]!;
    t.diagnostic(`measured restart delays: ${first} ms, ${second} ms`);
    assert.ok(first >= 9_500 && first <= 15_000, `first delay ${first} ms`);
    assert.ok(second >= 19_500 && second <= 28_000, `second delay ${second} ms`);
    const s = sup.status();
    assert.deepEqual([s.state, s.exitCode, s.restartCount, s.error], ['backoff', 1, 2, 'exited with code 1']);
    const next = Date.parse(s.nextRestartTime!) - Date.parse(s.lastExitTime!);
    // Counted from when the instance was fully gone, a moment after its exit was seen.
    assert.ok(next >= 40_000 && next < 40_500, `the third wait is announced as 40 s (${next} ms)`);
    assert.equal((await fileLines(starts)).length, 3);
  } finally {
    await sup.stop();
  }
  assert.equal(sup.status().state, 'stopped');
});
