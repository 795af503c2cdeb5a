/**
 * SIGKILL of the nats-server on the node whose hub replica delivers the module's input: that
 * replica's store connection moves to another server of the cluster (and a stream leader on
 * it is elected anew), appends wait instead of failing, and nothing acknowledged is lost.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { HubCluster } from './support/hub-cluster.js';
import { runScenario } from './support/scenario.js';

let cluster: HubCluster | undefined;

after(async () => {
  await cluster?.dispose();
});

test('SIGKILL of a nats-server under a busy replica: appends wait, nothing acknowledged lost', async () => {
  const result = await runScenario(
    {
      inject: async (c, victim) => {
        const leader = await c.nats.waitReady();
        const atMs = Date.now();
        await c.nats.kill(victim);
        const role = leader === c.nats.server(victim).name ? ', the JetStream meta leader' : '';
        return { atMs, label: `SIGKILL of the nats-server of node ${victim}${role}` };
      },
      recover: async (c, victim) => {
        await c.nats.restart(victim);
        await c.nats.waitReady();
        await c.waitAllReady();
      },
    },
    { runs: 1, onCluster: (c) => (cluster = c) },
  );
  assert.equal(result.figures.length, 1);
});
