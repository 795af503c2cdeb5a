/**
 * A full store refuses new messages instead of dropping old ones: once the cap is reached,
 * MQTT 5 publishers get PUBACK 0x97 (quota exceeded) and MQTT 3.1.1 publishers are
 * disconnected without a PUBACK; every message acknowledged before is still delivered, in
 * order; once the consumer drains the queue, publishing works again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { connectClient, telemetryTopic } from '../support/clients.js';
import { startTestNode, type TestNode } from '../support/node.js';

const STORE_BYTES_MAX = 4 * 1024 * 1024;
const PAYLOAD = Buffer.alloc(16 * 1024, 0x2e);

let t: TestNode;
before(async () => {
  t = await startTestNode({
    storeBytesMax: STORE_BYTES_MAX,
    routes: {
      r: 'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/slow/inputs/in")',
    },
  });
});
after(async () => {
  await t.stop();
});

function body(seq: number): Buffer {
  const b = Buffer.from(PAYLOAD);
  b.write(`${seq}|`, 0);
  return b;
}

/** Publishes one at a time until the hub refuses; returns the acknowledged sequence numbers. */
async function fillUntilRefused(
  client: MqttClient,
  deviceId: string,
): Promise<{ acked: number[]; code: number | undefined }> {
  const acked: number[] = [];
  // The cap is 4 MB and each message 16 KB: the store must refuse long before this bound.
  for (let seq = 1; seq <= 2000; seq++) {
    try {
      await client.publishAsync(telemetryTopic(deviceId), body(seq), { qos: 1 });
      acked.push(seq);
    } catch (err) {
      return { acked, code: (err as { code?: number }).code };
    }
  }
  return { acked, code: undefined };
}

test('a full store refuses new messages and keeps every acknowledged one', { timeout: 120_000 }, async () => {
  const v5 = await connectClient(t.plain, await t.identity('filler'), { protocolVersion: 5 });
  const { acked, code } = await fillUntilRefused(v5, 'filler');
  assert.equal(code, 0x97, 'refused with quota exceeded');
  assert.ok(acked.length > 10 && acked.length < 2000, `acked ${acked.length}`);
  assert.equal(v5.connected, true, 'an MQTT 5 client keeps its connection');

  // MQTT 3.1.1 has no negative PUBACK: the connection is closed and the message not acknowledged.
  const v4 = await connectClient(t.plain, await t.identity('filler4'));
  const closed = new Promise<void>((resolve) => v4.once('close', () => resolve()));
  let v4Acked = false;
  v4.publish(telemetryTopic('filler4'), body(0), { qos: 1 }, (err) => {
    if (!err) v4Acked = true;
  });
  await closed;
  v4.end(true);
  assert.equal(v4Acked, false);

  // Every acknowledged message is delivered, in order, byte for byte.
  const consumer = await connectClient(t.plain, await t.identity('edge1', 'slow'));
  const got: number[] = [];
  const all = new Promise<void>((resolve) =>
    consumer.on('message', (_topic, payload) => {
      assert.equal(payload.length, PAYLOAD.length);
      got.push(Number(payload.toString('latin1').split('|')[0]));
      if (got.length === acked.length) resolve();
    }),
  );
  await consumer.subscribeAsync('devices/edge1/modules/slow/inputs/#', { qos: 1 });
  await all;
  assert.deepEqual(got, acked);

  // Drained and trimmed: new messages are accepted again (trims land with the next checkpoint).
  let accepted = false;
  for (let attempt = 0; attempt < 200 && !accepted; attempt++) {
    try {
      await v5.publishAsync(telemetryTopic('filler'), body(99_999), { qos: 1 });
      accepted = true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  assert.ok(accepted, 'publishing works again after the queue drained');
  await v5.endAsync();
  await consumer.endAsync();
});
