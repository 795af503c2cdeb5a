/**
 * The store contract suite: what every backend of src/store/types.ts must do, run against
 * each of them (embedded LMDB now, NATS JetStream next). A backend's test file calls
 * `runStoreContract` with a factory that makes a fresh, empty store per test.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { type ErrorCode, isTandemError } from '../../src/errors.js';
import { limits } from '../../src/limits.js';
import type { AppendItem, Store } from '../../src/store/types.js';

export interface StoreUnderTest {
  readonly store: Store;
  /** Opens the same data again; the caller has closed `store` (or the last reopened one). */
  readonly reopen?: () => Promise<Store>;
  /** Closes whatever is still open and removes the data. */
  readonly cleanup: () => Promise<void>;
}

export type MakeStore = () => Promise<StoreUnderTest>;

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const item = (stream: string, data: Uint8Array, expiresAtMs = 0): AppendItem => ({
  stream,
  data,
  expiresAtMs,
});

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isTandemError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

function assertIncreasing(seqs: readonly number[]): void {
  for (let i = 1; i < seqs.length; i++)
    assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i]} after ${seqs[i - 1]}`);
}

async function using(make: MakeStore, body: (s: StoreUnderTest) => Promise<void>): Promise<void> {
  const s = await make();
  try {
    await body(s);
  } finally {
    await s.cleanup();
  }
}

function appendTests(make: MakeStore): void {
  test('append and read keep order per stream, streams do not mix', () =>
    using(make, async ({ store }) => {
      for (const [stream, n] of [
        ['a', 0],
        ['ab', 0],
        ['a', 1],
        ['a/b', 0],
        ['a', 2],
        ['ab', 1],
      ] as const) {
        await store.log.append([item(stream, text(`${stream}#${n}`))]);
      }
      const a = await store.log.read('a', 0, 100);
      assert.deepEqual(
        a.map((r) => [r.stream, new TextDecoder().decode(r.data)]),
        [
          ['a', 'a#0'],
          ['a', 'a#1'],
          ['a', 'a#2'],
        ],
      );
      assertIncreasing(a.map((r) => r.seq));
      assert.equal((await store.log.read('ab', 0, 100)).length, 2);
      assert.equal((await store.log.read('a/b', 0, 100)).length, 1);
      assert.deepEqual(await store.log.read('nothing-here', 0, 100), []);
    }));

  test('seqs increase strictly across streams', () =>
    using(make, async ({ store }) => {
      const seqs: number[] = [];
      for (let i = 0; i < 30; i++) seqs.push(...(await store.log.append([item(`s${i % 4}`, bytes(i))])));
      assertIncreasing(seqs);
      assert.ok(seqs[0]! >= 1, 'seqs start above 0, so afterSeq 0 means "from the start"');
    }));

  test('a multi-item append stores all items, in item order', () =>
    using(make, async ({ store }) => {
      const seqs = await store.log.append([item('x', bytes(1)), item('y', bytes(2)), item('x', bytes(3))]);
      assert.equal(seqs.length, 3);
      assertIncreasing(seqs);
      const x = await store.log.read('x', 0, 10);
      assert.deepEqual(
        x.map((r) => [r.seq, [...r.data]]),
        [
          [seqs[0], [1]],
          [seqs[2], [3]],
        ],
      );
      assert.deepEqual(
        (await store.log.read('y', 0, 10)).map((r) => r.seq),
        [seqs[1]],
      );
      assert.deepEqual(await store.log.append([]), []);
    }));

  test('an append with one invalid item stores none of its items', () =>
    using(make, async ({ store }) => {
      await store.log.append([item('atomic', bytes(0))]);
      const bad = { stream: 'atomic', data: 'not bytes', expiresAtMs: 0 } as unknown as AppendItem;
      await assert.rejects(store.log.append([item('atomic', bytes(1)), item('other', bytes(2)), bad]));
      assert.equal(await store.log.count('atomic', 0), 1);
      assert.equal(await store.log.count('other', 0), 0);
    }));
}

function rangeTests(make: MakeStore): void {
  test('read pages with afterSeq and max', () =>
    using(make, async ({ store }) => {
      const seqs: number[] = [];
      for (let i = 0; i < 25; i++) seqs.push(...(await store.log.append([item('page', bytes(i))])));
      await store.log.append([item('noise', bytes(0))]);
      const pages: number[][] = [];
      for (let after = 0; ; ) {
        const page = await store.log.read('page', after, 10);
        if (page.length === 0) break;
        assert.ok(page.length <= 10);
        pages.push(page.map((r) => r.data[0]!));
        after = page[page.length - 1]!.seq;
      }
      assert.deepEqual(
        pages.map((p) => p.length),
        [10, 10, 5],
      );
      assert.deepEqual(pages.flat(), [...Array(25).keys()]);
      const tail = await store.log.read('page', seqs[19]!, 100);
      assert.deepEqual(
        tail.map((r) => r.seq),
        seqs.slice(20),
      );
      assert.deepEqual(await store.log.read('page', seqs[3]!, 0), []);
      assert.deepEqual(await store.log.read('page', seqs[24]!, 10), []);
    }));

  test('trim drops up to a seq and is idempotent', () =>
    using(make, async ({ store }) => {
      const seqs: number[] = [];
      for (let i = 0; i < 10; i++) seqs.push(...(await store.log.append([item('t', bytes(i))])));
      await store.log.append([item('keep', bytes(9))]);
      await store.log.trim('t', seqs[3]!);
      assert.deepEqual(
        (await store.log.read('t', 0, 100)).map((r) => r.seq),
        seqs.slice(4),
      );
      await store.log.trim('t', seqs[3]!);
      await store.log.trim('t', seqs[1]!);
      await store.log.trim('never-written', 1000);
      assert.equal(await store.log.count('t', 0), 6);
      await store.log.trim('t', seqs[9]! + 1000);
      assert.equal(await store.log.count('t', 0), 0);
      assert.deepEqual(await store.log.streams(), ['keep']);
      assert.equal(await store.log.count('keep', 0), 1);
    }));

  test('count counts records after a seq', () =>
    using(make, async ({ store }) => {
      const seqs: number[] = [];
      for (let i = 0; i < 7; i++)
        seqs.push(...(await store.log.append([item(i % 2 ? 'odd' : 'even', bytes(i))])));
      assert.equal(await store.log.count('even', 0), 4);
      assert.equal(await store.log.count('odd', 0), 3);
      assert.equal(await store.log.count('even', seqs[2]!), 2);
      assert.equal(await store.log.count('even', seqs[6]!), 0);
      assert.equal(await store.log.count('missing', 0), 0);
    }));

  test('streams lists the streams holding records', () =>
    using(make, async ({ store }) => {
      assert.deepEqual(await store.log.streams(), []);
      for (const s of ['ep/b', 'ep/a', 'ep/a/x', 'z', 'ep/b']) await store.log.append([item(s, bytes(1))]);
      assert.deepEqual((await store.log.streams()).sort(), ['ep/a', 'ep/a/x', 'ep/b', 'z']);
    }));
}

function loadTests(make: MakeStore): void {
  test('1000 concurrent appends all resolve, seqs unique and in call order', () =>
    using(make, async ({ store }) => {
      const calls = Array.from({ length: 1000 }, (_, i) =>
        store.log.append([item(`c${i % 3}`, text(String(i)))]).then((s) => s[0]!),
      );
      const seqs = await Promise.all(calls);
      assert.equal(new Set(seqs).size, 1000);
      assertIncreasing(seqs);
      const all = [
        ...(await store.log.read('c0', 0, 1000)),
        ...(await store.log.read('c1', 0, 1000)),
        ...(await store.log.read('c2', 0, 1000)),
      ].sort((x, y) => x.seq - y.seq);
      assert.deepEqual(
        all.map((r) => new TextDecoder().decode(r.data)),
        seqs.map((_, i) => String(i)),
      );
    }));

  test('binary payloads round trip byte-exact', () =>
    using(make, async ({ store }) => {
      const every = Uint8Array.from({ length: 256 }, (_, i) => i);
      const big = new Uint8Array(randomBytes(limits.messageBytesMax));
      const payloads = [every, new Uint8Array(0), big, Uint8Array.from([0, 0, 0]), Uint8Array.from([255])];
      await store.log.append(payloads.map((p) => item('bin', p)));
      const got = await store.log.read('bin', 0, 10);
      assert.equal(got.length, payloads.length);
      got.forEach((r, i) => {
        assert.ok(Buffer.from(r.data).equals(payloads[i]!), `payload ${i} differs`);
      });
      await store.kv.put('bin', every);
      assert.deepEqual([...(await store.kv.get('bin'))!.value], [...every]);
    }));

  test('expiresAtMs round trips', () =>
    using(make, async ({ store }) => {
      const expiries = [0, 1, 1_700_000_000_123, Number.MAX_SAFE_INTEGER];
      await store.log.append(expiries.map((e) => item('ttl', bytes(1), e)));
      assert.deepEqual(
        (await store.log.read('ttl', 0, 10)).map((r) => r.expiresAtMs),
        expiries,
      );
    }));
}

function checkpointTests(make: MakeStore): void {
  test('checkpoints start at 0 and only move forward', () =>
    using(make, async ({ store }) => {
      assert.equal(await store.checkpoints.get('ep/a'), 0);
      await store.checkpoints.set('ep/a', 5);
      await store.checkpoints.set('ep/a', 3);
      assert.equal(await store.checkpoints.get('ep/a'), 5);
      await store.checkpoints.set('ep/a', 9);
      await store.checkpoints.set('ep/b', 2);
      assert.equal(await store.checkpoints.get('ep/a'), 9);
      assert.deepEqual([...(await store.checkpoints.list())].sort(), [
        ['ep/a', 9],
        ['ep/b', 2],
      ]);
    }));
}

function kvTests(make: MakeStore): void {
  test('kv revisions increase on every write and never repeat after a delete', () =>
    using(make, async ({ store }) => {
      assert.equal(await store.kv.get('k'), undefined);
      const r1 = await store.kv.put('k', text('one'));
      const r2 = await store.kv.put('k', text('two'));
      assert.ok(r1 > 0 && r2 > r1);
      const got = await store.kv.get('k');
      assert.equal(got?.key, 'k');
      assert.equal(got?.revision, r2);
      assert.deepEqual(got?.value, text('two'));
      assert.equal(await store.kv.delete('k'), true);
      assert.equal(await store.kv.delete('k'), false);
      const r3 = await store.kv.put('k', text('three'), { expectedRevision: 0 });
      assert.ok(r3 > r2, 'a re-created key must not reuse an old revision (fencing)');
    }));

  test('kv compare-and-set: create-only and expected revision', () =>
    using(make, async ({ store }) => {
      const r1 = await store.kv.put('lease', text('a'), { expectedRevision: 0 });
      await rejectsWith(store.kv.put('lease', text('b'), { expectedRevision: 0 }), 'TANDEM_E_STORE_CONFLICT');
      await rejectsWith(
        store.kv.put('lease', text('b'), { expectedRevision: r1 + 100 }),
        'TANDEM_E_STORE_CONFLICT',
      );
      await rejectsWith(
        store.kv.put('absent', text('b'), { expectedRevision: r1 }),
        'TANDEM_E_STORE_CONFLICT',
      );
      assert.deepEqual((await store.kv.get('lease'))?.value, text('a'));
      assert.equal(await store.kv.get('absent'), undefined);
      const r2 = await store.kv.put('lease', text('c'), { expectedRevision: r1 });
      assert.ok(r2 > r1);
      const racers = await Promise.allSettled(
        [1, 2, 3].map((n) => store.kv.put('lease', text(`racer${n}`), { expectedRevision: r2 })),
      );
      assert.equal(
        racers.filter((r) => r.status === 'fulfilled').length,
        1,
        'exactly one racer wins the CAS',
      );
    }));

  test('kv delete with an expected revision', () =>
    using(make, async ({ store }) => {
      const r1 = await store.kv.put('d', text('x'));
      await rejectsWith(store.kv.delete('d', { expectedRevision: r1 + 1 }), 'TANDEM_E_STORE_CONFLICT');
      await rejectsWith(store.kv.delete('d', { expectedRevision: 0 }), 'TANDEM_E_STORE_CONFLICT');
      assert.ok(await store.kv.get('d'));
      assert.equal(await store.kv.delete('d', { expectedRevision: r1 }), true);
      assert.equal(await store.kv.get('d'), undefined);
      await rejectsWith(store.kv.delete('d', { expectedRevision: r1 }), 'TANDEM_E_STORE_CONFLICT');
      assert.equal(await store.kv.delete('d', { expectedRevision: 0 }), false);
    }));

  test('kv list returns keys with a prefix, sorted', () =>
    using(make, async ({ store }) => {
      for (const k of ['b/2', 'a/1', 'b/10', 'b/1', 'c', 'b', 'ba']) await store.kv.put(k, text(k));
      const b = await store.kv.list('b/');
      assert.deepEqual(
        b.map((e) => e.key),
        ['b/1', 'b/10', 'b/2'],
      );
      for (const e of b) assert.deepEqual(e.value, text(e.key));
      assert.deepEqual(
        (await store.kv.list('')).map((e) => e.key),
        ['a/1', 'b', 'b/1', 'b/10', 'b/2', 'ba', 'c'],
      );
      assert.deepEqual(await store.kv.list('zzz'), []);
    }));
}

function durabilityTests(make: MakeStore): void {
  test('everything committed survives close and reopen', async (t) => {
    const s = await make();
    try {
      if (!s.reopen) return t.skip('this backend cannot be reopened');
      const seqs = await s.store.log.append([item('dur', text('one')), item('dur', text('two'))]);
      await s.store.checkpoints.set('dur', seqs[0]!);
      const rev = await s.store.kv.put('dur/key', text('value'));
      await s.store.close();
      const again = await s.reopen();
      assert.deepEqual(
        (await again.log.read('dur', 0, 10)).map((r) => new TextDecoder().decode(r.data)),
        ['one', 'two'],
      );
      assert.equal(await again.checkpoints.get('dur'), seqs[0]);
      assert.equal((await again.kv.get('dur/key'))?.revision, rev);
      const [next] = await again.log.append([item('other', text('three'))]);
      assert.ok(next! > seqs[1]!, 'seqs keep increasing across a restart');
      assert.ok(
        (await again.kv.put('dur/key', text('v2'))) > rev,
        'revisions keep increasing across a restart',
      );
      await again.close();
    } finally {
      await s.cleanup();
    }
  });
}

/** Registers the contract tests for one backend under `name`. */
export function runStoreContract(name: string, makeStore: MakeStore): void {
  describe(`store contract: ${name}`, () => {
    describe('log: append', () => appendTests(makeStore));
    describe('log: ranges', () => rangeTests(makeStore));
    describe('log: load and payloads', () => loadTests(makeStore));
    describe('checkpoints', () => checkpointTests(makeStore));
    describe('kv', () => kvTests(makeStore));
    describe('durability', () => durabilityTests(makeStore));
  });
}
