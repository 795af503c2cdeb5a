/**
 * Buffering is bounded by the route's TTL: messages that wait for the cloud longer than
 * their time to live are expired and counted (expired{stream="upstream"}), never sent; what
 * is published after the cloud is back is delivered.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startUpstream } from '../../src/upstream/index.js';
import { connectClient, telemetryTopic } from '../support/clients.js';
import { startTestNode } from '../support/node.js';
import { CloudSubscriber } from './support/cloud.js';
import { Mosquitto } from './support/mosquitto.js';
import { waitFor, waitForState } from './support/wait.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

test('messages older than their TTL while the cloud is away are expired and counted, not sent', async () => {
  // The broker is prepared (its port chosen) but not started: the cloud is away from the start.
  const broker = await Mosquitto.create();
  cleanups.push(() => broker.dispose());
  const t = await startTestNode({
    edgeDeviceId: 'edge-ttl',
    routes: { up: { route: 'FROM /messages/* INTO $upstream', timeToLiveSecs: 1 } },
  });
  cleanups.push(() => t.stop());
  const up = startUpstream(
    t.node.hub,
    { kind: 'mqtt', url: broker.url },
    { backoff: { baseMs: 100, maxMs: 500 } },
  );
  cleanups.push(() => up.close());
  await waitForState(up, 'backoff');

  const dev = await connectClient(t.plain, await t.identity('dev-ttl'));
  cleanups.push(() => dev.endAsync(true));
  for (let i = 1; i <= 5; i++)
    await dev.publishAsync(telemetryTopic('dev-ttl', `$.mid=old-${i}`), `old ${i}`, { qos: 1 });
  assert.ok((await up.status()).queued > 0, 'stored while the cloud is away');
  // TTL 1 s and a sweep every second: expiry within ~2 s; the deadline is far beyond.
  await waitFor('5 expired messages', async () => (await up.status()).expired === 5);
  assert.equal((await up.status()).queued, 0);

  await broker.start();
  const cloud = await CloudSubscriber.connect(broker.url, 5, 'tandem/#', 'cloud-ttl');
  cleanups.push(() => cloud.close());
  await waitForState(up, 'connected');
  await dev.publishAsync(telemetryTopic('dev-ttl', '$.mid=fresh-1'), 'fresh', { qos: 1 });
  await waitFor('the fresh message at the cloud', () => cloud.received.length >= 1);
  await waitFor('sent counted', async () => (await up.status()).sent === 1);

  assert.deepEqual(
    cloud.received.map((m) => m.id),
    ['fresh-1'],
  );
  const s = await up.status();
  assert.equal(s.expired, 5);
  assert.equal(s.sent, 1);
  assert.equal(s.queued, 0);
  assert.equal(t.node.hub.metrics.dropped.get('ttl_expiry'), 5);
});
