/**
 * A node cut off without being killed: its modules start on the other nodes; when the link
 * heals, the isolated copies are stopped (the node applies the assignment that moved them
 * before it takes new work), and at no time did an old instance and its replacement both
 * consume the same input: the old one's last message precedes the new one's first, and no
 * endpoint lease overlapped (the data plane's fencing).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '../support/wait.js';
import type { HubCluster } from './support/hub-cluster.js';
import {
  checkEveryAckedProcessed,
  deploy,
  RecordImporter,
  startWorkloadCluster,
  waitRunning,
  workloadManifest,
  workloadsStatus,
} from './support/workloads.js';

let cluster: HubCluster | undefined;
after(async () => {
  await cluster?.dispose();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a node cut off: its modules run elsewhere; healed, the isolated copies stop; never two consumers', async () => {
  const c = await startWorkloadCluster();
  cluster = c;
  c.clientKeepaliveSec = 2;
  const dir = await c.lab.tempDir('records');
  assert.equal((await deploy(c, 0, workloadManifest(dir, [{ name: 'filter', cpu: 0.3 }]))).status, 200);
  const victim = await waitRunning(c, 0, 'filter');
  const name = c.replicas[victim]!.name;
  const survivor = (victim + 1) % 3;
  const records = new RecordImporter(c, dir);
  const devices = await Promise.all([0, 1].map((k) => c.device(`d${k}`, (victim + 1 + k) % 3, 20)));
  await waitFor('filter processing', async () => (await records.sync()).length > 40);
  const oldPid = records.records.find((r) => r.node === name)!.pid;

  const atMs = Date.now();
  await c.lab.cut(c.replicas[victim]!.node);
  let firstNew: number | undefined;
  await waitFor(
    'filter processing on another node',
    async () => {
      firstNew = (await records.sync()).find((r) => r.atMs > atMs && r.node !== name)?.atMs;
      return firstNew !== undefined;
    },
    60_000,
    () => c.describe(),
  );
  console.log(
    `failover of module filter after cutting node ${name} off: first message processed ${firstNew! - atMs} ms after the cut`,
  );
  assert.ok(alive(oldPid), 'the isolated instance keeps running while it cannot be told');

  await c.lab.heal(c.replicas[victim]!.node);
  await c.nats.waitReady();
  await c.waitAllReady();
  await waitFor(
    'the isolated instance stopped',
    () => !alive(oldPid),
    60_000,
    () => c.describe(),
  );
  await waitFor(
    `${name} ready again`,
    async () =>
      (await workloadsStatus(c, survivor)).nodes.find((n) => n.name === name)?.condition === 'ready',
    60_000,
    () => c.describe(),
  );
  const events = (await workloadsStatus(c, survivor)).events.map((e) => `${e.kind} ${e.instance ?? e.node}`);
  for (const e of [`node-down ${name}`, 'failover filter#0', `node-recovering ${name}`, `node-ready ${name}`])
    assert.ok(events.includes(e), `${e} missing from\n${events.join('\n')}`);

  await Promise.all(devices.map((d) => d.stop()));
  const summary = await checkEveryAckedProcessed(c, records, ['filter']);
  const lastOld = Math.max(...records.records.filter((r) => r.pid === oldPid).map((r) => r.atMs));
  const firstOther = Math.min(...records.records.filter((r) => r.pid !== oldPid).map((r) => r.atMs));
  assert.ok(lastOld < firstOther, `old instance processed at ${lastOld}, its replacement from ${firstOther}`);
  console.log(summary);
});
