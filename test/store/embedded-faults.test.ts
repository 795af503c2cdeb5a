/**
 * Faults of the embedded store, made real rather than mocked: a store at its size cap, a
 * real file system that is full (a tmpfs), and a writer killed with SIGKILL. After each,
 * every acknowledged record must be there byte for byte (G1), nothing of a refused append
 * may be stored, and the store must take appends again once space comes back.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/types.js';
import { type Acked, assertAcked, fillStreams, fillUntilFull, withTmpfs } from './fixtures/fill.js';
import { fixtureArgs, spawnFixture } from './fixtures/spawn.js';
import { checkOrder, straceAvailable, traceNode } from './fixtures/syscall-order.js';

const recordBytes = 1000;
const perRound = 16;

/** Trims the first fill stream completely; returns the seq it trimmed to. */
async function trimFirstStream(store: Store, acked: readonly Acked[]): Promise<void> {
  const upto = Math.max(...acked.filter((a) => a.stream === fillStreams[0]).map((a) => a.seq));
  await store.log.trim(fillStreams[0]!, upto);
  assert.equal(await store.log.count(fillStreams[0]!, 0), 0);
}

async function assertRecovers(
  dir: string,
  options: { storeBytesMax?: number; diskReserveBytes?: number },
  acked: Acked[],
): Promise<void> {
  const store = await openEmbeddedStore({ dir, ...options });
  try {
    assert.equal(await assertAcked(store, acked, fillStreams), 0, 'a refused append stored nothing');
    await trimFirstStream(store, acked);
    const [seq] = await store.log.append([
      { stream: 'after', data: new Uint8Array(recordBytes), expiresAtMs: 0 },
    ]);
    assert.ok(seq! > Math.max(...acked.map((a) => a.seq)));
    const kept = acked.filter((a) => a.stream !== fillStreams[0]);
    await assertAcked(store, kept, fillStreams.slice(1));
  } finally {
    await store.close();
  }
}

describe('embedded store faults', () => {
  test('full at storeBytesMax: refused, nothing lost, appends again after a trim', async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'tandem-full-'));
    const dir = path.join(parent, 'store');
    const options = { storeBytesMax: 2 * 1024 * 1024 };
    try {
      const store = await openEmbeddedStore({ dir, ...options });
      const { acked, full } = await fillUntilFull(store, recordBytes, perRound, 16 * options.storeBytesMax);
      assert.equal(full.details.reason, 'store');
      assert.ok(acked.length > 500, `only ${acked.length} records fitted in 2 MiB`);
      const counts = await Promise.all(fillStreams.map((s) => store.log.count(s, 0)));
      const many = fillStreams.map((stream) => ({
        stream,
        data: new Uint8Array(recordBytes),
        expiresAtMs: 0,
      }));
      await assert.rejects(store.log.append(many), { code: 'TANDEM_E_STORE_FULL' });
      assert.deepEqual(await Promise.all(fillStreams.map((s) => store.log.count(s, 0))), counts);
      assert.ok(await store.kv.put('still/writable', new Uint8Array(8)), 'small key-value writes still work');
      await store.close();
      await assertRecovers(dir, options, acked);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  test('full disk (tmpfs), refused before the disk runs dry: nothing lost, appends after a trim', (t) =>
    withTmpfs(t, '4m', async (mnt) => {
      const dir = path.join(mnt, 'store');
      const options = { storeBytesMax: 64 * 1024 * 1024 };
      const store = await openEmbeddedStore({ dir, ...options });
      const { acked, full } = await fillUntilFull(store, recordBytes, perRound, options.storeBytesMax);
      assert.equal(full.details.reason, 'disk');
      assert.ok(acked.length > 1000, `only ${acked.length} records fitted on a 4 MiB disk`);
      await store.close();
      await assertRecovers(dir, options, acked);
    }));

  test('full disk (tmpfs) with no reserve: ENOSPC is TANDEM_E_STORE_FULL, nothing lost', (t) =>
    withTmpfs(t, '4m', async (mnt) => {
      const dir = path.join(mnt, 'store');
      const ballast = path.join(mnt, 'ballast');
      await writeFile(ballast, new Uint8Array(512 * 1024));
      const options = { storeBytesMax: 64 * 1024 * 1024, diskReserveBytes: 0 };
      const store = await openEmbeddedStore({ dir, ...options });
      const { acked, full } = await fillUntilFull(store, recordBytes, perRound, options.storeBytesMax);
      assert.equal(full.details.reason, 'disk');
      // LMDB reports a short pwrite() as EIO (5), a write with no room at all as ENOSPC (28).
      const { code } = full.cause as { code?: unknown };
      assert.ok(
        code === 5 || code === 28,
        `the file system error is kept as the cause: ${String(full.cause)}`,
      );
      await store.close();
      await rm(ballast);
      await assertRecovers(dir, options, acked);
    }));

  test('an append resolves only after fdatasync and the O_DSYNC meta write (strace)', async (t) => {
    if (!straceAvailable()) {
      t.skip('strace is not installed: cannot watch the order of write, fsync and ack system calls');
      return;
    }
    const parent = await mkdtemp(path.join(os.tmpdir(), 'tandem-fsync-'));
    try {
      const traceFile = path.join(parent, 'trace');
      traceNode(fixtureArgs('append-sequential', [path.join(parent, 'store'), '50']), traceFile);
      const report = checkOrder(await readFile(traceFile, 'utf8'));
      assert.equal(report.acks, 50);
      assert.deepEqual(report.violations, []);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  test('SIGKILL of a writer loses no acknowledged record (3 rounds)', async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'tandem-crash-'));
    const dir = path.join(parent, 'store');
    const acked: Acked[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        const lines = await runUntilKilled(dir, randomInt(200, 800));
        acked.push(...lines.map(parseAck));
        const store = await openEmbeddedStore({ dir });
        try {
          const unacked = await assertAcked(store, acked, crashStreams);
          // Each of the child's 16 appenders has at most one append in flight when killed.
          assert.ok(unacked <= 16 * (round + 1), `${unacked} records were stored but never acknowledged`);
        } finally {
          await store.close();
        }
      }
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

const crashStreams = ['crash/a', 'crash/b', 'crash/c'];

function parseAck(line: string): Acked {
  const [seq, stream, hex] = line.split(' ');
  assert.ok(seq && stream && hex !== undefined, `bad ack line ${JSON.stringify(line)}`);
  return { seq: Number(seq), stream, data: new Uint8Array(Buffer.from(hex, 'hex')) };
}

/** Starts the appending child, SIGKILLs it after `acksBeforeKill` acks; returns every complete ack line. */
function runUntilKilled(dir: string, acksBeforeKill: number): Promise<string[]> {
  const child = spawnFixture('append-forever', [dir]);
  let out = '';
  let err = '';
  let lines = 0;
  let killed = false;
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    out += text;
    for (const c of text) if (c === '\n') lines++;
    if (!killed && lines >= acksBeforeKill) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (!killed || signal !== 'SIGKILL') {
        reject(new Error(`append-forever ended by itself (${code ?? signal}) after ${lines} acks: ${err}`));
        return;
      }
      // A partial last line was cut by the kill; it was never a whole acknowledgement.
      resolve(out.split('\n').slice(0, -1));
    });
  });
}
