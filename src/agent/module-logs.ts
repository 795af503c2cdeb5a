/**
 * Bounded, rotated per-module logs. Layout (others read it): `{logDir}/{module}.log` is the
 * live file; `{module}.log.1` (newest) to `.{filesKept}` are rotations.
 *
 * The module's stdout and stderr are the live file itself: the agent opens it with O_APPEND
 * and passes the descriptor as the child's stdio, so a module keeps logging while the agent
 * is down (SIGKILLed, restarting). Rotation is therefore copy-then-truncate (a rename would
 * leave the child writing into `.1`): the agent copies the live file to `.1` and truncates
 * it; with O_APPEND the child's next write lands at the new end.
 *
 * What copy-then-truncate can lose: bytes written after the copy read the end of the file
 * and before the truncate. The copy is async; then a synchronous catch-up copies what was
 * appended meanwhile and truncates right after, so the window is one read-to-EOF plus one
 * ftruncate (microseconds), not the whole copy.
 *
 * Disk use per module is bounded by (filesKept + 1) × bytesMax plus what the module writes
 * between two size checks (checks run every limits.moduleLogRotateCheckMs and on demand).
 * Reading (tail and follow) is in log-reader.ts.
 */
import { constants, ftruncateSync, readSync, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { assert } from '../errors.js';
import { limits } from '../limits.js';
import { type Cancel, realScheduler, type Scheduler } from './supervisor-timers.js';

export interface LogBounds {
  /** Size past which the live file is rotated (limits.moduleLogBytesMax). */
  readonly bytesMax?: number;
  /** Rotated files kept (limits.moduleLogFilesKept). */
  readonly filesKept?: number;
}

const COPY_CHUNK_BYTES = 64 * 1024;

export function moduleLogPath(logDir: string, module: string): string {
  // The name becomes a file name: a slash or dot-name would escape logDir (the agent validates names).
  assert(!module.includes('/') && module !== '.' && module !== '..' && module !== '', `log name ${module}`);
  return path.join(logDir, `${module}.log`);
}

/** `{module}.log.{n}`, n = 1 is the newest rotation. */
export function rotatedLogPath(logDir: string, module: string, n: number): string {
  return `${moduleLogPath(logDir, module)}.${n}`;
}

/**
 * Opens the live log for the child's stdout/stderr: write-only, O_APPEND (so writes land at
 * the end even after a truncate), created 0640. The caller passes `fd` to spawn, then closes
 * its own handle (the child holds a duplicate).
 */
export async function openModuleLog(logDir: string, module: string): Promise<FileHandle> {
  await mkdir(logDir, { recursive: true, mode: 0o750 });
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
  return open(moduleLogPath(logDir, module), flags, 0o640);
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

// One rotation at a time per live file: the timer and an on-demand check may meet.
const rotating = new Map<string, Promise<boolean>>();

/** Rotates the live log when it is over `bytesMax`; true when it rotated. */
export function rotateIfNeeded(logDir: string, module: string, bounds: LogBounds = {}): Promise<boolean> {
  const live = moduleLogPath(logDir, module);
  const previous = rotating.get(live) ?? Promise.resolve(false);
  const next = previous.then(
    () => rotateOnce(logDir, module, bounds),
    () => rotateOnce(logDir, module, bounds),
  );
  rotating.set(live, next);
  const forget = (): void => {
    if (rotating.get(live) === next) rotating.delete(live);
  };
  next.then(forget, forget);
  return next;
}

async function rotateOnce(logDir: string, module: string, bounds: LogBounds): Promise<boolean> {
  const bytesMax = bounds.bytesMax ?? limits.moduleLogBytesMax;
  const filesKept = bounds.filesKept ?? limits.moduleLogFilesKept;
  const live = moduleLogPath(logDir, module);
  let size: number;
  try {
    size = (await stat(live)).size;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
  if (size <= bytesMax) return false;
  for (let n = filesKept - 1; n >= 1; n--) {
    try {
      await rename(rotatedLogPath(logDir, module, n), rotatedLogPath(logDir, module, n + 1));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
  await copyThenTruncate(live, filesKept > 0 ? rotatedLogPath(logDir, module, 1) : undefined, bytesMax);
  return true;
}

/** Copies `live` to `target` (replacing it), then truncates `live`; no target: truncate only. */
async function copyThenTruncate(
  live: string,
  target: string | undefined,
  catchUpBytesMax: number,
): Promise<void> {
  const src = await open(live, 'r+');
  const dst = target === undefined ? undefined : await open(target, 'w', 0o640);
  try {
    let offset = 0;
    const buf = Buffer.alloc(COPY_CHUNK_BYTES);
    if (dst !== undefined) {
      for (;;) {
        const { bytesRead } = await src.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        await dst.write(buf, 0, bytesRead);
        offset += bytesRead;
      }
    }
    // Synchronous from here: no event-loop turn between reaching the end and truncating.
    catchUpAndTruncate(src.fd, dst?.fd, offset, buf, catchUpBytesMax);
  } finally {
    await src.close();
    await dst?.close();
  }
}

function catchUpAndTruncate(
  src: number,
  dst: number | undefined,
  from: number,
  buf: Buffer,
  bytesMax: number,
): void {
  let offset = from;
  // Bounded: a module writing faster than we copy would otherwise keep us here for ever.
  while (dst !== undefined && offset - from < bytesMax) {
    const n = readSync(src, buf, 0, buf.length, offset);
    if (n === 0) break;
    writeSync(dst, buf, 0, n);
    offset += n;
  }
  ftruncateSync(src, 0);
}

export interface LogRotation {
  /** Checks the size now (and rotates when over); serialised with the timer's checks. */
  check(): Promise<boolean>;
  stop(): void;
}

/**
 * Checks the module's live log every `intervalMs` (limits.moduleLogRotateCheckMs) and rotates
 * it when over the bound. Errors are passed to `onError` (default: ignored) and checking goes on.
 */
export function startLogRotation(
  logDir: string,
  module: string,
  options: LogBounds & { intervalMs?: number; scheduler?: Scheduler; onError?: (err: unknown) => void } = {},
): LogRotation {
  const scheduler = options.scheduler ?? realScheduler;
  const intervalMs = options.intervalMs ?? limits.moduleLogRotateCheckMs;
  let cancel: Cancel | undefined;
  let stopped = false;
  const check = (): Promise<boolean> => rotateIfNeeded(logDir, module, options);
  const tick = (): void => {
    check()
      .catch((err: unknown) => {
        options.onError?.(err);
        return false;
      })
      .finally(() => {
        if (!stopped) cancel = scheduler.after(intervalMs, tick);
      });
  };
  cancel = scheduler.after(intervalMs, tick);
  return {
    check,
    stop() {
      stopped = true;
      cancel?.();
    },
  };
}

/** Bytes of the live log and its rotations together (what the bound is about). */
export async function logDiskBytes(logDir: string, module: string, bounds: LogBounds = {}): Promise<number> {
  const filesKept = bounds.filesKept ?? limits.moduleLogFilesKept;
  let total = 0;
  for (let n = 0; n <= filesKept; n++) {
    const file = n === 0 ? moduleLogPath(logDir, module) : rotatedLogPath(logDir, module, n);
    total += await stat(file).then(
      (st) => st.size,
      (err: unknown) => {
        if (isMissing(err)) return 0;
        throw err;
      },
    );
  }
  return total;
}
