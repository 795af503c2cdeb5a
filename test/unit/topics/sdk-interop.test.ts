/**
 * The official Node SDK (azure-iot-device 1.18 + azure-iot-device-mqtt 1.16) against the topic
 * grammar, both ways, without a socket: the SDK's `Mqtt` transport accepts its MQTT client as a
 * constructor argument (mqtt.js, "If the Mqtt constructor receives a second parameter, it shall
 * be used as a mqttBase"), so a fake records what the SDK publishes and subscribes to, and
 * feeds it what the hub would publish.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, it } from 'node:test';
import azureCommon from 'azure-iot-common';
import azureDevice from 'azure-iot-device';
import azureMqtt from 'azure-iot-device-mqtt';
import {
  type ClientTopic,
  formatC2dTopic,
  formatDesiredPatch,
  formatMethodRequest,
  formatModuleInputTopic,
  formatTwinResponse,
  parseClientId,
  parseClientTopic,
  parseSubscription,
  parseUsername,
} from '../../../src/core/topics/index.js';

type Done = (err?: Error | null, result?: unknown) => void;
interface Published {
  readonly topic: string;
  readonly qos: number;
}

/** Stands in for azure-iot-mqtt-base's MqttBase: records calls, succeeds at once. */
class FakeMqttBase extends EventEmitter {
  connectConfig: Record<string, unknown> = {};
  readonly published: Published[] = [];
  readonly subscribed: Published[] = [];
  connect(config: Record<string, unknown>, done: Done): void {
    this.connectConfig = config;
    done(null, {});
  }
  publish(topic: string, _payload: unknown, options: { qos: number }, done: Done): void {
    this.published.push({ topic, qos: options.qos });
    done(null, {});
  }
  subscribe(topic: string, options: { qos: number }, done: Done): void {
    this.subscribed.push({ topic, qos: options.qos });
    done(null, {});
  }
  unsubscribe(_topic: string, done: Done): void {
    done(null);
  }
  disconnect(done: Done): void {
    done(null);
  }
  updateSharedAccessSignature(_sas: string, done: Done): void {
    done(null);
  }
  setOptions(): void {}
}

type Transport = InstanceType<typeof azureMqtt.Mqtt>;
type SdkMessage = InstanceType<typeof azureCommon.Message>;

interface Rig {
  readonly transport: Transport;
  readonly base: FakeMqttBase;
  readonly auth: { stop(): void };
}

const key = Buffer.alloc(32, 7).toString('base64');

function call(fn: (done: Done) => void): Promise<unknown> {
  return new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));
}

async function rig(moduleId?: string): Promise<Rig> {
  const cs = `HostName=hub.example;DeviceId=dev1;${moduleId ? `ModuleId=${moduleId};` : ''}SharedAccessKey=${key};GatewayHostName=gw.local`;
  const auth = azureDevice.SharedAccessKeyAuthenticationProvider.fromConnectionString(cs);
  const base = new FakeMqttBase();
  const transport = new azureMqtt.Mqtt(auth, base);
  await call((d) => transport.connect(d));
  return { transport, base, auth };
}

function sdkMessage(): SdkMessage {
  const m = new azureCommon.Message('payload');
  m.messageId = 'id 1&=/%?#+';
  m.correlationId = 'corr';
  m.userId = 'user';
  m.contentType = 'application/json';
  m.contentEncoding = 'utf-8';
  m.expiryTimeUtc = new Date(0);
  m.properties.add('k&=/ %?#+', 'v&=/ %?é😀');
  m.properties.add('dt-subject', 'thermostat1');
  return m;
}

function lastTopic(base: FakeMqttBase): ClientTopic {
  const last = base.published[base.published.length - 1];
  assert.ok(last, 'the SDK published nothing');
  return parseClientTopic(last.topic);
}

function bags(t: ClientTopic): { sys: Record<string, string>; props: Record<string, string> } {
  assert.ok(t.kind === 'telemetry' || t.kind === 'moduleOutput');
  return { sys: { ...t.systemProperties }, props: { ...t.properties } };
}

const expectedSystem = {
  messageId: 'id 1&=/%?#+',
  correlationId: 'corr',
  userId: 'user',
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  absoluteExpiryTime: '1970-01-01T00:00:00.000Z',
  componentName: 'thermostat1',
  connectionDeviceId: 'dev1',
};

describe('Node SDK device -> topic grammar', () => {
  let r: Rig;
  before(async () => {
    r = await rig();
  });
  after(() => r.auth.stop());

  it('sends a client id and username the grammar reads', () => {
    const { clientId, username } = r.base.connectConfig as { clientId: string; username: string };
    assert.deepEqual(parseClientId(clientId), { deviceId: 'dev1' });
    const u = parseUsername(username);
    assert.equal(u.hubName, 'hub.example');
    assert.equal(u.deviceId, 'dev1');
    assert.equal(u.apiVersion, '2021-04-12');
    assert.match(u.deviceClientType ?? '', /^azure-iot-device\/1\.\d+\.\d+ \(node /);
  });

  it('publishes telemetry whose every property decodes back exactly', async () => {
    await call((d) => r.transport.sendEvent(sdkMessage(), d));
    const t = lastTopic(r.base);
    assert.equal(t.kind, 'telemetry');
    assert.deepEqual(bags(t), { sys: expectedSystem, props: { 'k&=/ %?#+': 'v&=/ %?é😀' } });
    assert.equal(r.base.published.at(-1)?.qos, 1);
  });

  it('publishes a message without properties on devices/{d}/messages/events/', async () => {
    await call((d) => r.transport.sendEvent(new azureCommon.Message('x'), d));
    assert.equal(r.base.published.at(-1)?.topic, 'devices/dev1/messages/events/');
    assert.deepEqual(bags(lastTopic(r.base)), { sys: { connectionDeviceId: 'dev1' }, props: {} });
  });

  it('subscribes only to filters the grammar knows, with the SDK QoS per filter', async () => {
    await call((d) => r.transport.enableC2D(d));
    await call((d) => r.transport.enableMethods(d));
    await call((d) => r.transport.enableTwinDesiredPropertiesUpdates(d));
    const kinds = r.base.subscribed.map((s) => [parseSubscription(s.topic).kind, s.qos]);
    assert.deepEqual(kinds, [
      ['c2d', 1],
      ['methods', 0],
      ['desiredPatches', 0],
    ]);
  });

  it('sends twin requests and method responses the grammar reads', async () => {
    r.transport.getTwin(() => {});
    r.transport.updateTwinReportedProperties({ a: 1 }, () => {});
    // sendMethodResponse reads only requestId, status and payload (mqtt.js).
    const response = { requestId: 'rid-1', status: 200, payload: {} } as unknown as Parameters<
      Transport['sendMethodResponse']
    >[0];
    await call((d) => r.transport.sendMethodResponse(response, d));
    const sent = r.base.published.slice(-3).map((p) => parseClientTopic(p.topic));
    assert.equal(sent[0]?.kind, 'twinGet');
    assert.equal(sent[1]?.kind, 'twinPatchReported');
    assert.deepEqual({ ...sent[2] }, { kind: 'methodResponse', rid: 'rid-1', status: 200 });
    assert.deepEqual(r.base.subscribed.at(-1), { topic: '$iothub/twin/res/#', qos: 0 });
    assert.ok(r.base.published.slice(-3).every((p) => p.qos === 0));
  });
});

describe('Node SDK module -> topic grammar', () => {
  let r: Rig;
  before(async () => {
    r = await rig('filter');
  });
  after(() => r.auth.stop());

  it('connects as {d}/{m} with the module in the username', () => {
    const { clientId, username } = r.base.connectConfig as { clientId: string; username: string };
    assert.deepEqual(parseClientId(clientId), { deviceId: 'dev1', moduleId: 'filter' });
    assert.equal(parseUsername(username).moduleId, 'filter');
  });

  it('publishes outputs with $.on and a trailing slash', async () => {
    await call((d) => r.transport.sendOutputEvent('out1', sdkMessage(), d));
    const t = lastTopic(r.base);
    assert.equal(t.kind === 'moduleOutput' && t.outputName, 'out1');
    assert.deepEqual(bags(t).sys, { outputName: 'out1', ...expectedSystem, connectionModuleId: 'filter' });
    assert.ok(r.base.published.at(-1)?.topic.endsWith('/'));
  });

  it('subscribes to its inputs at QoS 1', async () => {
    await call((d) => r.transport.enableInputMessages(d));
    const s = r.base.subscribed.at(-1);
    assert.deepEqual(parseSubscription(s?.topic ?? ''), {
      kind: 'moduleInputs',
      deviceId: 'dev1',
      moduleId: 'filter',
    });
    assert.equal(s?.qos, 1);
  });
});

const hubMessage = {
  systemProperties: {
    messageId: 'm 1&=/',
    correlationId: 'c1',
    contentType: 'application/json',
    connectionDeviceId: 'sensor',
    connectionModuleId: 'filter',
  },
  properties: { 'a b': 'x&y=z/é' },
};

describe('topic grammar -> Node SDK', () => {
  it('delivers C2D messages the SDK decodes (its decoder keeps $.cdid/$.cmid as properties)', async () => {
    const r = await rig();
    const got = new Promise<SdkMessage>((resolve) => r.transport.on('message', resolve));
    await call((d) => r.transport.enableC2D(d));
    r.base.emit('message', formatC2dTopic('dev1', hubMessage), Buffer.from('hi'));
    const m = await got;
    r.auth.stop();
    assert.equal(m.messageId, 'm 1&=/');
    assert.equal(m.correlationId, 'c1');
    assert.equal(m.contentType, 'application/json');
    assert.equal(m.properties.getValue('a b'), 'x&y=z/é');
    assert.equal(m.properties.getValue('$.cdid'), 'sensor');
    assert.equal(m.properties.getValue('$.cmid'), 'filter');
  });

  it('delivers module inputs with their input name', async () => {
    const r = await rig('mod1');
    const got = new Promise<[string, SdkMessage]>((resolve) =>
      r.transport.on('inputMessage', (name: string, m: SdkMessage) => resolve([name, m])),
    );
    await call((d) => r.transport.enableInputMessages(d));
    r.base.emit('message', formatModuleInputTopic('dev1', 'mod1', 'input1', hubMessage), Buffer.from('hi'));
    const [inputName, m] = await got;
    r.auth.stop();
    assert.equal(inputName, 'input1');
    assert.equal(m.messageId, 'm 1&=/');
    assert.equal(m.properties.getValue('a b'), 'x&y=z/é');
  });

  it('delivers an input without properties (the SDK regex needs the slash after the input name)', async () => {
    const r = await rig('mod1');
    const got = new Promise<string>((resolve) =>
      r.transport.on('inputMessage', (name: string) => resolve(name)),
    );
    await call((d) => r.transport.enableInputMessages(d));
    r.base.emit(
      'message',
      formatModuleInputTopic('dev1', 'mod1', 'in2', { systemProperties: {}, properties: {} }),
      Buffer.from(''),
    );
    assert.equal(await got, 'in2');
    r.auth.stop();
  });

  it('delivers direct-method requests with their request id', async () => {
    const r = await rig();
    const got = new Promise<{ requestId: string; methods: { methodName: string } }>((resolve) =>
      r.transport.onDeviceMethod('reboot', (req) =>
        resolve(req as unknown as { requestId: string; methods: { methodName: string } }),
      ),
    );
    await call((d) => r.transport.enableMethods(d));
    r.base.emit('message', formatMethodRequest('reboot', 'a1 b'), Buffer.from('{}'));
    const req = await got;
    r.auth.stop();
    assert.equal(req.requestId, 'a1 b');
    assert.equal(req.methods.methodName, 'reboot');
  });

  it('answers twin GETs and pushes desired patches the SDK accepts', async () => {
    const r = await rig();
    const twin = call((d) => r.transport.getTwin(d));
    await new Promise((resolve) => setImmediate(resolve));
    const request = lastTopic(r.base);
    assert.equal(request.kind, 'twinGet');
    const rid = request.kind === 'twinGet' ? request.rid : '';
    const body = { desired: { $version: 3 }, reported: { $version: 1 } };
    r.base.emit('message', formatTwinResponse(200, rid), Buffer.from(JSON.stringify(body)));
    assert.deepEqual(await twin, body);

    const patch = new Promise<unknown>((resolve) => r.transport.on('twinDesiredPropertiesUpdate', resolve));
    await call((d) => r.transport.enableTwinDesiredPropertiesUpdates(d));
    r.base.emit('message', formatDesiredPatch(4), Buffer.from('{"x":1,"$version":4}'));
    assert.deepEqual(await patch, { x: 1, $version: 4 });
    r.auth.stop();
  });
});
