/**
 * The JetStream store against real nats-server processes: the shared contract suite on one
 * server (R1) and on a 3-server cluster (R3), then what only this backend promises: several
 * instances sharing one log, shared trims, storage reclaimed, a full log, key-value watches,
 * group commit, and surviving the loss of a server.
 *
 * One server and one cluster are started for the whole file; every test store gets its own
 * stream prefix, and its streams are deleted afterwards, so the tests do not see each other.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { isTandemError } from '../../src/errors.js';
import { type JetStreamStore, openJetStreamStore } from '../../src/store/jetstream/index.js';
import type { AppendItem, KvChange } from '../../src/store/types.js';
import {
  type NatsCluster,
  type NatsServerHandle,
  startNatsCluster,
  startNatsServer,
} from '../support/nats-server.js';
import { type MakeStore, runStoreContract } from './contract.js';

let dir = '';
let single: NatsServerHandle | undefined;
let cluster: NatsCluster | undefined;
let prefixes = 0;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-js-'));
  [single, cluster] = await Promise.all([
    startNatsServer({ dir: path.join(dir, 'single') }),
    startNatsCluster(3, path.join(dir, 'cluster')),
  ]);
});

after(async () => {
  await Promise.all([single?.dispose(), cluster?.dispose()]);
  await rm(dir, { recursive: true, force: true });
});

const singleUrls = () => [single!.url];
const clusterUrls = () => cluster!.urls;

function uniquePrefix(): string {
  return `T${++prefixes}_${randomBytes(3).toString('hex')}`;
}

/** Deletes a store's streams through a connection of its own, so servers stay light. */
async function dropStreams(servers: string[], prefix: string): Promise<void> {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of [`${prefix}_LOG`, `KV_${prefix}_KV`, `KV_${prefix}_TRIM`, `KV_${prefix}_CKPT`]) {
      await jsm.streams.delete(name).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}

function factory(servers: () => string[], replicas: number): MakeStore {
  return async () => {
    const prefix = uniquePrefix();
    const open = () => openJetStreamStore({ servers: servers(), prefix, replicas });
    const opened: JetStreamStore[] = [await open()];
    return {
      store: opened[0]!,
      reopen: async () => {
        const store = await open();
        opened.push(store);
        return store;
      },
      cleanup: async () => {
        for (const s of opened) await s.close();
        await dropStreams(servers(), prefix);
      },
    };
  };
}

runStoreContract('jetstream (1 server)', factory(singleUrls, 1));
runStoreContract('jetstream (3-server cluster, R3)', factory(clusterUrls, 3));

const item = (stream: string, data: Uint8Array | string, expiresAtMs = 0): AppendItem => ({
  stream,
  data: typeof data === 'string' ? new TextEncoder().encode(data) : data,
  expiresAtMs,
});
const text = (r: { data: Uint8Array }) => new TextDecoder().decode(r.data);

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs`. */
async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Stores opened on one prefix (several instances = several hub replicas); cleaned up after. */
async function withStores(
  servers: () => string[],
  replicas: number,
  count: number,
  body: (stores: JetStreamStore[], prefix: string) => Promise<void>,
  options: { storeBytesMax?: number; rotate?: boolean } = {},
): Promise<void> {
  const prefix = uniquePrefix();
  const stores: JetStreamStore[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const urls = servers();
      // Instance i talks to server i first, as hub replica i would to its own node's server.
      const ordered =
        options.rotate === false ? urls : [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)];
      stores.push(
        await openJetStreamStore({
          servers: ordered,
          prefix,
          replicas,
          storeBytesMax: options.storeBytesMax,
          name: `replica-${i}`,
        }),
      );
    }
    await body(stores, prefix);
  } finally {
    for (const s of stores) await s.close();
    await dropStreams(servers(), prefix);
  }
}

async function streamState(servers: string[], name: string) {
  const nc = await connect({ servers });
  try {
    return (await (await jetstreamManager(nc)).streams.info(name)).state;
  } finally {
    await nc.close();
  }
}

describe('jetstream store', () => {
  test("two instances see each other's appends, and watch reports them in log order", () =>
    withStores(clusterUrls, 3, 2, async ([a, b]) => {
      const seenByB: string[][] = [];
      const seenByA: string[][] = [];
      const stopB = b!.log.watch((streams) => seenByB.push([...streams]));
      const stopA = a!.log.watch((streams) => seenByA.push([...streams]));
      const [s1] = await a!.log.append([item('x', 'from a')]);
      const [s2, s3] = await b!.log.append([item('y', 'from b'), item('x', 'from b')]);
      assert.ok(s2! > s1! && s3! > s2!);
      await eventually("b sees a's append", async () => (await b!.log.count('x', 0)) === 2);
      await eventually("a sees b's append", async () => (await a!.log.count('y', 0)) === 1);
      assert.deepEqual((await b!.log.read('x', 0, 10)).map(text), ['from a', 'from b']);
      assert.deepEqual((await a!.log.read('x', 0, 10)).map(text), ['from a', 'from b']);
      assert.deepEqual(seenByB, [['x'], ['y', 'x']]);
      assert.deepEqual(seenByA, [['x'], ['y', 'x']]);
      assert.deepEqual(await a!.log.streams(), ['x', 'y']);
      stopA();
      stopB();
    }));

  test('a reader following a cursor misses nothing while two instances append at once', () =>
    withStores(clusterUrls, 3, 2, async ([a, b]) => {
      // An endpoint on instance a: reads after its cursor whenever the log says `shared` grew.
      const got: string[] = [];
      let cursor = 0;
      let reading = Promise.resolve();
      const readMore = () => {
        reading = reading.then(async () => {
          for (;;) {
            const page = await a!.log.read('shared', cursor, 50);
            if (page.length === 0) return;
            got.push(...page.map(text));
            cursor = page[page.length - 1]!.seq;
          }
        });
      };
      const stop = a!.log.watch((streams) => {
        if (streams.includes('shared')) readMore();
      });
      const writer = (store: JetStreamStore, name: string) =>
        Promise.all(
          Array.from({ length: 200 }, async (_, i) => {
            await new Promise((resolve) => setTimeout(resolve, i % 20));
            await store.log.append([item('shared', `${name}${i}`)]);
          }),
        );
      await Promise.all([writer(a!, 'a'), writer(b!, 'b')]);
      await eventually('a read all 400 records', () => got.length >= 400);
      await reading;
      stop();
      assert.equal(got.length, 400, 'no record twice');
      assert.equal(new Set(got).size, 400, 'every record once');
      const inA = (await a!.log.read('shared', 0, 1000)).map((r) => r.seq);
      await eventually('b has all 400', async () => (await b!.log.count('shared', 0)) === 400);
      assert.deepEqual(
        (await b!.log.read('shared', 0, 1000)).map((r) => r.seq),
        inA,
        'one order for everyone',
      );
    }));

  test('trims made by one instance are seen by the other', () =>
    withStores(clusterUrls, 3, 2, async ([a, b]) => {
      const seqs = await a!.log.append([item('t', '1'), item('t', '2'), item('t', '3')]);
      await eventually('b has them', async () => (await b!.log.count('t', 0)) === 3);
      await a!.log.trim('t', seqs[1]!);
      assert.deepEqual((await a!.log.read('t', 0, 10)).map(text), ['3']);
      await eventually('b drops them', async () => (await b!.log.count('t', 0)) === 1);
      assert.deepEqual((await b!.log.read('t', 0, 10)).map(text), ['3']);
      await b!.log.trim('t', seqs[2]!);
      await eventually("a sees b's trim", async () => (await a!.log.streams()).length === 0);
    }));

  test('storage is purged once everything is trimmed', () =>
    withStores(singleUrls, 1, 1, async ([store], prefix) => {
      const seqs: number[] = [];
      for (let i = 0; i < 20; i++) seqs.push(...(await store!.log.append([item(`p${i % 2}`, `m${i}`)])));
      assert.equal((await streamState(singleUrls(), `${prefix}_LOG`)).messages, 20);
      await store!.log.trim('p0', seqs[10]!);
      await eventually('the oldest batches are purged', async () => {
        const st = await streamState(singleUrls(), `${prefix}_LOG`);
        return st.messages === 19 && st.first_seq === 2;
      });
      await store!.log.trim('p0', seqs[19]!);
      await store!.log.trim('p1', seqs[19]!);
      await eventually('every batch is purged', async () => {
        return (await streamState(singleUrls(), `${prefix}_LOG`)).messages === 0;
      });
      assert.ok(store!.stats().purges >= 2);
      const [next] = await store!.log.append([item('p0', 'after')]);
      assert.ok(next! > seqs[19]!, 'seqs keep increasing after a purge');
      assert.deepEqual((await store!.log.read('p0', 0, 10)).map(text), ['after']);
    }));

  test('a full log refuses an append whole and keeps what it has', () =>
    withStores(
      singleUrls,
      1,
      1,
      async ([store], prefix) => {
        await store!.log.append([item('kept', new Uint8Array(20_000).fill(7))]);
        const big = new Uint8Array(60_000).fill(9);
        await assert.rejects(store!.log.append([item('refused', big), item('kept', big)]), (err: unknown) => {
          assert.ok(isTandemError(err, 'TANDEM_E_STORE_FULL'), String(err));
          return true;
        });
        assert.equal(await store!.log.count('refused', 0), 0);
        const kept = await store!.log.read('kept', 0, 10);
        assert.equal(kept.length, 1);
        assert.ok(kept[0]!.data.every((b) => b === 7));
        assert.equal((await streamState(singleUrls(), `${prefix}_LOG`)).messages, 1);
        // Small appends still fit.
        await store!.log.append([item('kept', 'small')]);
        // One append larger than a NATS message can never be stored atomically.
        const huge = new Uint8Array(2 * 1024 * 1024);
        await assert.rejects(store!.log.append([item('kept', huge)]), { code: 'TANDEM_E_STORE_FULL' });
      },
      { storeBytesMax: 64 * 1024 },
    ));

  test('kv watch delivers current entries, then changes and deletes in order', () =>
    withStores(singleUrls, 1, 1, async ([store]) => {
      const kv = store!.kv;
      const enc = (s: string) => new TextEncoder().encode(s);
      await kv.put('w/a', enc('1'));
      await kv.put('w/b', enc('2'));
      await kv.put('other', enc('x'));
      await kv.delete('w/b');
      const seen: KvChange[] = [];
      const watch = await kv.watch('w/', (c) => seen.push(c));
      assert.deepEqual(
        seen.map((c) => [c.key, c.value && new TextDecoder().decode(c.value)]),
        [['w/a', '1']],
        'initial entries: live keys under the prefix only',
      );
      const r1 = await kv.put('w/c', enc('3'));
      await kv.put('other', enc('y'));
      await kv.put('w/a', enc('4'));
      await kv.delete('w/c');
      await kv.put('w/$edge:1', enc('5'));
      await eventually('all changes arrive', () => seen.length === 5);
      assert.deepEqual(
        seen.slice(1).map((c) => [c.key, c.value && new TextDecoder().decode(c.value)]),
        [
          ['w/c', '3'],
          ['w/a', '4'],
          ['w/c', undefined],
          ['w/$edge:1', '5'],
        ],
      );
      assert.equal(seen[1]!.revision, r1);
      const revisions = seen.slice(1).map((c) => c.revision);
      assert.deepEqual(
        revisions,
        [...revisions].sort((x, y) => x - y),
      );
      watch.stop();
      const empty: KvChange[] = [];
      const w2 = await kv.watch('nothing/', (c) => empty.push(c));
      assert.deepEqual(empty, [], 'a watch on an empty prefix resolves');
      w2.stop();
    }));

  test('group commit packs concurrent appends into few JetStream messages', (t) =>
    withStores(singleUrls, 1, 1, async ([store]) => {
      const before = store!.stats();
      const t0 = Date.now();
      const seqs = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => store!.log.append([item(`g${i % 4}`, String(i))])),
      );
      const ms = Date.now() - t0;
      const after = store!.stats();
      const batches = after.batches - before.batches;
      assert.equal(after.appends - before.appends, 1000);
      assert.ok(batches <= 20, `1000 appends took ${batches} batches`);
      const flat = seqs.map((s) => s[0]!);
      assert.deepEqual(
        flat,
        [...flat].sort((x, y) => x - y),
      );
      t.diagnostic(`1000 concurrent appends: ${batches} batches, ${ms} ms`);
      // Appends spread over event-loop turns: several batches in flight at once keep call order.
      const spread: Promise<number[]>[] = [];
      for (let i = 0; i < 300; i++) {
        spread.push(store!.log.append([item('spread', String(i))]));
        if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
      }
      const spreadSeqs = (await Promise.all(spread)).map((s) => s[0]!);
      assert.deepEqual(
        spreadSeqs,
        [...spreadSeqs].sort((x, y) => x - y),
      );
      assert.deepEqual(
        (await store!.log.read('spread', 0, 1000)).map(text),
        spreadSeqs.map((_, i) => String(i)),
      );
    }));

  test('appends wait through a restart of the local server, and following resumes', async () => {
    const own = await startNatsServer({ dir: path.join(dir, 'restarting'), name: 'restarting' });
    const prefix = uniquePrefix();
    const store = await openJetStreamStore({ servers: [own.url], prefix, replicas: 1 });
    try {
      const kvSeen: KvChange[] = [];
      const watch = await store.kv.watch('k/', (c) => kvSeen.push(c));
      await store.log.append([item('r', 'before')]);
      await own.stop();
      const during = store.log.append([item('r', 'during')]);
      await own.restart();
      await during;
      await store.log.append([item('r', 'after')]);
      assert.deepEqual((await store.log.read('r', 0, 10)).map(text), ['before', 'during', 'after']);
      // A second instance appends; the first one's tailer (its consumer died with the server) sees it.
      const other = await openJetStreamStore({ servers: [own.url], prefix, replicas: 1 });
      try {
        await other.log.append([item('r', 'from other')]);
        await other.kv.put('k/1', new TextEncoder().encode('v'));
      } finally {
        await other.close();
      }
      await eventually('the tailer resumed', async () => (await store.log.count('r', 0)) === 4, 20_000);
      await eventually('the kv watch resumed', () => kvSeen.some((c) => c.key === 'k/1'), 20_000);
      watch.stop();
    } finally {
      await store.close();
      await own.dispose();
    }
  });

  test('an open updates a stream with other limits and refuses one it cannot use', async () => {
    const prefix = uniquePrefix();
    const nc = await connect({ servers: singleUrls() });
    try {
      const jsm = await jetstreamManager(nc);
      const first = await openJetStreamStore({
        servers: singleUrls(),
        prefix,
        replicas: 1,
        storeBytesMax: 1 << 20,
      });
      await first.close();
      const second = await openJetStreamStore({
        servers: singleUrls(),
        prefix,
        replicas: 1,
        storeBytesMax: 2 << 20,
      });
      await second.close();
      assert.equal((await jsm.streams.info(`${prefix}_LOG`)).config.max_bytes, 2 << 20);
      const other = uniquePrefix();
      await jsm.streams.add({ name: `${other}_LOG`, subjects: [`somebody.else.${other}`] });
      await assert.rejects(
        openJetStreamStore({ servers: singleUrls(), prefix: other, replicas: 1 }),
        (err: unknown) => {
          assert.ok(isTandemError(err, 'TANDEM_E_STORE'), String(err));
          assert.match((err as Error).message, /exists with/);
          return true;
        },
      );
      await dropStreams(singleUrls(), other);
    } finally {
      await nc.close();
      await dropStreams(singleUrls(), prefix);
    }
  });

  test('an open fails clearly on a server without JetStream', async () => {
    const plain = await startNatsServer({ dir: path.join(dir, 'plain'), jetstream: false, name: 'plain' });
    try {
      await assert.rejects(openJetStreamStore({ servers: [plain.url], replicas: 1 }), (err: unknown) => {
        assert.ok(isTandemError(err, 'TANDEM_E_STORE'), String(err));
        assert.match((err as Error).message, /JetStream/);
        return true;
      });
    } finally {
      await plain.dispose();
    }
  });

  test('close is idempotent; later calls fail with TANDEM_E_STORE', () =>
    withStores(singleUrls, 1, 1, async ([store]) => {
      const pending = store!.log.append([item('c', 'queued before close')]);
      await store!.close();
      await store!.close();
      assert.equal((await pending).length, 1, 'appends queued before close are settled');
      await assert.rejects(store!.log.append([item('c', 'late')]), { code: 'TANDEM_E_STORE' });
      await assert.rejects(store!.kv.get('k'), { code: 'TANDEM_E_STORE' });
      await assert.rejects(store!.log.read('c', 0, 1), { code: 'TANDEM_E_STORE' });
    }));

  test('the log survives SIGKILL of the stream leader; nothing acknowledged is lost', () =>
    withStores(
      clusterUrls,
      3,
      1,
      async ([probe], prefix) => {
        const info = await (await jetstreamManager(probe!.connection)).streams.info(`${prefix}_LOG`);
        const leader = cluster!.servers.find((s) => s.name === info.cluster?.leader)!;
        assert.ok(leader, 'the log stream has a leader');
        // A store whose own server is the leader: it loses its connection and its tailer too.
        const store = await openJetStreamStore({
          servers: [leader.url, ...cluster!.urls.filter((u) => u !== leader.url)],
          prefix,
          replicas: 3,
        });
        try {
          const acked: string[] = [];
          const append = async (i: number) => {
            await store.log.append([item('survive', `m${i}`)]);
            acked.push(`m${i}`);
          };
          for (let i = 0; i < 20; i++) await append(i);
          await leader.kill();
          for (let i = 20; i < 40; i++) await append(i);
          assert.equal(acked.length, 40);
          assert.deepEqual((await store.log.read('survive', 0, 100)).map(text), acked);
          await leader.restart();
          const fresh = await openJetStreamStore({ servers: cluster!.urls, prefix, replicas: 3 });
          try {
            assert.deepEqual((await fresh.log.read('survive', 0, 100)).map(text), acked);
          } finally {
            await fresh.close();
          }
        } finally {
          await store.close();
          if (!leader.running) await leader.restart();
        }
      },
      { rotate: false },
    ));
});
