/**
 * What the log, checkpoints and key-value parts of one embedded store share: the LMDB
 * environment, the group committer that serialises writes, the space guard, and whether
 * the store is closed. Reads are synchronous in lmdb-js (a memory-mapped B-tree needs no
 * I/O for them); they are wrapped here so that a closed store and an LMDB failure surface
 * as TandemErrors.
 */
import { TandemError } from '../../errors.js';
import type { GroupCommitter, TxnWork } from './group-commit.js';
import type { LmdbEnv } from './lmdb-env.js';
import type { SpaceGuard } from './space.js';

export class StoreContext {
  readonly env: LmdbEnv;
  readonly committer: GroupCommitter;
  readonly space: SpaceGuard;
  readonly dir: string;
  #closed = false;

  constructor(env: LmdbEnv, committer: GroupCommitter, space: SpaceGuard, dir: string) {
    this.env = env;
    this.committer = committer;
    this.space = space;
    this.dir = dir;
  }

  get closed(): boolean {
    return this.#closed;
  }

  markClosed(): void {
    this.#closed = true;
  }

  async read<T>(what: string, fn: () => T): Promise<T> {
    if (this.#closed) throw new TandemError('TANDEM_E_STORE', `${what}: the store is closed`);
    try {
      return fn();
    } catch (err) {
      if (err instanceof TandemError) throw err;
      throw new TandemError('TANDEM_E_STORE', `${what} failed: ${String(err)}`, { cause: err });
    }
  }

  /** Runs `work` in the next group commit; `bytes` is what it appends (0 for small writes). */
  write<T>(work: TxnWork<T>, bytes = 0): Promise<T> {
    return this.committer.submit(work, bytes);
  }
}
