/**
 * Two hub replicas in this process on one nats-server (R1 on loopback: what is tested here
 * is the hub's side of the cluster, not replication): a module connected to one replica gets
 * what devices publish on the other; an identity has one live session across the cluster;
 * an endpoint follows its consumer from one replica to the other at once, without repeats
 * past the checkpoint and without loss.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { connectClient } from '../support/clients.js';
import { type NatsServerHandle, startNatsServer } from '../support/nats-server.js';
import { startTestNode, type TestNode } from '../support/node.js';
import { waitFor } from '../support/wait.js';

const routes = {
  toFilter:
    'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/filter/inputs/input1")',
};
let dir: string;
let server: NatsServerHandle;
let a: TestNode;
let b: TestNode;
const clients: MqttClient[] = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-replicas-'));
  server = await startNatsServer({ dir });
  const replica = (name: string) =>
    startTestNode({
      routes,
      dataDir: path.join(dir, name),
      cluster: { servers: [server.url], replica: name, replicas: 1, prefix: 'LOOP' },
    });
  a = await replica('a');
  b = await replica('b');
});

after(async () => {
  for (const c of clients) c.end(true);
  await a?.stop();
  await b?.stop();
  await server.dispose();
  await rm(dir, { recursive: true, force: true });
});

function seqsOf(client: MqttClient): number[] {
  const seqs: number[] = [];
  client.on('message', (_t, payload) => seqs.push((JSON.parse(payload.toString()) as { seq: number }).seq));
  return seqs;
}

async function publish(client: MqttClient, deviceId: string, from: number, to: number): Promise<void> {
  for (let seq = from; seq <= to; seq++) {
    await client.publishAsync(`devices/${deviceId}/messages/events/`, JSON.stringify({ seq }), { qos: 1 });
  }
}

test('a module on one replica gets what a device publishes on the other; the endpoint follows the module', async () => {
  const filterId = await a.identity('edge1', 'filter');
  const device = await connectClient(a.plain, await a.identity('d1'));
  clients.push(device);
  const onB = await connectClient(b.plain, filterId, { clean: false });
  clients.push(onB);
  const gotOnB = seqsOf(onB);
  await onB.subscribeAsync('devices/edge1/modules/filter/inputs/#', { qos: 1 });
  await publish(device, 'd1', 1, 50);
  await waitFor('50 messages through replica b', () => gotOnB.length >= 50);
  assert.deepEqual(
    gotOnB,
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  assert.deepEqual((b.node.cluster?.status().leases ?? []).includes('module/filter/input1'), true);

  // The module moves to replica a: b gives the endpoint up with its checkpoint, a takes it at once.
  onB.end();
  await waitFor(
    'b to give the endpoint up',
    () => !(b.node.cluster?.status().leases ?? []).includes('module/filter/input1'),
  );
  await publish(device, 'd1', 51, 80);
  const onA = await connectClient(a.plain, filterId, { clean: false });
  clients.push(onA);
  const gotOnA = seqsOf(onA);
  await waitFor('the rest through replica a', () => gotOnA.includes(80));
  assert.deepEqual(
    gotOnA,
    Array.from({ length: 30 }, (_, i) => i + 51),
    'no loss, no repeat past the checkpoint',
  );
});

test('one live session per identity across replicas: a CONNECT on b closes the session on a', async () => {
  const id = await a.identity('d2');
  const first = await connectClient(a.plain, id, { protocolVersion: 5 });
  clients.push(first);
  let reason: number | undefined;
  first.on('disconnect', (packet) => {
    reason = packet.reasonCode;
  });
  const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
  const second = await connectClient(b.plain, id, { protocolVersion: 5 });
  clients.push(second);
  await closed;
  assert.equal(reason, 0x8e, 'MQTT 5 DISCONNECT: session taken over');
  assert.ok(second.connected, 'the newer session lives');
  await waitFor('a to forget the session', () => !a.node.hub.connectedIdentities().includes('d2'));
  assert.ok(b.node.hub.connectedIdentities().includes('d2'));
});
