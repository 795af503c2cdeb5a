/**
 * The embedded durable store: the single-node backend of the store contract (types.ts) on
 * one LMDB environment in one directory. Several processes may open the same directory at
 * once (the hub, and a CLI adding an identity); LMDB's lock file serialises their writes
 * and each read sees the latest commit of any of them.
 */

import { assert } from '../../errors.js';
import { limits } from '../../limits.js';
import type { Clock } from '../../util/clock.js';
import type { Checkpoints, KeyValue, MessageLog, Store } from '../types.js';
import { EmbeddedCheckpoints } from './checkpoints.js';
import { StoreContext } from './context.js';
import { toStoreError } from './failures.js';
import { type CommitStats, GroupCommitter } from './group-commit.js';
import { EmbeddedKeyValue } from './key-value.js';
import { type LmdbEnv, openLmdbEnv } from './lmdb-env.js';
import { EmbeddedLog } from './message-log.js';
import { SpaceGuard } from './space.js';

export interface EmbeddedStoreOptions {
  /** Directory of the LMDB files; created with mode 0700 when missing. */
  readonly dir: string;
  /** Cap on the pages the store uses; appends beyond it fail with TANDEM_E_STORE_FULL. */
  readonly storeBytesMax?: number;
  /**
   * Free disk space appends leave untouched, so trims, checkpoints and key-value writes
   * still find pages when the disk is otherwise full. Default: storeBytesMax / 64, within
   * 1 MiB..64 MiB. 0 turns the disk check off: appends run until the file system says
   * ENOSPC, which still fails them with TANDEM_E_STORE_FULL (tests use it to provoke that).
   */
  readonly diskReserveBytes?: number;
  /**
   * Accepted so every backend takes the same options. The embedded store keeps no
   * time-based state: expiry is judged by readers (types.ts, AppendItem.expiresAtMs).
   */
  readonly clock?: Clock;
}

export interface EmbeddedStore extends Store {
  readonly dir: string;
  /** Transactions committed and writes they carried, since this store was opened. */
  stats(): CommitStats;
}

const reserveBytesMin = 1024 * 1024;
const reserveBytesMax = 64 * 1024 * 1024;

function defaultReserve(storeBytesMax: number): number {
  return Math.min(reserveBytesMax, Math.max(reserveBytesMin, Math.floor(storeBytesMax / 64)));
}

class LmdbStore implements EmbeddedStore {
  readonly dir: string;
  readonly log: MessageLog;
  readonly checkpoints: Checkpoints;
  readonly kv: KeyValue;
  readonly #env: LmdbEnv;
  readonly #ctx: StoreContext;
  #closing: Promise<void> | undefined;

  constructor(dir: string, env: LmdbEnv, ctx: StoreContext) {
    this.dir = dir;
    this.#env = env;
    this.#ctx = ctx;
    this.log = new EmbeddedLog(ctx);
    this.checkpoints = new EmbeddedCheckpoints(ctx);
    this.kv = new EmbeddedKeyValue(ctx);
  }

  stats(): CommitStats {
    return this.#ctx.committer.stats;
  }

  /** Waits for queued writes, then closes the environment. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#ctx.committer.close();
      this.#ctx.markClosed();
      await this.#env.root.close();
    })();
    return this.#closing;
  }
}

export async function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const storeBytesMax = options.storeBytesMax ?? limits.storeBytesMaxDefault;
  assert(Number.isSafeInteger(storeBytesMax) && storeBytesMax > 0, 'storeBytesMax is a positive integer');
  const diskReserveBytes = options.diskReserveBytes ?? defaultReserve(storeBytesMax);
  assert(Number.isSafeInteger(diskReserveBytes) && diskReserveBytes >= 0, 'diskReserveBytes >= 0');
  let env: LmdbEnv;
  try {
    env = openLmdbEnv(options.dir);
  } catch (err) {
    throw await toStoreError(err, options.dir, `opening the store in ${options.dir}`);
  }
  const space = new SpaceGuard(env, { dir: options.dir, storeBytesMax, diskReserveBytes });
  const committer = new GroupCommitter(env, options.dir, () => space.beginTransaction());
  return new LmdbStore(options.dir, env, new StoreContext(env, committer, space, options.dir));
}
