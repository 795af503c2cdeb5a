/**
 * The seed's rule on two nodes, through the operator's own commands: a deployment using more
 * than half of a node is refused by `tandem deploy` with what does not fit where, and nothing
 * is applied; `tandem plan --fail` shows what a loss would do and exits 3 when the policy
 * breaks; a deployment that fits goes through; `tandem drain`, `uncordon` and `events` run
 * against the cluster; and /metrics counts each scheduler decision once, on the node that led.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { waitFor } from '../support/wait.js';
import type { HubCluster } from './support/hub-cluster.js';
import {
  cli,
  metrics,
  startWorkloadCluster,
  waitRunning,
  workloadManifest,
  workloadsStatus,
} from './support/workloads.js';

let cluster: HubCluster | undefined;
after(async () => {
  await cluster?.dispose();
});

const show = (r: { code: number | null; stdout: string; stderr: string }): string =>
  `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

test('two nodes: more than half a node refused with reasons; plan --fail; drain, uncordon, events and metrics by the CLI', async () => {
  const c = await startWorkloadCluster(2);
  cluster = c;
  const dir = await c.lab.tempDir('records');
  const file = async (name: string, manifest: unknown): Promise<string> => {
    const f = path.join(dir, `${name}.json`);
    await writeFile(f, JSON.stringify(manifest));
    return f;
  };
  // 0.6 of a core each: one per node, each node more than half full; the loss of either
  // leaves its module 0.6 to place where 0.4 is free.
  const greedy = await file(
    'greedy',
    workloadManifest(dir, [
      { name: 'a', cpu: 0.6 },
      { name: 'b', cpu: 0.6 },
    ]),
  );
  const refused = await cli(c, 0, ['deploy', greedy]);
  assert.equal(refused.code, 1, show(refused));
  assert.match(refused.stderr, /^tandem: TANDEM_E_HEADROOM: /, show(refused));
  assert.match(
    refused.stderr,
    /if r[01] failed, [ab]#0 \(needs cpu 0\.6, memory 0 MB\) fits nowhere: r0: [^;]+; r1: [^\n]+/,
    show(refused),
  );
  assert.match(refused.stderr, /cpu: needs 0\.6, 0\.4 of 1 free/, show(refused));
  assert.match(refused.stderr, /--accept-degraded applies it anyway/, show(refused));

  const planned = await cli(c, 1, ['plan', greedy, '--fail', 'r1']);
  assert.equal(planned.code, 3, show(planned));
  const lines = planned.stdout.split('\n');
  assert.ok(lines.includes('headroom: absorbs the loss of 1 node(s): NO'), show(planned));
  assert.ok(lines.includes('if r1 failed:'), show(planned));
  assert.ok(
    lines.some((l) =>
      /^ {2}[ab]#0 \(needs cpu 0\.6, memory 0 MB\) fits nowhere: r0: cpu: needs 0\.6, 0\.4 of 1 free; r1: down$/.test(
        l,
      ),
    ),
    show(planned),
  );
  // Nothing of the refused deployment was applied.
  const empty = await cli(c, 0, ['plan']);
  assert.equal(empty.code, 0, show(empty));
  assert.ok(
    empty.stdout.includes('node r0 (ready): cpu 0, memory 0 MB of cpu 1, memory 1024 MB'),
    show(empty),
  );
  assert.deepEqual(
    (await workloadsStatus(c, 1)).nodes.flatMap((n) => n.instances),
    [],
  );

  // At most half of each node: accepted, one module per node.
  const fits = await file(
    'fits',
    workloadManifest(dir, [
      { name: 'a', cpu: 0.4 },
      { name: 'b', cpu: 0.4 },
    ]),
  );
  const deployed = await cli(c, 1, ['deploy', fits]);
  assert.equal(deployed.code, 0, show(deployed));
  const at = { a: await waitRunning(c, 0, 'a'), b: await waitRunning(c, 0, 'b') };
  assert.notEqual(at.a, at.b, 'the two modules are spread over the two nodes');
  const loss = await cli(c, 0, ['plan', '--fail', 'r0']);
  assert.equal(loss.code, 0, show(loss));
  const moved = at.a === 0 ? 'a' : 'b';
  assert.ok(loss.stdout.split('\n').includes('headroom: absorbs the loss of 1 node(s): yes'), show(loss));
  assert.ok(loss.stdout.split('\n').includes(`  ${moved}#0 would move r0 -> r1`), show(loss));

  // Maintenance of r0 by the commands: drain moves its module, uncordon lets it take work again.
  const unknown = await cli(c, 1, ['drain', 'nope']);
  assert.equal(unknown.code, 1, show(unknown));
  assert.match(unknown.stderr, /^tandem: TANDEM_E_NODE_NOT_FOUND: /, show(unknown));
  assert.match((await cli(c, 1, ['drain'])).stderr, /missing <node>/);
  const drain = await cli(c, 1, ['drain', 'r0']);
  assert.equal(drain.code, 0, show(drain));
  assert.equal(drain.stdout, 'r0: drained; see tandem events\n');
  await waitFor(
    'both modules on r1',
    async () => (await runningOn(c, 1)).length === 2,
    60_000,
    () => c.describe(),
  );
  const events = await cli(c, 0, ['events']);
  assert.equal(events.code, 0, show(events));
  assert.match(events.stdout, new RegExp(`rebalance ${moved}#0 r0 -> r1: node r0 is drained`), show(events));
  assert.match(events.stdout, /placed a#0 \(new\) -> r[01]: /, show(events));
  const uncordon = await cli(c, 0, ['uncordon', 'r0']);
  assert.equal(uncordon.code, 0, show(uncordon));
  await waitFor(
    'r0 active',
    async () => (await workloadsStatus(c, 1)).nodes.find((n) => n.name === 'r0')?.admin === 'active',
  );

  // Metrics: one leader, and every decision counted once, by the node that led when it made
  // it (so the counters of both nodes add up to the events of each kind).
  const listed = await cli(c, 1, ['events', '--json']);
  assert.equal(listed.code, 0, show(listed));
  const kinds = (JSON.parse(listed.stdout) as { kind: string }[]).map((e) => e.kind);
  const m = await Promise.all([0, 1].map((i) => metrics(c, i)));
  assert.deepEqual(m.map((x) => x.get('tandem_scheduler_leader')).sort(), [0, 1]);
  for (const kind of ['placed', 'rebalance']) {
    const counted = m.reduce((n, x) => n + (x.get(`tandem_scheduler_events_total{kind="${kind}"}`) ?? 0), 0);
    assert.equal(counted, kinds.filter((k) => k === kind).length, `${kind}: ${listed.stdout}`);
  }
  assert.ok(kinds.filter((k) => k === 'placed').length >= 2 && kinds.includes('rebalance'), listed.stdout);
  for (const x of m) {
    assert.equal(x.get('tandem_cluster_nodes{condition="ready"}'), 2);
    assert.equal(x.get('tandem_cluster_nodes{condition="down"}'), 0);
    assert.equal(x.get('tandem_cluster_headroom_ok'), 1);
  }
});

/** The modules node i's agent reports running. */
async function runningOn(c: HubCluster, i: number): Promise<string[]> {
  const s = await workloadsStatus(c, 0);
  return (s.nodes.find((n) => n.name === c.replicas[i]!.name)?.modules ?? [])
    .filter((x) => x.state === 'running')
    .map((x) => x.name);
}
