/**
 * Session behaviour: keepalive [MQTT-3.1.2-24], persistent sessions resumed across a hub
 * restart without subscribing again [MQTT-3.1.2-4], and direct-method timeouts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { clientOptions, connectClient, sasPassword, telemetryTopic } from '../support/clients.js';
import { startTestNode } from '../support/node.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('a client silent for 1.5 keepalive periods is disconnected', { timeout: 30_000 }, async () => {
  const t = await startTestNode();
  try {
    const id = await t.identity('sleepy');
    const socket = net.connect(t.plain.port, '127.0.0.1');
    const connect = mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      keepalive: 1,
      clientId: 'sleepy',
      username: `${t.plain.hubName}/sleepy/?api-version=2021-04-12`,
      password: Buffer.from(sasPassword(t.plain.hubName, id)),
    });
    // Read (and drop) what the hub sends: a paused socket would never see the hub's FIN.
    socket.resume();
    const started = Date.now();
    socket.write(connect);
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1400, `closed after ${elapsed} ms, before 1.5 keepalive periods`);
    assert.ok(elapsed < 15_000, `closed only after ${elapsed} ms`);
  } finally {
    await t.stop();
  }
});

test('a persistent session resumes after a hub restart without subscribing again', {
  timeout: 60_000,
}, async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tandem-session-'));
  dirs.push(dataDir);
  const routes = {
    r: 'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/keeper/inputs/in")',
  };
  let t = await startTestNode({ dataDir, routes });
  const moduleId = await t.identity('edge1', 'keeper');
  const first = await connectClient(t.plain, moduleId, { clean: false });
  await first.subscribeAsync('devices/edge1/modules/keeper/inputs/#', { qos: 1 });
  await first.endAsync();
  const device = await connectClient(t.plain, await t.identity('feeder'));
  await device.publishAsync(telemetryTopic('feeder'), 'while away', { qos: 1 });
  await device.endAsync();
  await t.stop();

  t = await startTestNode({ dataDir, routes });
  try {
    // The listener must be in place before CONNACK: the queued message may follow in the same segment.
    const again = mqtt.connect(
      `mqtt://127.0.0.1:${t.plain.port}`,
      clientOptions(t.plain, moduleId, { clean: false, resubscribe: false }),
    );
    const got = await new Promise<string>((resolve) =>
      again.once('message', (_topic, payload) => resolve(payload.toString())),
    );
    assert.equal(got, 'while away');
    assert.equal(again.connected, true);
    await again.endAsync();
    // A clean start forgets the session: nothing is delivered without a new SUBSCRIBE.
    const clean = await connectClient(t.plain, moduleId, { clean: true });
    assert.equal(t.node.hub.context.sessions.get('edge1/keeper')?.subscriptions.has('moduleInputs'), false);
    await clean.endAsync();
  } finally {
    await t.stop();
  }
});

test('a direct method nobody answers fails after its timeout', { timeout: 30_000 }, async () => {
  const t = await startTestNode();
  try {
    const mute = await connectClient(t.plain, await t.identity('mute'));
    await mute.subscribeAsync('$iothub/methods/POST/#', { qos: 0 });
    const started = Date.now();
    await assert.rejects(
      t.node.hub.invokeMethod({ identity: 'mute', methodName: 'ping', payload: null, responseTimeoutSec: 5 }),
      { code: 'TANDEM_E_METHOD_TIMEOUT' },
    );
    assert.ok(Date.now() - started >= 4900);
    await mute.endAsync();
  } finally {
    await t.stop();
  }
});
