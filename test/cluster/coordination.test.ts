/**
 * Membership, endpoint leases and session claims of two hub replicas, over a real
 * nats-server (one server, R1: the rules do not depend on replication). Short timing
 * bounds keep it fast; the production bounds are in limits.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Coordination, startCoordination } from '../../src/cluster/index.js';
import { leaseKey, memberKey } from '../../src/cluster/keys.js';
import { isTandemError } from '../../src/errors.js';
import { type JetStreamStore, openJetStreamStore } from '../../src/store/jetstream/index.js';
import type { KvChange, KvEntry, WatchableKeyValue } from '../../src/store/types.js';
import { type NatsServerHandle, startNatsServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait.js';

const timing = { heartbeatMs: 50, memberTtlMs: 400, selfFenceMs: 250, grantWaitMs: 300 };
let dir: string;
let server: NatsServerHandle;
let prefixCount = 0;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-coord-'));
  server = await startNatsServer({ dir });
});

after(async () => {
  await server.dispose();
  await rm(dir, { recursive: true, force: true });
});

interface Replica {
  readonly store: JetStreamStore;
  readonly coord: Coordination;
  readonly events: string[];
}

/**
 * `kv` whose compare-and-set always wins (expected revisions are dropped), as two replicas saw
 * it during a 2.9.10 leader election, with `changes` to the other operations.
 */
function casAlwaysWins(kv: WatchableKeyValue, changes: Partial<WatchableKeyValue> = {}): WatchableKeyValue {
  return {
    get: (key) => kv.get(key),
    put: (key, value) => kv.put(key, value),
    delete: (key, options) => kv.delete(key, options),
    list: (prefix) => kv.list(prefix),
    watch: (prefix, onChange) => kv.watch(prefix, onChange),
    ...changes,
  };
}

/**
 * The store as one replica saw nats-server 2.9.10 during a leader election: the heartbeats
 * of `replica` stop arriving in its watch, a read of that member key answers with the first
 * value it read, and every compare-and-set wins. So it believes `replica` dead while it
 * lives, and takes its leases over.
 */
function misinformed(kv: WatchableKeyValue, replica: string): WatchableKeyValue {
  const hidden = memberKey(replica);
  let first: KvEntry | undefined;
  let seen = false;
  return casAlwaysWins(kv, {
    get: async (key) => {
      if (key !== hidden) return kv.get(key);
      first ??= await kv.get(key);
      return first;
    },
    watch: (prefix, onChange) =>
      kv.watch(prefix, (c: KvChange) => {
        if (c.key === hidden && seen) return;
        if (c.key === hidden) seen = true;
        onChange(c);
      }),
  });
}

async function replicas(...names: string[]): Promise<Replica[]> {
  return replicasWith(names, () => (kv) => kv);
}

async function replicasWith(
  names: string[],
  wrap: (name: string) => (kv: WatchableKeyValue) => WatchableKeyValue,
): Promise<Replica[]> {
  const prefix = `COORD${++prefixCount}`;
  const out: Replica[] = [];
  for (const name of names) {
    const store = await openJetStreamStore({ servers: [server.url], prefix, replicas: 1 });
    const events: string[] = [];
    const coord = await startCoordination({
      kv: wrap(name)(store.kv),
      replica: name,
      timing,
      log: (_level, message) => events.push(message),
    });
    out.push({ store, coord, events });
  }
  return out;
}

async function closeAll(rs: Replica[]): Promise<void> {
  for (const r of rs) {
    await r.coord.close().catch(() => {});
    await r.store.close().catch(() => {});
  }
}

/** Records grants and losses of one replica's wish for a stream, with times. */
function wish(r: Replica, stream: string) {
  const log: { what: 'granted' | 'lost'; checkpoint?: number; atMs: number }[] = [];
  r.coord.leases.want(stream, {
    granted: (checkpoint) => log.push({ what: 'granted', checkpoint, atMs: Date.now() }),
    lost: () => log.push({ what: 'lost', atMs: Date.now() }),
  });
  return log;
}

test('one holder at a time; a released lease passes its checkpoint on at once', async () => {
  const rs = await replicas('a', 'b');
  const [a, b] = rs as [Replica, Replica];
  try {
    const wa = wish(a, 'module/m/in');
    await waitFor('a to hold the lease', () => wa.length === 1);
    assert.deepEqual(wa[0]?.checkpoint, 0);
    const wb = wish(b, 'module/m/in');
    await a.coord.leases.save('module/m/in', 5);
    // b waits while a is alive: several retry periods pass without a grant.
    await new Promise((resolve) => setTimeout(resolve, timing.memberTtlMs * 2));
    assert.equal(wb.length, 0, 'b must not get a lease a live replica holds');
    assert.equal(await b.coord.leases.knownCheckpoint('module/m/in'), 5);
    await a.coord.leases.unwant('module/m/in', 7);
    await waitFor('b to take the released lease', () => wb.length === 1);
    assert.equal(wb[0]?.checkpoint, 7);
    await assert.rejects(a.coord.leases.save('module/m/in', 9), (e) =>
      isTandemError(e, 'TANDEM_E_LEASE_LOST'),
    );
    assert.deepEqual(b.coord.leases.held(), ['module/m/in']);
  } finally {
    await closeAll(rs);
  }
});

test('a replica that stops heartbeating fences itself before another takes its lease over', async () => {
  const rs = await replicas('a', 'b');
  const [a, b] = rs as [Replica, Replica];
  try {
    const wa = wish(a, 'upstream');
    await waitFor('a to hold the lease', () => wa.length === 1);
    await a.coord.leases.save('upstream', 11);
    const wb = wish(b, 'upstream');
    // a's connection to the store goes away (a crashed node looks the same to b).
    const cutAtMs = Date.now();
    await a.store.connection.close();
    await waitFor('b to take the lease over', () => wb.length === 1, 10_000);
    assert.equal(wb[0]?.checkpoint, 11, 'the new holder resumes from the last checkpoint');
    const lost = wa.find((e) => e.what === 'lost');
    assert.ok(lost, 'a noticed it lost the lease');
    assert.ok(lost.atMs < wb[0]!.atMs, `a stopped (${lost.atMs}) before b started (${wb[0]!.atMs})`);
    const failoverMs = wb[0]!.atMs - cutAtMs;
    // Counted from b's sight of a's last heartbeat, which came at most one period before the cut.
    assert.ok(
      failoverMs >= timing.memberTtlMs - timing.heartbeatMs,
      `takeover waited for the TTL (${failoverMs} ms)`,
    );
    assert.ok(
      b.events.some((e) => e.includes('replica a is dead')),
      b.events.join('\n'),
    );
  } finally {
    await closeAll(rs);
  }
});

test('a live holder taken over by a misinformed replica stops before the taker starts', async () => {
  // b's view of the store lies as 2.9.10's did in an election; a's does not.
  const rs = await replicasWith(['a', 'b'], (name) => (kv) => (name === 'b' ? misinformed(kv, 'a') : kv));
  const [a, b] = rs as [Replica, Replica];
  try {
    const wa = wish(a, 'upstream');
    await waitFor('a to hold the lease', () => wa.length === 1);
    await a.coord.leases.save('upstream', 21);
    const wb = wish(b, 'upstream');
    await waitFor('b to take the lease over', () => wb.some((e) => e.what === 'granted'), 10_000);
    const lost = wa.find((e) => e.what === 'lost');
    const granted = wb.find((e) => e.what === 'granted')!;
    assert.ok(lost, 'a learned that it lost the lease');
    assert.ok(lost.atMs <= granted.atMs, `a stopped (${lost.atMs}) before b started (${granted.atMs})`);
    assert.equal(granted.checkpoint, 21, 'b resumes from a checkpoint a saved');
    assert.ok(
      b.events.some((e) => e.includes('replica a is dead')),
      'b believed the live a dead',
    );
    assert.equal(a.coord.membership.fenced, false, 'a itself never stopped heartbeating');
    assert.deepEqual(a.coord.leases.held(), []);
    assert.equal(a.coord.leases.permits('upstream'), false);
  } finally {
    await closeAll(rs);
  }
});

test('two replicas both winning the compare-and-set for a free lease: only the later take is granted', async () => {
  // Both read the lease as free once, and every compare-and-set wins: both takes are written.
  const lease = leaseKey('module/m/in');
  const takes: string[] = [];
  const rs = await replicasWith(['a', 'b'], (name) => (kv) => {
    let readFree = true;
    return casAlwaysWins(kv, {
      get: (key) => {
        if (key !== lease || !readFree) return kv.get(key);
        readFree = false;
        return Promise.resolve(undefined);
      },
      put: (key, value) => {
        if (key === lease) takes.push(name);
        return kv.put(key, value);
      },
    });
  });
  try {
    // Both replicas run in this process: the order of this array is the real order.
    const order: string[] = [];
    for (const [i, r] of rs.entries()) {
      const name = i === 0 ? 'a' : 'b';
      r.coord.leases.want('module/m/in', {
        granted: () => order.push(`+${name}`),
        lost: () => order.push(`-${name}`),
      });
    }
    await waitFor('a grant', () => order.length > 0, 10_000);
    await new Promise((resolve) => setTimeout(resolve, timing.grantWaitMs * 3));
    assert.deepEqual([...takes].sort(), ['a', 'b'], 'both takes were written');
    assert.equal(order.length, 1, `one grant and no loss: ${order.join(' ')}`);
    const holders = rs.flatMap((r) => r.coord.leases.held());
    assert.deepEqual(holders, ['module/m/in']);
  } finally {
    await closeAll(rs);
  }
});

test('the newest session claim wins on every replica', async () => {
  const rs = await replicas('a', 'b');
  const [a, b] = rs as [Replica, Replica];
  try {
    const seenA: string[] = [];
    const seenB: string[] = [];
    await a.coord.sessions.start((id, s) => seenA.push(`${id}=${s}`));
    await b.coord.sessions.start((id, s) => seenB.push(`${id}=${s}`));
    await a.coord.sessions.claim('dev1', 's1');
    await b.coord.sessions.claim('dev1', 's2');
    await waitFor('both replicas to see the later claim', () =>
      [seenA, seenB].every((s) => s.at(-1) === 'dev1=s2'),
    );
    assert.deepEqual(seenA, ['dev1=s1', 'dev1=s2']);
  } finally {
    await closeAll(rs);
  }
});

test('a second live process with the same replica id is refused', async () => {
  const rs = await replicas('a');
  try {
    const prefix = `COORD${prefixCount}`;
    const store = await openJetStreamStore({ servers: [server.url], prefix, replicas: 1 });
    try {
      await assert.rejects(startCoordination({ kv: store.kv, replica: 'a', timing }), (e) =>
        isTandemError(e, 'TANDEM_E_CLUSTER'),
      );
    } finally {
      await store.close();
    }
  } finally {
    await closeAll(rs);
  }
});
