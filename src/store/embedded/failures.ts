/**
 * Turns what lmdb-js throws into TandemErrors, telling a full store or disk from other
 * failures.
 *
 * How lmdb-js reports a failed commit (found by filling a 4 MB tmpfs, see
 * test/store/embedded-faults.test.ts): the promise rejects with a generic
 * `Error('Commit failed (see commitError for details)')` whose `commitError` property is a
 * second, rejected promise holding the real error, an Error whose numeric `code` is the
 * errno or LMDB return code. That second promise must get a handler, or Node reports an
 * unhandled rejection. A full disk shows up as:
 * - ENOSPC (28) when pwrite() could write nothing;
 * - EIO (5) when pwrite() wrote part of the pages: LMDB turns a short write into EIO. Only
 *   the file system can tell that apart from a failing device, so we ask it (statfs).
 * MDB_MAP_FULL (-30792) cannot happen with lmdb-js 3.x, whose LMDB fork grows the map, but
 * it means the same thing, so it is mapped too. lmdb-js also prints the raw error with
 * console.error on its write thread's callback; that is its own logging, not ours.
 */
import { statfsSync } from 'node:fs';
import { TandemError } from '../../errors.js';

const enospc = 28;
const eio = 5;
const mdbMapFull = -30792;
/** A short write with less than this free on the file system is a full disk, not a broken one. */
const diskNearlyFullBytes = 4 * 1024 * 1024;

interface CodedError {
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly commitError?: unknown;
}

function asCoded(err: unknown): CodedError {
  return typeof err === 'object' && err !== null ? (err as CodedError) : {};
}

/** The error behind lmdb-js's "Commit failed" wrapper, or the error itself. */
export async function unwrapCommitError(err: unknown): Promise<unknown> {
  const inner = asCoded(err).commitError;
  if (!inner || typeof (inner as PromiseLike<unknown>).then !== 'function') return err;
  try {
    await inner;
    return err;
  } catch (cause) {
    return cause;
  }
}

export function freeDiskBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

export function isDiskFull(err: unknown, dir: string): boolean {
  const { code, errno } = asCoded(err);
  if (code === 'ENOSPC' || code === enospc || errno === -enospc || code === mdbMapFull) return true;
  if (code === eio || code === 'EIO') {
    try {
      return freeDiskBytes(dir) < diskNearlyFullBytes;
    } catch {
      return false;
    }
  }
  return false;
}

export function storeFull(message: string, details: Record<string, unknown>, cause?: unknown): TandemError {
  return new TandemError('TANDEM_E_STORE_FULL', message, { cause, details });
}

/** Maps a failed operation to TANDEM_E_STORE_FULL or TANDEM_E_STORE; TandemErrors pass through. */
export async function toStoreError(err: unknown, dir: string, what: string): Promise<TandemError> {
  if (err instanceof TandemError) return err;
  const cause = await unwrapCommitError(err);
  if (isDiskFull(cause, dir)) {
    return storeFull(`${what}: the disk under the store is full`, { dir, reason: 'disk' }, cause);
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return new TandemError('TANDEM_E_STORE', `${what} failed: ${message}`, { cause, details: { dir } });
}
