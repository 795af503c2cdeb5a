/**
 * The delivery engine on a real embedded store with a manual clock: order, the window bound
 * (G3), resuming from the durable checkpoint after a detach or a reopen, and TTL expiry.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { type DeliverySink, EndpointDelivery } from '../../src/hub/endpoint-delivery.js';
import type { HubMessage } from '../../src/hub/message.js';
import { encodeMessage } from '../../src/hub/message-codec.js';
import { LocalOwnership } from '../../src/hub/ownership.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/types.js';
import { ManualClock } from '../../src/util/clock.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function freshStore(): Promise<{ store: Store; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-delivery-'));
  dirs.push(dir);
  return { store: await openEmbeddedStore({ dir }), dir };
}

function message(n: number): HubMessage {
  return {
    id: `m${n}`,
    body: Buffer.from(String(n)),
    systemProperties: { messageId: `m${n}` },
    properties: {},
  };
}

/** A sink that records deliveries and acknowledges only when told. */
class RecordingSink implements DeliverySink {
  ready = true;
  readonly got: number[] = [];
  readonly pending: Array<() => void> = [];
  #waiters: Array<{ n: number; resolve: () => void }> = [];
  deliver(msg: HubMessage, _record: unknown, done: () => void): void {
    this.got.push(Number(Buffer.from(msg.body).toString()));
    this.pending.push(done);
    const ready = this.#waiters.filter((w) => this.got.length >= w.n);
    this.#waiters = this.#waiters.filter((w) => this.got.length < w.n);
    for (const w of ready) w.resolve();
  }
  ackAll(): void {
    for (const done of this.pending.splice(0)) done();
  }
  waitFor(n: number): Promise<void> {
    return this.got.length >= n
      ? Promise.resolve()
      : new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }
}

function delivery(
  store: Store,
  clock: ManualClock,
  windowMax: number,
  counts = { delivered: 0, expired: 0 },
): EndpointDelivery {
  return new EndpointDelivery({
    stream: 'module/m/in',
    store,
    ownership: new LocalOwnership(store.checkpoints, (err) => assert.fail(String(err))),
    clock,
    windowMax,
    readBatchMax: 16,
    checkpointCoalesceMs: 5,
    observer: { delivered: (_s, n) => (counts.delivered += n), expired: (_s, n) => (counts.expired += n) },
    onError: (err) => assert.fail(String(err)),
  });
}

async function append(store: Store, from: number, to: number, expiresAtMs = 0): Promise<void> {
  const items = [];
  for (let n = from; n <= to; n++)
    items.push({ stream: 'module/m/in', data: encodeMessage(message(n)), expiresAtMs });
  await store.log.append(items);
}

test('delivers in order, never more than the window past the durable checkpoint', async () => {
  const { store } = await freshStore();
  const clock = new ManualClock();
  await append(store, 1, 50);
  const lastSeq = (await store.log.read('module/m/in', 0, 100)).at(-1)!.seq;
  const d = delivery(store, clock, 8);
  const sink = new RecordingSink();
  d.attach(sink);
  await sink.waitFor(8);
  // Give the engine every chance to overshoot: it must stop at the window.
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sink.got, [1, 2, 3, 4, 5, 6, 7, 8]);
  for (let round = 0; sink.got.length < 50 && round < 100; round++) {
    const target = Math.min(50, sink.got.length + 1);
    sink.ackAll();
    await sink.waitFor(target);
  }
  sink.ackAll();
  assert.deepEqual(
    sink.got,
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  await d.close();
  assert.equal(await store.checkpoints.get('module/m/in'), lastSeq);
  assert.equal((await store.log.read('module/m/in', 0, 100)).length, 0, 'delivered records are trimmed');
  assert.equal(await d.queueLength(), 0);
  await store.close();
});

test('unacknowledged messages are sent again, in order, to the next sink and after a reopen', async () => {
  const { store, dir } = await freshStore();
  const clock = new ManualClock();
  await append(store, 1, 10);
  const d = delivery(store, clock, 4);
  const first = new RecordingSink();
  d.attach(first);
  await first.waitFor(4);
  first.pending[0]!();
  first.pending[1]!(); // 1 and 2 acknowledged; 3 and 4 not
  await first.waitFor(6);
  d.detach(first);
  const second = new RecordingSink();
  d.attach(second);
  await second.waitFor(4);
  assert.deepEqual(second.got.slice(0, 4), [3, 4, 5, 6]);
  second.ackAll();
  await second.waitFor(8);
  await d.close();
  await store.close();

  const reopened = await openEmbeddedStore({ dir });
  const d2 = delivery(reopened, clock, 4);
  const third = new RecordingSink();
  d2.attach(third);
  await third.waitFor(1);
  // 3..6 were acknowledged and checkpointed on close; 7 and 8 were not.
  assert.equal(third.got[0], 7);
  await d2.close();
  await reopened.close();
});

test('expired messages are skipped and counted, live ones delivered', async () => {
  const { store } = await freshStore();
  const clock = new ManualClock();
  const counts = { delivered: 0, expired: 0 };
  await append(store, 1, 3, clock.nowMs() + 1000);
  await append(store, 4, 5, clock.nowMs() + 60_000);
  const d = delivery(store, clock, 16, counts);
  clock.advance(2000);
  await d.sweepExpired();
  assert.equal(counts.expired, 3);
  assert.equal(await d.queueLength(), 2);
  const sink = new RecordingSink();
  d.attach(sink);
  await sink.waitFor(2);
  sink.ackAll();
  assert.deepEqual(sink.got, [4, 5]);
  await d.close();
  assert.equal(counts.delivered, 2);
  await store.close();
});
