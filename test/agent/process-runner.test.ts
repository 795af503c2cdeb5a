/** The process runner with real processes: start failures, exits, group stop, adoption. */
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { moduleLogPath } from '../../src/agent/module-logs.js';
import { readProcStat } from '../../src/agent/proc-group.js';
import { ADOPTED_EXIT_REASON, adoptProcess, startProcess } from '../../src/agent/process-runner.js';
import type { ProcessRecord } from '../../src/agent/supervisor-types.js';
import { isTandemError } from '../../src/errors.js';
import { fixture, isAlive, processLaunch, readPidFile, TempDirs, waitFor } from '../unit/agent/support.js';

const temp = new TempDirs();
after(() => temp.cleanup());

test('a module writes its output into its log file, exits with its code, and has a record', async () => {
  const dir = await temp.make();
  const launch = processLaunch('echoer', dir, 'sh', ['-c', 'echo "hello $GREETING"; echo oops >&2; exit 3'], {
    env: { GREETING: 'world' },
  });
  const instance = await startProcess(launch, 2);
  const record = instance.record as ProcessRecord;
  assert.equal(record.kind, 'process');
  assert.equal(record.pid, instance.pid);
  assert.equal(record.restartCount, 2);
  assert.equal(record.generationId, 'gen-echoer');
  assert.ok(record.startTimeTicks > 0);
  const exit = await instance.exited;
  assert.deepEqual([exit.code, exit.signal, exit.reason], [3, undefined, 'exited with code 3']);
  assert.equal(await readFile(moduleLogPath(dir, 'echoer'), 'utf8'), 'hello world\noops\n');
});

test('command not found, not executable, and a missing cwd are typed start failures', async () => {
  const dir = await temp.make();
  const notExecutable = path.join(dir, 'script.sh');
  await writeFile(notExecutable, '#!/bin/sh\necho hi\n');
  await chmod(notExecutable, 0o644);
  const cases: [string, string, string | undefined, RegExp][] = [
    [
      'missing',
      'tandem-no-such-command',
      undefined,
      /command not found on the module's PATH: tandem-no-such-command/,
    ],
    ['abs', '/nonexistent/bin/thing', undefined, /command not found: \/nonexistent\/bin\/thing/],
    ['noexec', notExecutable, undefined, /permission denied/],
    ['nocwd', 'sh', path.join(dir, 'nope'), /working directory not found/],
  ];
  for (const [module, command, cwd, message] of cases) {
    await assert.rejects(
      startProcess(processLaunch(module, dir, command, [], { cwd }), 0),
      (err: unknown) => {
        assert.ok(isTandemError(err, 'TANDEM_E_MODULE_START'), String(err));
        assert.match(err.message, message);
        assert.match(err.message, new RegExp(`^module '${module}'`));
        return true;
      },
    );
  }
});

test('a module killed by a signal reports the signal', async () => {
  const dir = await temp.make();
  const instance = await startProcess(processLaunch('sleeper', dir, 'sleep', ['30']), 0);
  process.kill(instance.pid!, 'SIGKILL');
  const exit = await instance.exited;
  assert.deepEqual([exit.code, exit.signal, exit.reason], [undefined, 'SIGKILL', 'killed by SIGKILL']);
});

test('stop() kills the whole process group: no grandchild is left behind', async () => {
  const dir = await temp.make();
  const pidFile = path.join(dir, 'grandchild.pid');
  const instance = await startProcess(
    processLaunch('parent', dir, 'sh', [fixture('with-grandchild.sh'), pidFile]),
    0,
  );
  const grandchild = await readPidFile(pidFile);
  assert.equal((await readProcStat(grandchild))?.pgrp, instance.pid, 'the grandchild is in the module group');
  const exit = await instance.stop(5_000);
  assert.equal(exit.signal, 'SIGTERM');
  assert.equal(await isAlive(grandchild), false);
});

test('a module that ignores SIGTERM is SIGKILLed after the grace', async () => {
  const dir = await temp.make();
  const launch = processLaunch('stubborn', dir, 'sh', [
    '-c',
    'trap "" TERM; echo ready; while :; do sleep 1; done',
  ]);
  const instance = await startProcess(launch, 0);
  await waitFor('ready', async () =>
    (await readFile(moduleLogPath(dir, 'stubborn'), 'utf8')).includes('ready'),
  );
  const began = Date.now();
  const exit = await instance.stop(400);
  assert.equal(exit.signal, 'SIGKILL');
  assert.ok(Date.now() - began >= 380, `waited the grace (${Date.now() - began} ms)`);
});

test('a module that exits leaving a grandchild: the orphan is ended before the exit is reported', async () => {
  const dir = await temp.make();
  const pidFile = path.join(dir, 'orphan.pid');
  const launch = processLaunch('leaver', dir, 'sh', [fixture('with-grandchild.sh'), pidFile, 'exit']);
  const instance = await startProcess(launch, 0);
  const exit = await instance.exited;
  assert.equal(exit.code, 0);
  assert.equal(await isAlive(await readPidFile(pidFile)), false, 'the orphan was ended with the module');
});

test('adopt() re-attaches by pid and start time only, polls for the exit, and reports it as unknown', async () => {
  const dir = await temp.make();
  const original = await startProcess(processLaunch('adoptee', dir, 'sleep', ['60']), 1);
  const record = original.record as ProcessRecord;
  original.detach();
  assert.equal(
    await adoptProcess({ ...record, startTimeTicks: record.startTimeTicks + 1 }),
    undefined,
    'recycled pid',
  );
  assert.equal(await adoptProcess({ ...record, pid: 999_999_999 }), undefined, 'no such pid');
  const adopted = await adoptProcess(record, { adoptedPollMs: 50 });
  assert.ok(adopted);
  assert.equal(adopted.adopted, true);
  assert.equal(adopted.pid, record.pid);
  process.kill(record.pid, 'SIGKILL');
  const exit = await adopted.exited;
  assert.deepEqual([exit.code, exit.signal, exit.reason], [undefined, undefined, ADOPTED_EXIT_REASON]);
  await original.exited; // our own child handle sees it too (this test process is the parent)
});

test('stop() works on an adopted module: its whole group is ended', async () => {
  const dir = await temp.make();
  const pidFile = path.join(dir, 'grandchild.pid');
  const original = await startProcess(
    processLaunch('adopted', dir, 'sh', [fixture('with-grandchild.sh'), pidFile]),
    0,
  );
  const grandchild = await readPidFile(pidFile);
  original.detach();
  const adopted = await adoptProcess(original.record as ProcessRecord, { adoptedPollMs: 1000 });
  assert.ok(adopted);
  const exit = await adopted.stop(5_000);
  assert.equal(exit.reason, ADOPTED_EXIT_REASON);
  assert.equal(await isAlive(original.pid!), false);
  assert.equal(await isAlive(grandchild), false);
});
