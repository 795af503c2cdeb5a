/**
 * A whole node killed under traffic (its nats-server, hub replica, node agent and module
 * processes SIGKILLed, its link down): the scheduler declares it down after the grace, its
 * modules start on the surviving nodes and process messages again; the time from the kill to
 * the first message each moved module processed is printed. The node comes back, stops
 * nothing stale (it died with its instances), becomes ready, and nothing moves back for
 * nothing. Every acknowledged message reached both modules (the checker, G1-G3).
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

const modules = ['filter', 'counter'];

test('a node killed: its modules run elsewhere within seconds, nothing acknowledged lost', async () => {
  const c = await startWorkloadCluster();
  cluster = c;
  c.clientKeepaliveSec = 2;
  const dir = await c.lab.tempDir('records');
  const manifest = workloadManifest(dir, [
    { name: 'filter', cpu: 0.3 },
    { name: 'counter', cpu: 0.3 },
  ]);
  const deployed = await deploy(c, 0, manifest);
  assert.equal(deployed.status, 200, JSON.stringify(deployed.json));
  assert.equal(deployed.json.applied, true);
  const victim = await waitRunning(c, 0, 'filter');
  await waitRunning(c, 0, 'counter');
  const survivor = (victim + 1) % 3;
  const ran =
    (await workloadsStatus(c, survivor)).nodes.find((n) => n.name === c.replicas[victim]!.name)?.instances ??
    [];
  assert.ok(ran.includes('filter#0'), `filter#0 should run on the victim: ${ran.join(', ')}`);

  const records = new RecordImporter(c, dir);
  // Devices on the surviving nodes, so what is measured is the modules' failover.
  const devices = await Promise.all([0, 1].map((k) => c.device(`d${k}`, (victim + 1 + k) % 3, 20)));
  await waitFor('both modules processing', async () => {
    const r = await records.sync();
    return modules.every((m) => r.filter((x) => x.module === m).length > 40);
  });

  const atMs = Date.now();
  await c.lab.killNode(c.replicas[victim]!.node);
  c.replicaGone(victim, atMs);
  const victimName = c.replicas[victim]!.name;
  const movedModules = ran.map((id) => id.slice(0, id.indexOf('#')));
  const firstAfter = new Map<string, number>();
  await waitFor(
    'every moved module processing on another node',
    async () => {
      for (const r of await records.sync()) {
        if (
          r.atMs > atMs &&
          r.node !== victimName &&
          movedModules.includes(r.module) &&
          !firstAfter.has(r.module)
        )
          firstAfter.set(r.module, r.atMs - atMs);
      }
      return movedModules.every((m) => firstAfter.has(m));
    },
    60_000,
    () => c.describe(),
  );
  for (const [m, ms] of firstAfter)
    console.log(
      `failover of module ${m} after killing node ${victimName}: first message processed ${ms} ms after the kill`,
    );

  const status = await workloadsStatus(c, survivor);
  const kinds = status.events.map((e) => `${e.kind} ${e.instance ?? e.node}`);
  assert.ok(kinds.includes(`node-down ${victimName}`), kinds.join('\n'));
  for (const id of ran) assert.ok(kinds.includes(`failover ${id}`), kinds.join('\n'));
  const failover = status.events.find((e) => e.kind === 'failover' && e.instance === 'filter#0');
  assert.equal(failover?.reason, `node ${victimName} is down`);
  assert.equal(failover?.from, victimName);

  // Nothing acknowledged lost: every acked message reached both modules.
  await Promise.all(devices.map((d) => d.stop()));
  const summary = await checkEveryAckedProcessed(c, records, modules);
  console.log(summary);

  // The node comes back: recovering, then ready; its modules do not move back for nothing.
  await c.lab.heal(c.replicas[victim]!.node);
  await c.nats.restart(victim);
  await c.nats.waitReady();
  c.startReplica(victim);
  await c.waitAllReady();
  await waitFor(
    `${victimName} ready again`,
    async () =>
      (await workloadsStatus(c, survivor)).nodes.find((n) => n.name === victimName)?.condition === 'ready',
    60_000,
    () => c.describe(),
  );
  const back = await workloadsStatus(c, survivor);
  const events = back.events.map((e) => `${e.kind} ${e.instance ?? e.node}`);
  assert.ok(events.includes(`node-recovering ${victimName}`), events.join('\n'));
  assert.ok(!events.some((e) => e.startsWith('rebalance')), events.join('\n'));
  assert.equal(back.headroom.ok, true, back.headroom.problems.join('\n'));
});
