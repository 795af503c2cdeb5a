/**
 * A node cut off from the others (its link down, processes still running): its nats-server
 * loses the quorum, its hub replica fences itself and stops delivering, clients notice by
 * keepalive and move; after healing, the node rejoins. Nothing acknowledged is lost and no
 * endpoint is delivered from both sides of the cut.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { HubCluster } from './support/hub-cluster.js';
import { runScenario } from './support/scenario.js';

let cluster: HubCluster | undefined;

after(async () => {
  await cluster?.dispose();
});

test('a node cut off and healed: the rest carries on, nothing acknowledged lost', async () => {
  const result = await runScenario(
    {
      inject: async (c, victim) => {
        const atMs = Date.now();
        await c.lab.cut(c.replicas[victim]!.node);
        return { atMs, label: `cutting node ${victim} off (client keepalive 2 s)` };
      },
      recover: async (c, victim) => {
        await c.lab.heal(c.replicas[victim]!.node);
        await c.nats.waitReady();
        await c.waitAllReady();
      },
    },
    // A cut sends no RST: clients learn of it by keepalive, which real devices should keep short too.
    { runs: 1, clientKeepaliveSec: 2, onCluster: (c) => (cluster = c) },
  );
  assert.equal(result.figures.length, 1);
});
