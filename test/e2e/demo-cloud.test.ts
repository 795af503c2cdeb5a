/**
 * The demo deployment end to end: the agent runs the sensor and filter modules (Azure IoT
 * SDK, workload API path), routes carry sensor -> filter -> $upstream, and the upstream
 * connector drains to a real mosquitto standing in for the cloud. The cloud is stopped for
 * a while: the queue grows; it comes back: every buffered message arrives, in order.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type AgentTestNode, demoManifest, seqs, startAgentNode } from '../support/demo.js';
import { waitFor } from '../support/wait.js';
import { CloudSubscriber } from '../upstream/support/cloud.js';
import { Mosquitto } from '../upstream/support/mosquitto.js';

let cloud: Mosquitto;
let subscriber: CloudSubscriber;
let edge: AgentTestNode;

before(async () => {
  cloud = await Mosquitto.start();
  subscriber = await CloudSubscriber.connect(cloud.url, 5, 'tandem/#', 'demo-cloud-test');
  // Threshold below any reading: the filter forwards everything, so seq must arrive gap-free.
  edge = await startAgentNode({
    manifest: demoManifest({ intervalMs: 40, threshold: -1000 }),
    upstream: { kind: 'mqtt', url: cloud.url },
  });
});

after(async () => {
  await edge?.stop();
  await subscriber?.close();
  await cloud?.dispose();
});

const upstreamQueue = () => edge.node.hub.queueLength('upstream');

test('demo: sensor -> filter -> $upstream reaches the cloud, and survives the cloud going away', async () => {
  await waitFor('20 messages in the cloud', () => subscriber.received.length >= 20, 60_000);
  const first = seqs(subscriber.received.map((m) => m.body));
  assert.deepEqual(first.slice(0, 5), [1, 2, 3, 4, 5], 'the cloud sees the sensor from its first reading');
  const alert = subscriber.received[0]!;
  assert.equal(alert.props.MessageType, 'Alert', 'the filter marked it');

  await cloud.stop();
  await waitFor('30 messages queued for upstream', async () => (await upstreamQueue()) >= 30, 60_000);
  const q1 = await upstreamQueue();
  await waitFor('the queue to keep growing', async () => (await upstreamQueue()) >= q1 + 20, 60_000);
  const status = await edge.node.status();
  const modules = Object.fromEntries((status.modules ?? []).map((m) => [m.name, m.state]));
  assert.deepEqual(modules, { filter: 'running', sensor: 'running' }, 'modules keep running offline');

  const queuedBeforeRestart = await upstreamQueue();
  await cloud.start();
  await waitFor('the buffer to drain', async () => (await upstreamQueue()) === 0, 60_000);
  await waitFor('the last sent message to arrive', () => {
    const got = seqs(subscriber.received.map((m) => m.body));
    return got.length > 0 && Math.max(...got) >= first.length + queuedBeforeRestart;
  });

  // Every message, once or more (at-least-once), first arrivals strictly in order, no gap.
  const got = seqs(subscriber.received.map((m) => m.body));
  const firstArrivals: number[] = [];
  const seen = new Set<number>();
  for (const s of got) {
    if (!seen.has(s)) firstArrivals.push(s);
    seen.add(s);
  }
  const max = Math.max(...got);
  assert.deepEqual(
    firstArrivals,
    Array.from({ length: max }, (_, i) => i + 1),
    'seq 1..max, each first seen in order',
  );
  assert.ok(max >= first.length + queuedBeforeRestart, `buffered messages arrived (max seq ${max})`);
  console.log(
    `demo-cloud: ${max} messages, ${queuedBeforeRestart} buffered while the cloud was down, ${got.length - max} repeats`,
  );
});
