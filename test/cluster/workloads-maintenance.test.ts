/**
 * The headroom policy and maintenance on a real cluster: a deployment that would leave the
 * cluster unable to absorb a node loss is refused with what does not fit where, and nothing
 * is applied; `plan --fail` shows what a loss would do; then a node is drained under
 * traffic: its modules move, no new work goes there, and no acknowledged message is lost.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '../support/wait.js';
import type { HubCluster } from './support/hub-cluster.js';
import {
  callApi,
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

test('headroom refused with reasons, plan --fail, and a drain under traffic losing nothing', async () => {
  const c = await startWorkloadCluster();
  cluster = c;
  const dir = await c.lab.tempDir('records');

  // Three modules of 0.6 cores on three 1-core nodes: each node more than half full, so the
  // loss of any one strands a module. Refused, with the reason, and nothing applied.
  const greedy = workloadManifest(dir, [
    { name: 'a', cpu: 0.6 },
    { name: 'b', cpu: 0.6 },
    { name: 'c', cpu: 0.6 },
  ]);
  const refused = await deploy(c, 1, greedy);
  assert.equal(refused.status, 409, JSON.stringify(refused.json));
  assert.equal(refused.json.code, 'TANDEM_E_HEADROOM');
  const problems = (refused.json.details as { problems: string[] }).problems;
  assert.match(
    problems[0] ?? '',
    /^if r0 failed, a#0 \(needs cpu 0\.6, memory 0 MB\) fits nowhere: r0: down; r1: cpu: needs 0\.6, 0\.4 of 1 free; r2: cpu: needs 0\.6, 0\.4 of 1 free$/,
  );
  const plan = await callApi(c, 2, 'POST', '/api/v1/cluster/plan', { manifest: greedy, fail: ['r1'] });
  assert.equal(plan.status, 200);
  const lines = plan.json.lines as string[];
  assert.equal(plan.json.ok, false);
  assert.ok(lines.includes('headroom: absorbs the loss of 1 node(s): NO'), lines.join('\n'));
  assert.ok(lines.includes('if r1 failed:'), lines.join('\n'));
  assert.ok(
    lines.some((l) => /^ {2}b#0 \(needs cpu 0\.6, memory 0 MB\) fits nowhere: /.test(l)),
    lines.join('\n'),
  );
  assert.equal((await callApi(c, 0, 'POST', '/api/v1/cluster/plan', { fail: ['nope'] })).status, 404);
  const degraded = await deploy(c, 1, greedy, { acceptDegraded: true, dryRun: true });
  assert.equal(degraded.status, 200, JSON.stringify(degraded.json));
  assert.equal(degraded.json.applied, false);
  assert.deepEqual(
    (await workloadsStatus(c, 0)).nodes.flatMap((n) => n.instances),
    [],
  );

  // A deployment that fits, under traffic; then drain the node running filter.
  const ok = await deploy(
    c,
    0,
    workloadManifest(dir, [
      { name: 'filter', cpu: 0.3 },
      { name: 'counter', cpu: 0.3 },
    ]),
  );
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  const drained = await waitRunning(c, 0, 'filter');
  const name = c.replicas[drained]!.name;
  const records = new RecordImporter(c, dir);
  const devices = await Promise.all([0, 1].map((k) => c.device(`d${k}`, (drained + 1 + k) % 3, 20)));
  await waitFor('both modules processing', async () => {
    const r = await records.sync();
    return modules.every((m) => r.filter((x) => x.module === m).length > 40);
  });
  const atMs = Date.now();
  assert.equal((await callApi(c, 0, 'POST', `/api/v1/cluster/nodes/${name}/drain`, {})).status, 200);
  await waitFor(
    `filter processing away from ${name}`,
    async () => (await records.sync()).some((r) => r.module === 'filter' && r.atMs > atMs && r.node !== name),
    60_000,
    () => c.describe(),
  );
  const s = await workloadsStatus(c, 0);
  const node = s.nodes.find((n) => n.name === name);
  assert.equal(node?.admin, 'drained');
  assert.deepEqual(node?.instances, []);
  const moved = s.events.find((e) => e.kind === 'rebalance' && e.instance === 'filter#0');
  assert.equal(moved?.reason, `node ${name} is drained`);
  // While drained it takes nothing new, even a new module that would fit best there.
  await Promise.all(devices.map((d) => d.stop()));
  const summary = await checkEveryAckedProcessed(c, records, modules);
  console.log(`drain of ${name} under traffic: ${summary}`);
  assert.equal((await callApi(c, 0, 'POST', `/api/v1/cluster/nodes/${name}/uncordon`, {})).status, 200);
  await waitFor(
    'uncordoned',
    async () => (await workloadsStatus(c, 1)).nodes.find((n) => n.name === name)?.admin === 'active',
  );
});
