/**
 * The module supervisor with real processes: restart when unhealthy, adoption after a real
 * SIGKILL of the agent, group stop, and a docker module on a host without a container engine.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ModuleSupervisor, type SupervisorStatus } from '../../src/agent/module-supervisor.js';
import { groupMembers } from '../../src/agent/proc-group.js';
import type { InstanceRecord, ModuleLaunch } from '../../src/agent/supervisor-types.js';
import { repoRoot } from '../support/paths.js';
import {
  fileLines,
  fixture,
  isAlive,
  processLaunch,
  readPidFile,
  TempDirs,
  waitFor,
} from '../unit/agent/support.js';

const temp = new TempDirs();
const supervisors: ModuleSupervisor[] = [];
after(async () => {
  for (const s of supervisors) await s.stop();
  await temp.cleanup();
});

/** Backoff shortened so a restart takes a fraction of a second; the real delays have their own test. */
const fast = { backoff: { baseMs: 300, maxMs: 1_000 }, pollMs: 100 };

function supervise(launch: ModuleLaunch, onChange?: (s: SupervisorStatus) => void): ModuleSupervisor {
  const sup = new ModuleSupervisor(launch, { ...fast, onChange });
  supervisors.push(sup);
  return sup;
}

test('on-unhealthy: a running module whose health check fails `retries` times is restarted', async () => {
  const dir = await temp.make();
  const starts = path.join(dir, 'starts');
  const healthy = path.join(dir, 'healthy');
  await writeFile(healthy, '');
  const states: string[] = [];
  const sup = supervise(
    processLaunch('flaky', dir, 'sh', [fixture('count-starts.sh'), starts], {
      restartPolicy: 'on-unhealthy',
      healthCheck: {
        command: 'sh',
        args: [fixture('health-file.sh'), healthy],
        intervalSecs: 0.1,
        timeoutSecs: 5,
        retries: 2,
      },
    }),
    (s) => {
      if (states[states.length - 1] !== s.state) states.push(s.state);
      // Healthy again before the restart, so the new instance stays up.
      if (s.state === 'backoff') void writeFile(healthy, '');
    },
  );
  await sup.start();
  const firstPid = sup.status().pid;
  await waitFor('first start', async () => (await fileLines(starts)).length === 1);
  await rm(healthy);
  await waitFor(
    'restarted',
    async () => (await fileLines(starts)).length === 2 && sup.status().state === 'running',
  );
  assert.notEqual(sup.status().pid, firstPid);
  assert.equal(await isAlive(firstPid!), false, 'the unhealthy instance was stopped');
  assert.deepEqual(states, ['starting', 'running', 'unhealthy', 'backoff', 'starting', 'running']);
  assert.equal(sup.status().restartCount, 1);
  await sup.stop();
});

const compiled = fileURLToPath(import.meta.url)
  .split(path.sep)
  .includes('dist');

/** A stand-in agent in its own process: supervises one module, writes its record, then idles. */
function startAgentProcess(launch: ModuleLaunch, recordFile: string): ChildProcess {
  const supervisorModule = compiled
    ? path.join(repoRoot, 'dist/src/agent/module-supervisor.js')
    : path.join(repoRoot, 'src/agent/module-supervisor.ts');
  const code = `
    import { writeFileSync } from 'node:fs';
    import { ModuleSupervisor } from ${JSON.stringify(`file://${supervisorModule}`)};
    const sup = new ModuleSupervisor(${JSON.stringify(launch)});
    await sup.start();
    writeFileSync(${JSON.stringify(recordFile)}, JSON.stringify(sup.record()));
    setInterval(() => {}, 60_000);
  `;
  const loader = compiled ? [] : ['--import', 'tsx'];
  return spawn(process.execPath, [...loader, '--input-type=module', '-e', code], { stdio: 'inherit' });
}

test('adoption after a SIGKILLed agent: same pid, not started twice, exit detected and restarted', async () => {
  const dir = await temp.make();
  const starts = path.join(dir, 'starts');
  const recordFile = path.join(dir, 'record.json');
  const launch = processLaunch('survivor', dir, 'sh', [fixture('count-starts.sh'), starts], {
    restartPolicy: 'always',
  });
  const agent = startAgentProcess(launch, recordFile);
  const agentGone = new Promise((resolve) => agent.once('exit', resolve));
  await waitFor(
    'the first agent to record its module',
    async () => (await readFile(recordFile, 'utf8').catch(() => '')) !== '',
  );
  const record = JSON.parse(await readFile(recordFile, 'utf8')) as InstanceRecord & { pid: number };
  agent.kill('SIGKILL');
  await agentGone;
  assert.equal(await isAlive(record.pid), true, 'the module outlives its agent');

  const sup = supervise(launch);
  assert.equal(await sup.adopt(record), true);
  await sup.start(); // what a restarted agent does for a desired-running module: must be a no-op
  assert.deepEqual([sup.status().state, sup.status().pid], ['running', record.pid]);
  assert.deepEqual(sup.record(), record);
  assert.equal((await fileLines(starts)).length, 1, 'not started a second time');

  process.kill(record.pid, 'SIGKILL');
  await waitFor('the adopted exit to be seen', () => sup.status().state !== 'running');
  assert.equal(sup.status().exitCode, undefined, 'an adopted exit has no known code');
  assert.match(sup.status().error ?? '', /exit status unknown/);
  await waitFor(
    'the restart',
    async () => (await fileLines(starts)).length === 2 && sup.status().state === 'running',
  );
  assert.notEqual(sup.status().pid, record.pid);
  assert.equal(sup.status().restartCount, 1);
  await sup.stop();
});

test('stop() ends the whole process group: a module that spawned a grandchild leaves nothing behind', async () => {
  const dir = await temp.make();
  const pidFile = path.join(dir, 'grandchild.pid');
  const sup = supervise(processLaunch('parent', dir, 'sh', [fixture('with-grandchild.sh'), pidFile]));
  await sup.start();
  const pid = sup.status().pid!;
  const grandchild = await readPidFile(pidFile);
  assert.equal(await isAlive(grandchild), true);
  await sup.stop();
  assert.deepEqual([sup.status().state, sup.status().desired], ['stopped', 'stopped']);
  assert.deepEqual(await groupMembers(pid), [], 'no process left in the module group');
  assert.equal(await isAlive(grandchild), false);
});

test('a docker module without a container engine is failed with a clear error; other modules run on', async (t) => {
  const dir = await temp.make();
  const starts = path.join(dir, 'starts');
  const proc = supervise(processLaunch('neighbour', dir, 'sh', [fixture('count-starts.sh'), starts]));
  await proc.start();
  const docker = supervise({
    ...processLaunch('sensor', dir, 'unused', []),
    settings: {
      kind: 'docker',
      image: 'example/sensor:1',
      createOptions: { HostConfig: { Privileged: true } },
    },
    env: { Sensor__Interval: '5' },
  });
  await docker.start();
  const s = docker.status();
  if (s.state === 'running') return t.skip('a container engine runs here');
  assert.equal(s.state, 'failed');
  assert.equal(s.type, 'docker');
  assert.match(s.error ?? '', /^module 'sensor': no container runtime: docker: .+; podman: .+$/);
  assert.equal(docker.record(), undefined);
  assert.equal(proc.status().state, 'running');
  assert.equal(await isAlive(proc.status().pid!), true);
  assert.equal((await fileLines(starts)).length, 1);
  await proc.stop();
});
