/**
 * SIGKILL of a hub replica, several times in a row: each time the killed replica held the
 * module's input (its consumer was connected there), devices connected to it move to the
 * others, the endpoint moves with its consumer, and the checker proves that nothing
 * acknowledged was lost, order held per sender, repeats stayed within the window and no
 * endpoint had two owners at once. Failover times are printed (docs/cluster.md quotes them).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { deviceRecovery, drainAndCheck, endpointsRecovery, formatFigures } from './support/failover.js';
import { HubCluster, moduleEndpoint, upstreamEndpoint } from './support/hub-cluster.js';
import { waitFor } from './support/wait.js';

const runs = Number(process.env.TANDEM_FAILOVER_RUNS ?? 3);
let cluster: HubCluster | undefined;

after(async () => {
  await cluster?.dispose();
});

test(`SIGKILL of the replica a module and devices use, ${runs} times: failover in seconds, nothing lost`, async () => {
  cluster = await HubCluster.start();
  const c = cluster;
  const cloud = c.cloudConsumer();
  await cloud.waitFor('the cloud reader', (e) => e.ev === 'subscribed');
  const filter = await c.filterModule(0);
  await filter.waitFor('the module subscribed', (e) => e.ev === 'subscribed');
  const devices = await Promise.all([0, 1, 2].map((i) => c.device(`d${i}`, i, 40)));
  const figures: string[] = [];
  for (let run = 0; run < runs; run++) {
    const before = c.recorder.arrivalCount(moduleEndpoint);
    await waitFor(
      'messages flowing to both endpoints',
      () => c.recorder.arrivalCount(moduleEndpoint) > before + 50 && c.holderOf(moduleEndpoint) !== undefined,
      undefined,
      () => c.describe(),
    );
    const victim = c.holderOf(moduleEndpoint)!;
    const upstreamMoved = c.holderOf(upstreamEndpoint) === victim;
    const atMs = await c.killReplica(victim);
    const moved = devices.filter((d) => d.server === `${c.address(victim).host}:${c.address(victim).port}`);
    const [endpointMs, ...deviceTimes] = await Promise.all([
      endpointsRecovery(c, atMs),
      ...moved.map((d) => deviceRecovery(d, atMs)),
    ]);
    const deviceMs = Object.fromEntries(
      moved.map((d, k) => [String(d.process.pid), deviceTimes[k] as number]),
    );
    const line = formatFigures({
      fault: `SIGKILL of replica r${victim}${upstreamMoved ? ' (also upstream)' : ''}`,
      deviceMs,
      endpointMs: endpointMs as Record<string, number>,
    });
    figures.push(line);
    console.log(line);
    c.startReplica(victim);
    await c.waitReady(victim);
  }
  const summary = await drainAndCheck(c, devices);
  console.log(summary);
  await filter.stop();
  await cloud.stop();
  assert.equal(figures.length, runs);
});
