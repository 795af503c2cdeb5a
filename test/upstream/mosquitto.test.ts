/**
 * The upstream connector against a real Mosquitto broker standing in for the cloud:
 * messages routed INTO $upstream arrive with body and properties intact, in order (MQTT 5
 * and 3.1.1); and when the broker is stopped while a device keeps publishing, the hub queues,
 * the connector backs off, and after the broker is back every message arrives, in order,
 * with repeats bounded by the in-flight window (G1, G2, G3).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { limits } from '../../src/limits.js';
import { startUpstream } from '../../src/upstream/index.js';
import { connectClient, outputTopic, telemetryTopic } from '../support/clients.js';
import { startTestNode, type TestNode } from '../support/node.js';
import { CloudSubscriber } from './support/cloud.js';
import { LinkProxy } from './support/link-proxy.js';
import { Mosquitto } from './support/mosquitto.js';
import { waitFor, waitForState } from './support/wait.js';

/** Short backoff so a restarted broker is found quickly; the policy itself is tested with a fake clock. */
const fastBackoff = { baseMs: 100, maxMs: 1000 };
const upstreamRoute = { up: 'FROM /messages/* INTO $upstream' };

let broker: Mosquitto;
/** What the current test started, stopped after it (newest first) so tests do not see each other. */
let cleanups: Array<() => Promise<void>> = [];
let logs: string[] = [];
const log = (level: string, message: string): void => void logs.push(`${level} ${message}`);

before(async () => {
  broker = await Mosquitto.start();
});

beforeEach(() => {
  cleanups = [];
  logs = [];
});

afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

after(async () => {
  await broker.dispose();
});

async function node(edgeDeviceId: string): Promise<TestNode> {
  const t = await startTestNode({ edgeDeviceId, routes: upstreamRoute });
  cleanups.push(() => t.stop());
  return t;
}

function track<T extends { close(): Promise<void> }>(x: T): T {
  cleanups.push(() => x.close());
  return x;
}

async function device(t: TestNode, deviceId: string, moduleId?: string): Promise<MqttClient> {
  const client = await connectClient(t.plain, await t.identity(deviceId, moduleId));
  cleanups.push(() => client.endAsync(true));
  return client;
}

test('MQTT 5: body, properties and order reach the cloud subscriber', async () => {
  const t = await node('edge-v5');
  const cloud = track(await CloudSubscriber.connect(broker.url, 5, 'tandem/#', 'cloud-v5'));
  const up = track(
    startUpstream(t.node.hub, { kind: 'mqtt', url: broker.url }, { log, backoff: fastBackoff }),
  );
  await waitForState(up, 'connected');
  const dev = await device(t, 'dev1');
  const n = 50;
  for (let i = 1; i <= n; i++) {
    const bag = `$.mid=m-${i}&$.cid=corr-${i}&$.ct=application%2Fjson&$.ce=utf-8&seq=${i}&unit=%C2%B0C`;
    await dev.publishAsync(telemetryTopic('dev1', bag), JSON.stringify({ n: i }), { qos: 1 });
  }
  await waitFor('50 messages at the cloud', () => cloud.received.length >= n);
  assert.deepEqual(
    cloud.received.map((m) => m.id),
    Array.from({ length: n }, (_, i) => `m-${i + 1}`),
  );
  const first = cloud.received[0]!;
  assert.equal(first.topic, 'tandem/edge-v5/messages');
  assert.equal(first.body, '{"n":1}');
  assert.equal(first.contentType, 'application/json');
  assert.equal(first.correlationId, 'corr-1');
  assert.equal(first.props.seq, '1');
  assert.equal(first.props.unit, '°C');
  assert.equal(first.props['$.ce'], 'utf-8');
  assert.equal(first.props['$.cdid'], 'dev1');
  assert.equal(first.props['$.cmid'], undefined);
  assert.ok(!Number.isNaN(Date.parse(first.props['iothub-enqueuedtime'] ?? '')), 'enqueued time is a date');
  await waitFor('sent counted', async () => (await up.status()).sent === n);
  const s = await up.status();
  assert.equal(s.state, 'connected');
  assert.equal(s.queued, 0);
  assert.equal(s.connects, 1);
  assert.equal(s.target.url, broker.url);
  assert.equal(s.target.topic, 'tandem/{edgeDeviceId}/messages');
});

test('MQTT 3.1.1: a topic template and the IoT Hub property bag after it', async () => {
  const t = await node('edge-v4');
  const cloud = track(await CloudSubscriber.connect(broker.url, 4, 'site/#', 'cloud-v4'));
  const config = {
    kind: 'mqtt' as const,
    url: broker.url,
    mqttVersion: '3.1.1' as const,
    clientId: 'edge-v4-upstream',
    topic: 'site/{edgeDeviceId}/{deviceId}/{moduleId}/{outputName}',
  };
  const up = track(startUpstream(t.node.hub, config, { log, backoff: fastBackoff }));
  await waitForState(up, 'connected');
  const dev = await device(t, 'dev2');
  const mod = await device(t, 'edge-v4', 'filter');
  await dev.publishAsync(telemetryTopic('dev2', '$.mid=d-1&temp=21'), 'from device', { qos: 1 });
  await mod.publishAsync(outputTopic('edge-v4', 'filter', 'alerts', '$.mid=o-1&level=high'), 'from module', {
    qos: 1,
  });
  await waitFor('2 messages at the cloud', () => cloud.received.length >= 2);
  const [d, o] = cloud.received;
  assert.ok(d!.topic.startsWith('site/edge-v4/dev2///'), d!.topic);
  assert.equal(d!.body, 'from device');
  assert.equal(d!.id, 'd-1');
  assert.equal(d!.props.temp, '21');
  assert.equal(d!.system.connectionDeviceId, 'dev2');
  assert.ok(d!.props['iothub-enqueuedtime']);
  assert.ok(o!.topic.startsWith('site/edge-v4/edge-v4/filter/alerts/'), o!.topic);
  assert.equal(o!.id, 'o-1');
  assert.equal(o!.props.level, 'high');
  assert.equal(o!.system.connectionModuleId, 'filter');
  assert.equal(o!.system.outputName, 'alerts');
  assert.equal((await up.status()).target.mqttVersion, '3.1.1');
});

/** Publishes `m-1`, `m-2`... at QoS 1, one after the other, until stopped; counts PUBACKs. */
class Publisher {
  acked = 0;
  #stop = false;
  readonly #done: Promise<void>;

  constructor(client: MqttClient, deviceId: string) {
    this.#done = (async () => {
      while (!this.#stop) {
        const i = this.acked + 1;
        await client.publishAsync(telemetryTopic(deviceId, `$.mid=m-${i}&i=${i}`), `reading ${i}`, {
          qos: 1,
        });
        this.acked = i;
        // Pacing, not synchronisation: a few hundred messages over the test, not tens of thousands.
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  }

  async stop(): Promise<number> {
    this.#stop = true;
    await this.#done;
    return this.acked;
  }
}

test('cloud outage: the hub queues, the connector backs off, then everything arrives in order', async () => {
  const t = await node('edge-outage');
  const cloud = track(await CloudSubscriber.connect(broker.url, 5, 'tandem/edge-outage/#', 'cloud-outage'));
  const up = track(
    startUpstream(t.node.hub, { kind: 'mqtt', url: broker.url }, { log, backoff: fastBackoff }),
  );
  await waitForState(up, 'connected');
  const publisher = new Publisher(await device(t, 'dev3'), 'dev3');
  await waitFor('traffic before the outage', () => cloud.received.length >= 20);

  await broker.stop();
  await waitForState(up, 'backoff');
  const during = await up.status();
  assert.ok(during.lastError, 'the outage has a reason');
  assert.ok(during.nextAttemptAtMs !== undefined);
  const q1 = (await up.status()).queued;
  await waitFor(
    'the queue to grow by 20 while the cloud is away',
    async () => (await up.status()).queued >= q1 + 20,
  );
  const outage = await up.status();
  assert.ok(outage.state === 'backoff' || outage.state === 'connecting', outage.state);
  assert.ok(outage.failures >= 1);

  await broker.start();
  await waitForState(up, 'connected');
  const atReconnect = publisher.acked;
  await waitFor('traffic after the outage', () => cloud.uniqueIds().length > atReconnect + 20);
  const total = await publisher.stop();

  await waitFor(`all ${total} messages at the cloud`, () => cloud.uniqueIds().length >= total).catch(
    async (err: Error) => {
      const ids = new Set(cloud.uniqueIds());
      const missing = Array.from({ length: total }, (_, i) => `m-${i + 1}`).filter((id) => !ids.has(id));
      const status = JSON.stringify(await up.status());
      throw new Error(`${err.message}; missing ${missing.slice(0, 20)}; ${status}\n${logs.join('\n')}`);
    },
  );
  assert.deepEqual(
    cloud.uniqueIds(),
    Array.from({ length: total }, (_, i) => `m-${i + 1}`),
    'every message, in order',
  );
  assert.ok(cloud.repeats <= limits.upstreamInflightMessagesMax, `${cloud.repeats} repeats`);
  for (const m of cloud.received) assert.equal(m.body, `reading ${m.id.slice(2)}`);
  await waitFor('the queue to drain', async () => (await up.status()).queued === 0);
  const s = await up.status();
  assert.equal(s.sent, total);
  assert.equal(s.connects, 2);
  assert.equal(s.state, 'connected');
  console.log(
    `outage: ${total} messages, ${outage.queued} queued when checked, ${cloud.repeats} repeats, ${outage.failures} failed attempts`,
  );
});

/** Mosquitto's default max_inflight_messages, which it announces as Receive Maximum in an MQTT 5 CONNACK. */
const mosquittoReceiveMaximum = 20;

for (const [version, window] of [
  ['3.1.1', limits.upstreamInflightMessagesMax],
  ['5', mosquittoReceiveMaximum],
] as const) {
  test(`link cut with publishes in flight (MQTT ${version}): ${window} in flight at most, and only they repeat`, async () => {
    const edge = `edge-cut-${version === '5' ? 5 : 4}`;
    const t = await node(edge);
    const proxy = track(await LinkProxy.start(broker.port));
    const cloud = track(
      await CloudSubscriber.connect(broker.url, version === '5' ? 5 : 4, `tandem/${edge}/#`, `cloud-${edge}`),
    );
    const config = { kind: 'mqtt' as const, url: proxy.url, mqttVersion: version };
    const up = track(startUpstream(t.node.hub, config, { log, backoff: fastBackoff }));
    await waitForState(up, 'connected');
    const n = window + 50;
    proxy.holdReplies();
    const dev = await device(t, 'dev4');
    for (let i = 1; i <= n; i++)
      await dev.publishAsync(telemetryTopic('dev4', `$.mid=m-${i}`), `reading ${i}`, { qos: 1 });
    // No PUBACK comes back: the connector stops at its window, the rest waits in the hub.
    await waitFor('a full window at the cloud', () => cloud.received.length >= window);
    const held = await up.status();
    assert.equal(held.inflight, window);
    assert.equal(held.queued, n);
    assert.equal(cloud.received.length, window, 'nothing past the window was sent');

    proxy.cut();
    await waitForState(up, 'backoff');
    await waitForState(up, 'connected');
    await waitFor(`all ${n} messages at the cloud`, () => cloud.uniqueIds().length >= n);
    await waitFor('the queue to drain', async () => (await up.status()).queued === 0);
    assert.deepEqual(
      cloud.uniqueIds(),
      Array.from({ length: n }, (_, i) => `m-${i + 1}`),
    );
    // The window's messages reached the broker but their PUBACKs were lost: each is sent again, once.
    assert.equal(cloud.repeats, window);
    assert.equal((await up.status()).sent, n);
  });
}
