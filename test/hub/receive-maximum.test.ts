/**
 * [MQTT-3.3.4-9] The hub never has more unacknowledged QoS 1 deliveries at an MQTT 5 client
 * than the client's Receive Maximum, however large the endpoint's window, and everything
 * still arrives in order.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { connectClient, sasPassword, telemetryTopic } from '../support/clients.js';
import { startTestNode, type TestNode } from '../support/node.js';

const RECEIVE_MAXIMUM = 5;
const MESSAGES = 30;

let t: TestNode;
before(async () => {
  t = await startTestNode({
    routes: {
      r: 'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/slowpoke/inputs/in")',
    },
  });
});
after(async () => {
  await t.stop();
});

/** A raw MQTT 5 client: MQTT.js handles one PUBLISH at a time, which would hide an overrun. */
async function rawModuleClient(
  receiveMaximum: number,
): Promise<{ socket: net.Socket; publishes: IPublishPacket[]; onPublish: (cb: () => void) => void }> {
  const id = await t.identity('edge1', 'slowpoke');
  const socket = net.connect(t.plain.port, '127.0.0.1');
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const publishes: IPublishPacket[] = [];
  let listener: (() => void) | undefined;
  let ready: () => void = () => {};
  const subacked = new Promise<void>((resolve) => {
    ready = resolve;
  });
  parser.on('packet', (p: Packet) => {
    if (p.cmd === 'connack') {
      const sub: Packet = {
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [{ topic: 'devices/edge1/modules/slowpoke/inputs/#', qos: 1 }],
      };
      socket.write(mqttPacket.generate(sub, { protocolVersion: 5 }));
    } else if (p.cmd === 'suback') {
      ready();
    } else if (p.cmd === 'publish') {
      publishes.push(p);
      listener?.();
    }
  });
  socket.on('data', (d) => parser.parse(d));
  const connect: Packet = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clientId: 'edge1/slowpoke',
    clean: true,
    keepalive: 60,
    username: `${t.plain.hubName}/edge1/slowpoke/?api-version=2021-04-12`,
    password: Buffer.from(sasPassword(t.plain.hubName, id)),
    properties: { receiveMaximum },
  };
  socket.write(mqttPacket.generate(connect, { protocolVersion: 5 }));
  await subacked;
  return { socket, publishes, onPublish: (cb) => (listener = cb) };
}

function waitForCount(
  c: { publishes: IPublishPacket[]; onPublish: (cb: () => void) => void },
  n: number,
): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (c.publishes.length >= n) resolve();
    };
    c.onPublish(check);
    check();
  });
}

/** Generous quiet period in which an overrun would show; passing never depends on its length. */
const OVERRUN_WATCH_MS = 200;

test("deliveries respect the client's receive maximum and keep their order", async () => {
  const device = await connectClient(t.plain, await t.identity('rm-dev'));
  for (let i = 1; i <= MESSAGES; i++)
    await device.publishAsync(telemetryTopic('rm-dev'), String(i), { qos: 1 });
  await device.endAsync();

  const c = await rawModuleClient(RECEIVE_MAXIMUM);
  let acked = 0;
  while (acked < MESSAGES) {
    const expected = Math.min(MESSAGES, acked + RECEIVE_MAXIMUM);
    await waitForCount(c, expected);
    await new Promise((r) => setTimeout(r, OVERRUN_WATCH_MS));
    assert.equal(c.publishes.length, expected, `unacknowledged at the client: ${c.publishes.length - acked}`);
    const next = c.publishes[acked]!;
    c.socket.write(
      mqttPacket.generate({ cmd: 'puback', messageId: next.messageId ?? 0 }, { protocolVersion: 5 }),
    );
    acked++;
    if (acked % 10 === 0) {
      // Ack the rest of the window in one go too, to keep the test short.
      while (acked < c.publishes.length) {
        const p = c.publishes[acked++]!;
        c.socket.write(
          mqttPacket.generate({ cmd: 'puback', messageId: p.messageId ?? 0 }, { protocolVersion: 5 }),
        );
      }
    }
  }
  assert.deepEqual(
    c.publishes.map((p) => Number(String(p.payload))),
    Array.from({ length: MESSAGES }, (_, i) => i + 1),
  );
  c.socket.destroy();
});
