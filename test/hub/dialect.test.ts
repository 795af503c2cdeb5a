/**
 * IoT Hub's MQTT dialect end to end over real sockets with MQTT.js: telemetry routed to a
 * module input with properties intact, twins, desired-property notifications, direct
 * methods and cloud-to-device messages.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { connectClient, outputTopic, telemetryTopic } from '../support/clients.js';
import { startTestNode, type TestNode } from '../support/node.js';

let t: TestNode;

before(async () => {
  t = await startTestNode({
    routes: {
      toFilter:
        'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/filter/inputs/input1")',
      filterOut:
        'FROM /messages/modules/filter/outputs/out1 INTO BrokeredEndpoint("/modules/sink/inputs/fromFilter")',
      hot: { route: 'FROM /messages/* WHERE $body.temperature > 30 INTO $upstream', priority: 1 },
    },
  });
});

after(async () => {
  await t.stop();
});

function nextMessage(client: MqttClient): Promise<{ topic: string; payload: Buffer }> {
  return new Promise((resolve) => client.once('message', (topic, payload) => resolve({ topic, payload })));
}

test('device telemetry reaches a routed module input with system and application properties', async () => {
  const device = await connectClient(t.plain, await t.identity('dev1'));
  const filter = await connectClient(t.plain, await t.identity('edge1', 'filter'));
  await filter.subscribeAsync('devices/edge1/modules/filter/inputs/#', { qos: 1 });
  const got = nextMessage(filter);
  const bag = '$.mid=m-1&$.cid=c-9&$.ct=application%2Fjson&$.ce=utf-8&unit=celsius&site%20name=plant%2F7';
  await device.publishAsync(telemetryTopic('dev1', bag), JSON.stringify({ temperature: 21 }), { qos: 1 });
  const { topic, payload } = await got;
  assert.equal(JSON.parse(payload.toString()).temperature, 21);
  assert.ok(topic.startsWith('devices/edge1/modules/filter/inputs/input1/'), topic);
  const props = new URLSearchParams(topic.slice('devices/edge1/modules/filter/inputs/input1/'.length));
  assert.equal(props.get('$.mid'), 'm-1');
  assert.equal(props.get('$.cid'), 'c-9');
  assert.equal(props.get('$.ct'), 'application/json');
  assert.equal(props.get('$.cdid'), 'dev1');
  assert.equal(props.get('unit'), 'celsius');
  assert.equal(props.get('site name'), 'plant/7');
  await Promise.all([device.endAsync(), filter.endAsync()]);
});

test('a module output is routed to another module input and the route filter applies', async () => {
  const filter = await connectClient(t.plain, await t.identity('edge1', 'filter'));
  const sink = await connectClient(t.plain, await t.identity('edge1', 'sink'));
  await sink.subscribeAsync('devices/edge1/modules/sink/inputs/#', { qos: 1 });
  const got = nextMessage(sink);
  await filter.publishAsync(outputTopic('edge1', 'filter', 'out2'), 'not routed', { qos: 1 });
  await filter.publishAsync(outputTopic('edge1', 'filter', 'out1', 'kind=alert'), 'routed', { qos: 1 });
  const { topic, payload } = await got;
  assert.equal(payload.toString(), 'routed');
  const props = new URLSearchParams(topic.split('/').slice(6).join('/'));
  assert.equal(props.get('kind'), 'alert');
  assert.equal(props.get('$.cdid'), 'edge1');
  assert.equal(props.get('$.cmid'), 'filter');
  assert.equal(props.get('$.on'), null, 'edgeHub does not forward the output name to inputs');
  await Promise.all([filter.endAsync(), sink.endAsync()]);
});

test('$upstream queues durable messages and its length is visible', async () => {
  const before = await t.node.hub.queueLength('upstream');
  const device = await connectClient(t.plain, await t.identity('dev2'));
  await device.publishAsync(
    telemetryTopic('dev2', '$.ct=application%2Fjson&$.ce=utf-8'),
    JSON.stringify({ temperature: 35 }),
    { qos: 1 },
  );
  await device.publishAsync(
    telemetryTopic('dev2', '$.ct=application%2Fjson&$.ce=utf-8'),
    JSON.stringify({ temperature: 5 }),
    { qos: 1 },
  );
  assert.equal(await t.node.hub.queueLength('upstream'), before + 1);
  await device.endAsync();
});

test('twin: get, reported patch with versions, desired patch notification', async () => {
  const device = await connectClient(t.plain, await t.identity('dev3'));
  await device.subscribeAsync('$iothub/twin/res/#', { qos: 0 });
  await device.subscribeAsync('$iothub/twin/PATCH/properties/desired/#', { qos: 0 });
  let reply = nextMessage(device);
  await device.publishAsync('$iothub/twin/GET/?$rid=1', '', { qos: 0 });
  let r = await reply;
  assert.equal(r.topic, '$iothub/twin/res/200/?$rid=1');
  assert.deepEqual(JSON.parse(r.payload.toString()), { desired: { $version: 1 }, reported: { $version: 1 } });

  reply = nextMessage(device);
  await device.publishAsync(
    '$iothub/twin/PATCH/properties/reported/?$rid=2',
    JSON.stringify({ fw: '1.2', nested: { a: 1 } }),
    { qos: 0 },
  );
  r = await reply;
  assert.equal(r.topic, '$iothub/twin/res/204/?$rid=2&$version=2');

  const desired = nextMessage(device);
  assert.equal(await t.node.hub.patchDesired('dev3', { interval: 5 }), 2);
  r = await desired;
  assert.equal(r.topic, '$iothub/twin/PATCH/properties/desired/?$version=2');
  assert.deepEqual(JSON.parse(r.payload.toString()), { interval: 5, $version: 2 });

  reply = nextMessage(device);
  await device.publishAsync('$iothub/twin/GET/?$rid=3', '', { qos: 0 });
  r = await reply;
  assert.deepEqual(JSON.parse(r.payload.toString()), {
    desired: { interval: 5, $version: 2 },
    reported: { fw: '1.2', nested: { a: 1 }, $version: 2 },
  });

  reply = nextMessage(device);
  await device.publishAsync('$iothub/twin/PATCH/properties/reported/?$rid=4', 'not json', { qos: 0 });
  r = await reply;
  assert.equal(r.topic, '$iothub/twin/res/400/?$rid=4');
  await device.endAsync();
});

test('direct method: invoked through the hub, answered by the device; offline target fails', async () => {
  const device = await connectClient(t.plain, await t.identity('dev4'));
  await device.subscribeAsync('$iothub/methods/POST/#', { qos: 0 });
  device.on('message', (topic, payload) => {
    const m = /^\$iothub\/methods\/POST\/([^/]+)\/\?\$rid=(.+)$/.exec(topic);
    if (!m) return;
    const answer = JSON.stringify({ echoed: JSON.parse(payload.toString()), method: m[1] });
    device.publish(`$iothub/methods/res/200/?$rid=${m[2]}`, answer, { qos: 0 });
  });
  const result = await t.node.hub.invokeMethod({
    identity: 'dev4',
    methodName: 'reboot',
    payload: { delay: 3 },
  });
  assert.deepEqual(result, { status: 200, payload: { echoed: { delay: 3 }, method: 'reboot' } });
  await device.endAsync();
  await assert.rejects(t.node.hub.invokeMethod({ identity: 'dev4', methodName: 'reboot', payload: null }), {
    code: 'TANDEM_E_METHOD_OFFLINE',
  });
});

test('cloud-to-device messages are queued durably and delivered in order on subscribe', async () => {
  await t.node.hub.sendCloudToDevice('dev5', Buffer.from('first'), { cmd: 'a' });
  await t.node.hub.sendCloudToDevice('dev5', Buffer.from('second'), { cmd: 'b' });
  const device = await connectClient(t.plain, await t.identity('dev5'));
  const got: string[] = [];
  const done = new Promise<void>((resolve) =>
    device.on('message', (topic, payload) => {
      assert.ok(topic.startsWith('devices/dev5/messages/devicebound/'), topic);
      got.push(payload.toString());
      if (got.length === 2) resolve();
    }),
  );
  await device.subscribeAsync('devices/dev5/messages/devicebound/#', { qos: 1 });
  await done;
  assert.deepEqual(got, ['first', 'second']);
  await device.endAsync();
});

test('one live connection per identity: a second connection takes over', async () => {
  const id = await t.identity('dev6');
  const first = await connectClient(t.plain, id);
  const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
  const second = await connectClient(t.plain, id);
  await closed;
  assert.equal(second.connected, true);
  assert.deepEqual(
    t.node.hub.connectedIdentities().filter((k) => k === 'dev6'),
    ['dev6'],
  );
  first.end(true);
  await second.endAsync();
});
