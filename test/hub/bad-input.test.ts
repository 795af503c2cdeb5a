/**
 * Bad input gets a clear refusal and costs nobody else anything: malformed and truncated
 * packets, oversize messages, wrong or expired SAS tokens, another identity's topics, QoS 2.
 * Throughout, a healthy device keeps publishing and its module keeps receiving.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { createSasToken } from '../../src/identity/sas.js';
import { limits } from '../../src/limits.js';
import { clientOptions, connectClient, telemetryTopic } from '../support/clients.js';
import { startTestNode, type TestNode } from '../support/node.js';

let t: TestNode;
let healthy: MqttClient;
let watcher: MqttClient;
let received = 0;

before(async () => {
  t = await startTestNode({
    routes: {
      r: 'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/watch/inputs/in")',
    },
  });
  healthy = await connectClient(t.plain, await t.identity('healthy'));
  watcher = await connectClient(t.plain, await t.identity('edge1', 'watch'));
  watcher.on('message', () => received++);
  await watcher.subscribeAsync('devices/edge1/modules/watch/inputs/#', { qos: 1 });
});

after(async () => {
  await healthy.endAsync();
  await watcher.endAsync();
  await t.stop();
});

/** The hub still serves everyone else: a healthy publish is acknowledged and delivered. */
async function stillServing(): Promise<void> {
  const before = received;
  await healthy.publishAsync(telemetryTopic('healthy'), 'ping', { qos: 1 });
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (received > before) {
        watcher.off('message', check);
        resolve();
      }
    };
    watcher.on('message', check);
    check();
  });
}

/**
 * Sends raw bytes on a fresh socket; resolves with what came back before the hub closed it.
 * `afterReply` is written once the first reply (the CONNACK) arrived.
 */
function rawExchange(bytes: Buffer[], afterReply: Buffer[] = []): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(t.plain.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d) => {
      chunks.push(d);
      if (chunks.length === 1) for (const b of afterReply) socket.write(b);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('connect', () => {
      for (const b of bytes) socket.write(b);
    });
  });
}

function connectBytes(deviceId: string, password: string): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    clientId: deviceId,
    username: `${t.plain.hubName}/${deviceId}/?api-version=2021-04-12`,
    password: Buffer.from(password),
  });
}

test('garbage bytes and a non-CONNECT first packet close only that connection', async () => {
  assert.equal((await rawExchange([Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f, 0x00])])).length, 0);
  assert.equal((await rawExchange([mqttPacket.generate({ cmd: 'pingreq' })])).length, 0);
  await stillServing();
});

test('a packet declaring more than the packet limit is refused before it is buffered', async () => {
  const id = await t.identity('big1');
  const connect = connectBytes('big1', sasFor('big1', id.primaryKey, 3600));
  // Fixed header of a PUBLISH announcing 100 MB, then a trickle: the hub must not wait for it.
  const header = Buffer.from([0x32, 0x80, 0x80, 0x80, 0x30]);
  const reply = await rawExchange([connect], [header, Buffer.alloc(70_000)]);
  assert.equal(reply[0], 0x20, 'CONNACK first');
  assert.equal(reply.length, 4, 'no PUBACK');
  await stillServing();
});

test('a truncated packet followed by the socket closing leaves the hub serving', async () => {
  const full = connectBytes('trunc', 'x');
  assert.equal((await rawExchange([full.subarray(0, full.length - 3)])).length, 0);
  await stillServing();
});

function sasFor(deviceId: string, key: string, lifetimeSec: number): string {
  return createSasToken({
    resourceUri: `${t.plain.hubName}/devices/${deviceId}`,
    key,
    expirySec: Math.floor(Date.now() / 1000) + lifetimeSec,
  });
}

async function connackCode(options: mqtt.IClientOptions): Promise<number | undefined> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${t.plain.port}`, { reconnectPeriod: 0, ...options });
  try {
    return await new Promise<number | undefined>((resolve) => {
      client.once('connect', () => resolve(0));
      client.once('error', (err) => resolve((err as { code?: number }).code));
    });
  } finally {
    client.end(true);
  }
}

test('wrong, expired and foreign SAS tokens are refused with CONNACK 4 (MQTT 3.1.1) / 0x86 (MQTT 5)', async () => {
  const id = await t.identity('auth1');
  const other = await t.identity('auth2');
  const base = clientOptions(t.plain, id);
  assert.equal(await connackCode({ ...base, password: 'SharedAccessSignature sr=x&sig=y&se=1' }), 4);
  assert.equal(await connackCode({ ...base, password: sasFor('auth1', id.primaryKey, -600) }), 4);
  assert.equal(await connackCode({ ...base, password: sasFor('auth1', other.primaryKey, 3600) }), 4);
  assert.equal(await connackCode({ ...base, password: sasFor('auth2', other.primaryKey, 3600) }), 4);
  assert.equal(await connackCode({ ...base, clientId: 'auth2' }), 4);
  assert.equal(
    await connackCode({ ...base, protocolVersion: 5, password: sasFor('auth1', id.primaryKey, -600) }),
    0x86,
  );
  assert.equal(await connackCode(base), 0);
  await stillServing();
});

test("publishing on another identity's topic: MQTT 5 gets PUBACK 0x87, MQTT 3.1.1 is disconnected; nothing is stored", async () => {
  const before = received;
  const v5 = await connectClient(t.plain, await t.identity('intruder5'), { protocolVersion: 5 });
  await assert.rejects(
    v5.publishAsync(telemetryTopic('healthy'), 'spoof', { qos: 1 }),
    (err: Error & { code?: number }) => err.code === 0x87,
  );
  assert.equal(v5.connected, true);
  await v5.endAsync();

  const v4 = await connectClient(t.plain, await t.identity('intruder4'));
  const closed = new Promise<void>((resolve) => v4.once('close', () => resolve()));
  v4.publish(telemetryTopic('healthy'), 'spoof', { qos: 1 });
  await closed;
  v4.end(true);
  await stillServing();
  assert.equal(received, before + 1, 'only the healthy ping arrived');
});

test("subscribing to another identity's inputs is refused in the SUBACK", async () => {
  const c = await connectClient(t.plain, await t.identity('snoop'));
  // MQTT.js turns a 0x80 grant into an error carrying the SUBACK's code.
  await assert.rejects(
    c.subscribeAsync('devices/edge1/modules/watch/inputs/#', { qos: 1 }),
    /Subscribe error/,
  );
  assert.equal(c.connected, true);
  const ok = await c.subscribeAsync('devices/snoop/messages/devicebound/#', { qos: 1 });
  assert.equal(ok[0]?.qos, 1);
  await c.endAsync();
});

test('an oversize message: MQTT 5 gets PUBACK 0x83 and keeps its connection; MQTT 3.1.1 is disconnected', async () => {
  const big = Buffer.alloc(limits.messageBytesMax + 1, 0x61);
  const v5 = await connectClient(t.plain, await t.identity('large5'), { protocolVersion: 5 });
  await assert.rejects(
    v5.publishAsync(telemetryTopic('large5'), big, { qos: 1 }),
    (err: Error & { code?: number }) => err.code === 0x83,
  );
  await v5.publishAsync(telemetryTopic('large5'), Buffer.alloc(limits.messageBytesMax, 0x61), { qos: 1 });
  await v5.endAsync();
  const v4 = await connectClient(t.plain, await t.identity('large4'));
  const closed = new Promise<void>((resolve) => v4.once('close', () => resolve()));
  v4.publish(telemetryTopic('large4'), big, { qos: 1 });
  await closed;
  v4.end(true);
  await stillServing();
});

test('QoS 2 publish closes the connection; a QoS 2 subscription is granted QoS 1', async () => {
  const c = await connectClient(t.plain, await t.identity('qos2'));
  const granted = await c.subscribeAsync('devices/qos2/messages/devicebound/#', { qos: 2 });
  assert.equal(granted[0]?.qos, 1);
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  c.publish(telemetryTopic('qos2'), 'x', { qos: 2 });
  await closed;
  c.end(true);
  await stillServing();
});

test('a topic outside the dialect is refused', async () => {
  const v5 = await connectClient(t.plain, await t.identity('lost5'), { protocolVersion: 5 });
  await assert.rejects(
    v5.publishAsync('some/random/topic', 'x', { qos: 1 }),
    (err: Error & { code?: number }) => err.code === 0x90,
  );
  await v5.endAsync();
  await stillServing();
});
