/**
 * Nested edge: a second in-process Tandem is the parent hub. The child's edge device is a
 * device in the parent's registry, and the child's connector connects with its connection
 * string (IoT Hub dialect, SAS token, the parent's CA). A leaf device and a module on the
 * child publish; a module on the parent receives them through the parent's own routes, one
 * of which routes by the origin properties, with properties and origin intact. The SAS
 * token is renewed by reconnecting, and delivery carries on.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { decodePropertyBag } from '../../src/core/topics/index.js';
import { limits } from '../../src/limits.js';
import { originProperties, startUpstream } from '../../src/upstream/index.js';
import { connectClient, outputTopic, telemetryTopic } from '../support/clients.js';
import { startTestNode, type TestNode } from '../support/node.js';
import { FakeTimers } from './support/fake-timers.js';
import { LinkProxy } from './support/link-proxy.js';
import { waitFor, waitForState } from './support/wait.js';

interface Delivered {
  readonly input: string;
  readonly body: string;
  readonly system: Record<string, string>;
  readonly props: Record<string, string>;
}

let parent: TestNode;
let child: TestNode;
let reader: MqttClient;
const delivered: Delivered[] = [];
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  parent = await startTestNode({
    edgeDeviceId: 'parent-edge',
    routes: {
      children:
        'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/reader/inputs/children")',
      childModules: `FROM /messages/* WHERE ${originProperties.moduleId} = 'filter' INTO BrokeredEndpoint("/modules/reader/inputs/modules")`,
    },
  });
  cleanups.push(() => parent.stop());
  child = await startTestNode({
    edgeDeviceId: 'child-edge',
    routes: { up: 'FROM /messages/* INTO $upstream' },
  });
  cleanups.push(() => child.stop());
  reader = await connectClient(parent.plain, await parent.identity('parent-edge', 'reader'));
  cleanups.push(() => reader.endAsync(true));
  reader.on('message', (topic, payload) => {
    // devices/{d}/modules/{m}/inputs/{input}/{bag}
    const levels = topic.split('/');
    const bag = decodePropertyBag(levels.slice(6).join('/'));
    delivered.push({
      input: levels[5]!,
      body: payload.toString(),
      system: bag.systemProperties,
      props: bag.properties,
    });
  });
  await reader.subscribeAsync('devices/parent-edge/modules/reader/inputs/#', { qos: 1 });
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** The child edge device's connection string towards the parent, as the parent's registry would print it. */
async function childConnectionString(gateway: string): Promise<string> {
  const key = (await parent.identity('child-edge')).primaryKey;
  return `HostName=${parent.node.hubName};DeviceId=child-edge;SharedAccessKey=${key};GatewayHostName=${gateway}`;
}

function byId(id: string, input: string): Delivered {
  const d = delivered.find((m) => m.system.messageId === id && m.input === input);
  assert.ok(
    d,
    `${id} on ${input}; got ${JSON.stringify(delivered.map((m) => [m.input, m.system.messageId]))}`,
  );
  return d;
}

test('a parent Tandem receives the child edge device telemetry with properties and origin', async () => {
  const key = (await parent.identity('child-edge')).primaryKey;
  const timers = new FakeTimers();
  const up = startUpstream(
    child.node.hub,
    {
      kind: 'iothub',
      connectionString: await childConnectionString(`localhost:${parent.secure.port}`),
      caPem: parent.node.caPem,
    },
    { timers },
  );
  cleanups.push(() => up.close());
  await waitForState(up, 'connected');

  const leaf = await connectClient(child.plain, await child.identity('leaf1'));
  cleanups.push(() => leaf.endAsync(true));
  const filter = await connectClient(child.plain, await child.identity('child-edge', 'filter'));
  cleanups.push(() => filter.endAsync(true));
  const bag = '$.mid=leaf-1&$.cid=c-1&$.ct=application%2Fjson&$.ce=utf-8&temp=21';
  await leaf.publishAsync(telemetryTopic('leaf1', bag), '{"temp":21}', { qos: 1 });
  await filter.publishAsync(outputTopic('child-edge', 'filter', 'alerts', '$.mid=mod-1&level=high'), 'hot', {
    qos: 1,
  });
  await waitFor('3 deliveries on the parent', () => delivered.length >= 3);

  const fromLeaf = byId('leaf-1', 'children');
  assert.equal(fromLeaf.body, '{"temp":21}');
  assert.equal(fromLeaf.props.temp, '21');
  assert.equal(fromLeaf.props[originProperties.deviceId], 'leaf1');
  assert.equal(fromLeaf.props[originProperties.moduleId], undefined);
  assert.equal(fromLeaf.system.correlationId, 'c-1');
  assert.equal(fromLeaf.system.contentType, 'application/json');
  assert.equal(fromLeaf.system.contentEncoding, 'utf-8');
  // The parent sees the child edge device as the sender.
  assert.equal(fromLeaf.system.connectionDeviceId, 'child-edge');

  const fromModule = byId('mod-1', 'children');
  assert.equal(fromModule.props.level, 'high');
  assert.equal(fromModule.props[originProperties.deviceId], 'child-edge');
  assert.equal(fromModule.props[originProperties.moduleId], 'filter');
  assert.equal(fromModule.props[originProperties.outputName], 'alerts');
  // The parent's route on the origin module took it too.
  assert.equal(byId('mod-1', 'modules').body, 'hot');
  assert.equal(delivered.filter((d) => d.input === 'modules').length, 1);

  const s = await up.status();
  assert.equal(s.target.kind, 'iothub');
  assert.equal(s.target.deviceId, 'child-edge');
  assert.equal(s.target.mqttVersion, '3.1.1');
  assert.ok(!JSON.stringify(s).includes(key), 'no key in the status');

  // Token renewal: the one pending policy timer is the renewal, due at 80% of the lifetime.
  const [renewal] = timers.pending;
  assert.ok(renewal && timers.pending.length === 1);
  const lifetimeMs = limits.upstreamSasTokenLifetimeSeconds * 1000;
  assert.ok(
    renewal.ms > lifetimeMs * 0.75 && renewal.ms <= lifetimeMs * 0.8,
    `renews after ${renewal.ms} ms`,
  );
  timers.fire();
  await waitFor('a second connection with a fresh token', async () => (await up.status()).connects === 2);
  await waitForState(up, 'connected');
  await leaf.publishAsync(telemetryTopic('leaf1', '$.mid=leaf-2'), 'after renewal', { qos: 1 });
  await waitFor('the message sent after the renewal', () =>
    delivered.some((d) => d.system.messageId === 'leaf-2'),
  );
  const renewed = await up.status();
  assert.equal(renewed.lastError, undefined, 'a renewal is not a failure');
  assert.equal(renewed.failures, 0);
  await up.close();
});

test('plain MQTT 5 to the parent (tls: false) also works', async () => {
  const up = startUpstream(child.node.hub, {
    kind: 'iothub',
    connectionString: await childConnectionString(`127.0.0.1:${parent.plain.port}`),
    tls: false,
    mqttVersion: '5',
  });
  cleanups.push(() => up.close());
  await waitForState(up, 'connected');
  const leaf = await connectClient(child.plain, await child.identity('leaf2'));
  cleanups.push(() => leaf.endAsync(true));
  await leaf.publishAsync(telemetryTopic('leaf2', '$.mid=v5-1&k=v'), 'v5', { qos: 1 });
  await waitFor('the MQTT 5 message on the parent', () =>
    delivered.some((d) => d.system.messageId === 'v5-1'),
  );
  const d = byId('v5-1', 'children');
  assert.equal(d.props.k, 'v');
  assert.equal(d.props[originProperties.deviceId], 'leaf2');
  assert.equal((await up.status()).target.mqttVersion, '5');
  // One consumer per stream, and one connection per device identity: the next test's connector must be alone.
  await up.close();
});

test('a wrong key is refused by the parent and shows in the status, with backoff', async () => {
  const up = startUpstream(
    child.node.hub,
    {
      kind: 'iothub',
      connectionString: `HostName=${parent.node.hubName};DeviceId=child-edge;SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')};GatewayHostName=127.0.0.1:${parent.plain.port}`,
      tls: false,
    },
    { backoff: { baseMs: 50, maxMs: 100 } },
  );
  cleanups.push(() => up.close());
  await waitForState(up, 'backoff');
  const s = await up.status();
  assert.match(s.lastError ?? '', /refused/i);
  assert.equal(s.connects, 0);
  await up.close();
  assert.equal((await up.status()).state, 'disabled');
});

test('a message too large for the parent topic limit is refused and counted; the next ones flow', async () => {
  const logs: string[] = [];
  const up = startUpstream(
    child.node.hub,
    {
      kind: 'iothub',
      connectionString: await childConnectionString(`127.0.0.1:${parent.plain.port}`),
      tls: false,
    },
    { log: (level, message) => logs.push(`${level} ${message}`), backoff: { baseMs: 50, maxMs: 200 } },
  );
  cleanups.push(() => up.close());
  await waitForState(up, 'connected');
  const leaf = await connectClient(child.plain, await child.identity('leaf3'));
  cleanups.push(() => leaf.endAsync(true));
  // Exactly at the child's topic limit; with the longer device id and the origin property
  // the parent's topic would be over it, so the parent would refuse it.
  const prefix = telemetryTopic('leaf3', '$.mid=big-1&pad=');
  const big = prefix + 'x'.repeat(limits.topicBytesMax - prefix.length);
  await leaf.publishAsync(big, 'too big', { qos: 1 });
  await leaf.publishAsync(telemetryTopic('leaf3', '$.mid=after-big'), 'fine', { qos: 1 });
  await waitFor('the message after the refused one', () =>
    delivered.some((d) => d.system.messageId === 'after-big'),
  );
  assert.ok(!delivered.some((d) => d.system.messageId === 'big-1'));
  const s = await up.status();
  assert.equal(s.refused, 1);
  assert.equal(s.connects, 1, 'no reconnect was needed');
  assert.ok(
    logs.some((l) => l.startsWith('warn') && l.includes('big-1') && l.includes('refused')),
    logs.join('\n'),
  );
  await up.close();
});

test('renewal with PUBACKs outstanding: after the drain bound it reconnects anyway and sends them again', async () => {
  const proxy = await LinkProxy.start(parent.plain.port);
  cleanups.push(() => proxy.close());
  const timers = new FakeTimers();
  const up = startUpstream(
    child.node.hub,
    {
      kind: 'iothub',
      connectionString: await childConnectionString(`127.0.0.1:${proxy.port}`),
      tls: false,
    },
    { timers },
  );
  cleanups.push(() => up.close());
  await waitForState(up, 'connected');
  const leaf = await connectClient(child.plain, await child.identity('leaf4'));
  cleanups.push(() => leaf.endAsync(true));
  proxy.holdReplies();
  const ids = ['held-1', 'held-2', 'held-3'];
  for (const id of ids) await leaf.publishAsync(telemetryTopic('leaf4', `$.mid=${id}`), id, { qos: 1 });
  await waitFor('3 publishes in flight', async () => (await up.status()).inflight === 3);

  timers.fire(); // the renewal: drain starts, but no PUBACK will come
  assert.equal((await up.status()).state, 'connected');
  const [drainBound] = timers.pending;
  assert.equal(drainBound?.ms, limits.upstreamRenewDrainMsMax);
  proxy.releaseReplies();
  timers.fire(); // the drain bound: the connection is renewed with the 3 still unacknowledged
  await waitFor('a second connection', async () => (await up.status()).connects === 2);
  await waitFor('the held messages on the parent', () =>
    ids.every((id) => delivered.some((d) => d.system.messageId === id)),
  );
  await waitFor('the queue to drain', async () => (await up.status()).queued === 0);
  const s = await up.status();
  assert.equal(s.failures, 0, 'a renewal is not a failure');
  assert.equal(s.lastError, undefined);
  // The parent routed each message on the first connection too (only its PUBACK was held back).
  for (const id of ids) assert.equal(delivered.filter((d) => d.system.messageId === id).length, 2, id);
  await up.close();
});
