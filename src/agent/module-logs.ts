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
 */
import { constants, ftruncateSync, readSync, writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
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

async function readEnd(
  file: string,
  bytesMax: number,
): Promise<{ data: Buffer; whole: boolean } | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - bytesMax);
    const data = Buffer.alloc(size - start);
    let done = 0;
    while (done < data.length) {
      const { bytesRead } = await fh.read(data, done, data.length - done, start + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return { data: data.subarray(0, done), whole: start === 0 };
  } finally {
    await fh.close();
  }
}

function newlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * The last `lines` lines of the module's log, oldest first, without their newlines; reaches
 * into `.1`, `.2`... when the live file has fewer. A last line without a newline is included.
 * Each file contributes at most limits.logReadFileBytesMax bytes from its end.
 */
export async function readLogTail(
  logDir: string,
  module: string,
  lines: number,
  bounds: Pick<LogBounds, 'filesKept'> = {},
): Promise<string[]> {
  if (lines <= 0) return [];
  const filesKept = bounds.filesKept ?? limits.moduleLogFilesKept;
  const parts: Buffer[] = [];
  let count = 0;
  for (let n = 0; n <= filesKept; n++) {
    const file = n === 0 ? moduleLogPath(logDir, module) : rotatedLogPath(logDir, module, n);
    const part = await readEnd(file, limits.logReadFileBytesMax);
    if (part === undefined) continue;
    parts.unshift(part.data);
    count += newlines(part.data);
    // A cut file starts mid-line (maybe mid-character): older files cannot join up with it.
    if (!part.whole) {
      parts[0] = part.data.subarray(part.data.indexOf(10) + 1);
      break;
    }
    if (count > lines) break;
  }
  const text = Buffer.concat(parts).toString('utf8');
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all.slice(-lines);
}

export interface FollowOptions {
  /** Poll period (limits.logFollowPollMs). */
  readonly intervalMs?: number;
  readonly scheduler?: Scheduler;
  /** Start at the beginning of the live file instead of its current end. */
  readonly fromStart?: boolean;
  readonly onError?: (err: unknown) => void;
}

interface FileFacts {
  readonly size: number;
  readonly id: string;
}

async function facts(file: string): Promise<FileFacts | undefined> {
  try {
    const st = await stat(file);
    // .1 is a fresh copy at each rotation; a reused inode number still differs in mtime or size.
    return { size: st.size, id: `${st.ino}:${st.mtimeMs}:${st.size}` };
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/**
 * Calls `onChunk` with text appended to the module's log, polling its size. A rotation
 * (seen as a new `.1`, or the live file shorter than what was read) is followed: the rest of
 * the old content is read from `.1`, then the live file from its start. Two rotations
 * between polls would lose the first one's tail. Returns a function that stops following.
 */
export function followLog(
  logDir: string,
  module: string,
  onChunk: (chunk: string) => void,
  options: FollowOptions = {},
): () => void {
  const scheduler = options.scheduler ?? realScheduler;
  const intervalMs = options.intervalMs ?? limits.logFollowPollMs;
  const live = moduleLogPath(logDir, module);
  const first = rotatedLogPath(logDir, module, 1);
  const decoder = new StringDecoder('utf8');
  let stopped = false;
  let cancel: Cancel | undefined;
  let offset = -1;
  let firstId: string | undefined;
  const emit = (buf: Buffer): void => {
    const text = decoder.write(buf);
    if (!stopped && text.length > 0) onChunk(text);
  };
  const poll = async (): Promise<void> => {
    const [now, rotated] = [await facts(live), await facts(first)];
    if (offset < 0) {
      // First poll: the starting point.
      offset = options.fromStart ? 0 : (now?.size ?? 0);
      firstId = rotated?.id;
    }
    if (rotated?.id !== firstId || (now !== undefined && now.size < offset)) {
      if (rotated !== undefined && rotated.id !== firstId && rotated.size > offset) {
        await copyRange(first, offset, rotated.size, emit);
      }
      firstId = rotated?.id;
      offset = 0;
    }
    if (now !== undefined && now.size > offset) offset = await copyRange(live, offset, now.size, emit);
  };
  const tick = (): void => {
    poll()
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        if (!stopped) cancel = scheduler.after(intervalMs, tick);
      });
  };
  tick();
  return () => {
    stopped = true;
    cancel?.();
  };
}

/** Reads [start, end) of `file` in chunks into `emit`; returns where it stopped. */
async function copyRange(
  file: string,
  start: number,
  end: number,
  emit: (b: Buffer) => void,
): Promise<number> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if (isMissing(err)) return start;
    throw err;
  }
  try {
    let offset = start;
    const buf = Buffer.alloc(COPY_CHUNK_BYTES);
    while (offset < end) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - offset), offset);
      if (bytesRead === 0) break;
      emit(Buffer.from(buf.subarray(0, bytesRead)));
      offset += bytesRead;
    }
    return offset;
  } finally {
    await fh.close();
  }
}

/** Bytes of the live log and its rotations together (what the bound is about). */
export async function logDiskBytes(logDir: string, module: string, bounds: LogBounds = {}): Promise<number> {
  const filesKept = bounds.filesKept ?? limits.moduleLogFilesKept;
  let total = 0;
  for (let n = 0; n <= filesKept; n++) {
    const file = n === 0 ? moduleLogPath(logDir, module) : rotatedLogPath(logDir, module, n);
    total += (await facts(file))?.size ?? 0;
  }
  return total;
}
