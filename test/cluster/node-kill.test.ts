/**
 * A whole node lost at once (its nats-server and hub replica SIGKILLed, its link down): the
 * two others keep the quorum and take over its devices and endpoints; the node comes back
 * with its store and catches up. Nothing acknowledged is lost.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { HubCluster } from './support/hub-cluster.js';
import { runScenario } from './support/scenario.js';

let cluster: HubCluster | undefined;

after(async () => {
  await cluster?.dispose();
});

test('a whole node killed and brought back: nothing acknowledged lost', async () => {
  const result = await runScenario(
    {
      inject: async (c, victim) => {
        const atMs = Date.now();
        await c.lab.killNode(c.replicas[victim]!.node);
        c.replicaGone(victim, atMs);
        return { atMs, label: `losing node ${victim} (nats-server and hub replica killed, link down)` };
      },
      recover: async (c, victim) => {
        await c.lab.heal(c.replicas[victim]!.node);
        await c.nats.restart(victim);
        await c.nats.waitReady();
        c.startReplica(victim);
        await c.waitAllReady();
      },
    },
    { runs: 1, clientKeepaliveSec: 2, onCluster: (c) => (cluster = c) },
  );
  assert.equal(result.figures.length, 1);
});
