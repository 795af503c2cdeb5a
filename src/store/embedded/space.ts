/**
 * Admission of appends against the store's size cap and the free space of its disk.
 *
 * Why not let LMDB say "full": lmdb-js 3.x grows the map whenever it runs out (its LMDB
 * fork patches mdb_page_alloc), so MDB_MAP_FULL never comes and `mapSize` caps nothing.
 * And a disk that fills up completely is a trap: LMDB copies pages on write, so even a
 * trim needs a few free pages, and a trim is how space comes back. So appends are refused
 * *before* either limit is hit:
 * - store cap: pages in use (B-tree pages of every database, measured at the start of each
 *   write transaction, so other processes' writes count) plus an estimate for the appends
 *   already admitted into this transaction must stay within `storeBytesMax`;
 * - disk: new file growth (the estimate minus free pages the file already holds, less those
 *   it cannot reuse yet) must leave `diskReserveBytes` free on the file system, which
 *   trims, checkpoints and key-value writes may still use. A reserve of 0 turns this check
 *   off; appends then run until pwrite() fails.
 * Both are soft bounds: the estimate assumes half-full leaf pages, and pages freed by a
 * trim become reusable only once no reader holds the old snapshot. The file may therefore
 * exceed the cap by some pages; a disk that fills anyway (another program) still surfaces
 * as TANDEM_E_STORE_FULL through failures.ts.
 */

import { freeDiskBytes, storeFull } from './failures.js';
import type { LmdbEnv } from './lmdb-env.js';

interface PageStats {
  readonly pageSize: number;
  readonly treeBranchPageCount: number;
  readonly treeLeafPageCount: number;
  readonly overflowPages: number;
}

interface DbStats extends PageStats {
  readonly root: PageStats;
  readonly free: PageStats;
  readonly lastPageNumber: number;
}

/** LMDB's own pages: the two meta pages. */
const metaPages = 2;
/** Node header (8 bytes) plus its slot in the page's offset table (2 bytes). */
const nodeOverheadBytes = 10;
/** Sequential inserts split pages in half, so leaves end up about half full. */
const leafFillFactor = 2;
/**
 * Free pages in the file that are not counted as room: pages freed by the last one or two
 * transactions (copy-on-write) or still seen by an open snapshot cannot be reused yet.
 * A store filling up with 16 KB transactions kept about 20 such pages (80 KB); counting
 * them as room let appends through that then failed with ENOSPC. 1 MiB leaves a wide margin.
 */
const slackHeldBytes = 1024 * 1024;

function pagesOf(s: PageStats): number {
  return s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
}

export interface SpaceLimits {
  readonly dir: string;
  readonly storeBytesMax: number;
  readonly diskReserveBytes: number;
}

export class SpaceGuard {
  readonly #env: LmdbEnv;
  readonly #limits: SpaceLimits;
  #pageSize = 4096;
  #liveBytes = 0;
  #slackBytes = 0;
  #diskFreeBytes = Number.POSITIVE_INFINITY;
  #admittedBytes = 0;

  constructor(env: LmdbEnv, limits: SpaceLimits) {
    this.#env = env;
    this.#limits = limits;
  }

  /** Measures pages in use and free disk; call inside the write transaction, before any write. */
  beginTransaction(): void {
    const dbs = [this.#env.log, this.#env.checkpoints, this.#env.kv, this.#env.meta];
    let pages = metaPages;
    let last: DbStats | undefined;
    for (const db of dbs) {
      last = db.getStats() as DbStats;
      pages += pagesOf(last);
    }
    if (last) {
      this.#pageSize = last.pageSize;
      pages += pagesOf(last.root) + pagesOf(last.free);
      const freePagesBytes = (last.lastPageNumber + 1 - pages) * this.#pageSize;
      this.#slackBytes = Math.max(0, freePagesBytes - slackHeldBytes);
    }
    this.#liveBytes = pages * this.#pageSize;
    this.#diskFreeBytes = freeDiskBytes(this.#limits.dir);
    this.#admittedBytes = 0;
  }

  /** Admits an append of records (sizes before overhead) or throws TANDEM_E_STORE_FULL. */
  admit(recordBytes: readonly number[]): void {
    let bytes = 0;
    for (const b of recordBytes) bytes += this.#estimate(b);
    const storeBytes = this.#liveBytes + this.#admittedBytes + bytes;
    if (storeBytes > this.#limits.storeBytesMax) {
      throw storeFull('the store is full (storeBytesMax)', {
        reason: 'store',
        storeBytesMax: this.#limits.storeBytesMax,
        usedBytes: this.#liveBytes + this.#admittedBytes,
        appendBytes: bytes,
      });
    }
    // What fits in pages the file already has needs no disk, even from the reserve.
    const growthBytes = Math.max(0, this.#admittedBytes + bytes - this.#slackBytes);
    const reserve = this.#limits.diskReserveBytes;
    if (reserve > 0 && growthBytes > 0 && growthBytes > this.#diskFreeBytes - reserve) {
      throw storeFull('the disk under the store is full', {
        reason: 'disk',
        dir: this.#limits.dir,
        diskFreeBytes: this.#diskFreeBytes,
        diskReserveBytes: reserve,
        appendBytes: bytes,
      });
    }
    this.#admittedBytes += bytes;
  }

  /** Bytes a record is expected to take in the B-tree, overflow pages rounded up. */
  #estimate(recordBytes: number): number {
    const nodeBytes = nodeOverheadBytes + recordBytes;
    // LMDB moves a value to its own overflow pages when the node would not fit 2 per page.
    if (nodeBytes > this.#pageSize / 2) {
      const overflowPages = Math.ceil((recordBytes + 16) / this.#pageSize);
      return overflowPages * this.#pageSize + leafFillFactor * (nodeOverheadBytes + 8 + 16);
    }
    return leafFillFactor * nodeBytes;
  }
}
