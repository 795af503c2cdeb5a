/**
 * The agent is SIGKILLed while its modules run, and started again: it adopts the modules
 * that still run (same pids, never a second copy), starts the one that died meanwhile under
 * its restart policy, and reports the truth in status and `$edgeAgent` reported properties.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { ModuleStatus } from '../../src/agent/face.js';
import { markedProcesses } from '../../src/agent/orphans.js';
import { demoManifest } from '../support/demo.js';
import { HubProcess, runTandem } from '../support/process-node.js';
import { waitFor } from '../support/wait.js';

let dir: string;
let hub: HubProcess;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-sigkill-'));
  hub = new HubProcess(path.join(dir, 'data'), { agent: true });
});

after(async () => {
  await hub.stop();
  // Whatever the test left (it should be nothing): never leak module processes.
  for (const pid of (await markedProcesses(hub.dataDir)).keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  await rm(dir, { recursive: true, force: true });
});

interface Status {
  modules: ModuleStatus[];
  connected: string[];
}

async function status(): Promise<Status> {
  const r = await runTandem(['status', '--json', '--data-dir', hub.dataDir]);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Status;
}

async function modules(): Promise<Record<string, ModuleStatus>> {
  return Object.fromEntries((await status()).modules.map((m) => [m.name, m]));
}

/**
 * Instances per module: distinct process groups carrying the module's marker. A module's
 * own short-lived children (the SDK runs `lsb_release` and the like) share its group.
 */
async function processesPerModule(): Promise<Record<string, number>> {
  const groups: Record<string, Set<number>> = {};
  for (const { module, pgid } of (await markedProcesses(hub.dataDir)).values()) {
    groups[module] = (groups[module] ?? new Set()).add(pgid);
  }
  return Object.fromEntries(Object.entries(groups).map(([m, g]) => [m, g.size]));
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('SIGKILL of the agent: modules are adopted, a dead one restarted, none runs twice', async () => {
  const manifest = path.join(dir, 'manifest.json');
  await writeFile(manifest, JSON.stringify(demoManifest({ intervalMs: 200, absolute: true })));
  await hub.start(manifest);
  // Connected, not only started: a module whose very first connection fails exits (the SDK
  // gives up on a first connect), and that is the module's behaviour, not the agent's.
  await waitFor('both modules running and connected', async () => {
    const s = await status();
    const running = s.modules.filter((m) => m.state === 'running').map((m) => m.name);
    return ['edge1/filter', 'edge1/sensor'].every(
      (id) => s.connected.includes(id) && running.includes(id.slice('edge1/'.length)),
    );
  });
  const before = await modules();
  assert.deepEqual(await processesPerModule(), { filter: 1, sensor: 1 });

  await hub.kill9();
  const filterPid = before.filter!.pid!;
  const sensorPid = before.sensor!.pid!;
  assert.ok(alive(filterPid) && alive(sensorPid), 'modules outlive a SIGKILLed agent');
  // While the agent is away, one module dies: nobody applies its restart policy yet.
  process.kill(-sensorPid, 'SIGKILL');
  await waitFor('the sensor to be gone', () => !alive(sensorPid));

  await hub.start(undefined); // no manifest: the last deployment is re-applied
  await waitFor('the sensor to run again', async () => (await modules()).sensor?.state === 'running');
  const after = await modules();
  assert.equal(after.filter!.pid, filterPid, 'the running filter was adopted, not restarted');
  assert.equal(after.filter!.state, 'running');
  assert.notEqual(after.sensor!.pid, sensorPid, 'the dead sensor was started again');
  assert.deepEqual(await processesPerModule(), { filter: 1, sensor: 1 }, 'no module runs twice');

  // The twin says the same as status.
  const twin = await runTandem(['twin', 'get', 'edge1/$edgeAgent', '--json', '--data-dir', hub.dataDir]);
  assert.equal(twin.code, 0, twin.err);
  await waitFor('reported properties to catch up', async () => {
    const t = await runTandem(['twin', 'get', 'edge1/$edgeAgent', '--json', '--data-dir', hub.dataDir]);
    const reported = (
      JSON.parse(t.out) as { reported: { modules: Record<string, { runtimeStatus: string }> } }
    ).reported;
    return (
      reported.modules?.sensor?.runtimeStatus === 'running' &&
      reported.modules?.filter?.runtimeStatus === 'running'
    );
  });

  await hub.stop();
  await waitFor(
    'modules to stop with the agent',
    async () => (await markedProcesses(hub.dataDir)).size === 0,
  );
});
