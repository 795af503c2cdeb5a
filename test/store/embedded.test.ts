/**
 * The embedded (LMDB) store: the shared contract suite, then what only this backend
 * promises: file permissions, group commit, several processes on one directory.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { type EmbeddedStore, openEmbeddedStore } from '../../src/store/embedded/index.js';
import type { Store } from '../../src/store/types.js';
import { runStoreContract } from './contract.js';
import { runFixture } from './fixtures/spawn.js';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'tandem-store-'));
}

runStoreContract('embedded', async () => {
  const parent = await tempDir();
  const dir = path.join(parent, 'store');
  const opened: Store[] = [await openEmbeddedStore({ dir })];
  return {
    store: opened[0]!,
    reopen: async () => {
      const store = await openEmbeddedStore({ dir });
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      for (const s of opened) await s.close();
      await rm(parent, { recursive: true, force: true });
    },
  };
});

async function withStore(body: (store: EmbeddedStore, dir: string) => Promise<void>): Promise<void> {
  const parent = await tempDir();
  const dir = path.join(parent, 'store');
  const store = await openEmbeddedStore({ dir });
  try {
    await body(store, dir);
  } finally {
    await store.close();
    await rm(parent, { recursive: true, force: true });
  }
}

describe('embedded store', () => {
  test('creates its directory 0700 and its files 0600', () =>
    withStore(async (_store, dir) => {
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      for (const file of ['data.mdb', 'lock.mdb']) {
        assert.equal((await stat(path.join(dir, file))).mode & 0o777, 0o600, file);
      }
    }));

  test('appends issued together share one commit', () =>
    withStore(async (store) => {
      const before = store.stats();
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store.log.append([{ stream: 's', data: new Uint8Array([i]), expiresAtMs: 0 }]),
        ),
      );
      const after = store.stats();
      assert.equal(after.writes - before.writes, 200);
      assert.equal(after.commits - before.commits, 1, 'one event-loop turn of appends is one transaction');
    }));

  test('appends issued during a commit share the next one', () =>
    withStore(async (store) => {
      const append = (i: number) =>
        store.log.append([{ stream: 's', data: new Uint8Array([i]), expiresAtMs: 0 }]);
      const first = append(0);
      // Issued on later turns while the first transaction is being written and fsynced.
      const later: Promise<number[]>[] = [];
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (let i = 1; i <= 50; i++) later.push(append(i));
      await Promise.all([first, ...later]);
      assert.ok(store.stats().commits <= 3, `51 appends took ${store.stats().commits} commits`);
    }));

  test('close is idempotent and later calls fail with TANDEM_E_STORE', async () => {
    const parent = await tempDir();
    try {
      const store = await openEmbeddedStore({ dir: path.join(parent, 's') });
      await store.close();
      await store.close();
      await assert.rejects(store.log.append([{ stream: 's', data: new Uint8Array(1), expiresAtMs: 0 }]), {
        code: 'TANDEM_E_STORE',
      });
      await assert.rejects(store.kv.get('k'), { code: 'TANDEM_E_STORE' });
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  test('another process writes while this one has the store open', () =>
    withStore(async (store, dir) => {
      const [mine] = await store.log.append([{ stream: 'here', data: new Uint8Array([0]), expiresAtMs: 0 }]);
      const revisionBefore = await store.kv.put('identities/local', new Uint8Array([1]));
      const out = await runFixture('other-process', [dir]);
      const [revision, seq] = out.trim().split(' ').map(Number);
      assert.ok(seq! > mine!, 'the other process continued the shared seq counter');
      assert.ok(revision! > revisionBefore, 'and the shared revision counter');
      const seen = await store.kv.get('identities/from-cli');
      assert.equal(new TextDecoder().decode(seen?.value), 'created by another process');
      assert.equal(seen?.revision, revision);
      assert.deepEqual(
        (await store.log.read('from-cli', 0, 10)).map((r) => r.seq),
        [seq],
      );
      const [next] = await store.log.append([{ stream: 'here', data: new Uint8Array([1]), expiresAtMs: 0 }]);
      assert.ok(next! > seq!);
    }));
});
