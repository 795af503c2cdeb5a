/**
 * Reading module logs the agent writes: `{module}.log` and its rotations `{module}.log.1`
 * (newest) to `.N`. A tail reads across rotations; a follow polls the live file's size and
 * inode, so a rotation (rename, then a new file) or a truncation in place loses nothing
 * that was written before it and repeats nothing.
 */
import { type FileHandle, open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { limits } from '../limits.js';
import { moduleLogPath, rotatedLogPath } from './module-logs.js';

/** Where a follow continues: the live file (by inode, 0 if none), how far it was read, which `.1` was seen. */
export interface LogPosition {
  readonly ino: number;
  readonly offset: number;
  readonly rotatedId?: string | undefined;
}

/** Live file first, then rotations newest to oldest. */
export function logFiles(logDir: string, module: string): string[] {
  const out = [moduleLogPath(logDir, module)];
  for (let i = 1; i <= limits.moduleLogFilesKept; i++) out.push(rotatedLogPath(logDir, module, i));
  return out;
}

async function openIfExists(file: string): Promise<FileHandle | undefined> {
  try {
    return await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readRange(fh: FileHandle, start: number, end: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.max(0, end - start));
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, start + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

/** The end of one file, at most limits.logReadFileBytesMax; `cut` when its start was left out. */
async function readFileEnd(
  file: string,
): Promise<{ data: Buffer; cut: boolean; ino: number; size: number } | undefined> {
  const fh = await openIfExists(file);
  if (!fh) return undefined;
  try {
    const st = await fh.stat();
    const start = Math.max(0, st.size - limits.logReadFileBytesMax);
    return { data: await readRange(fh, start, st.size), cut: start > 0, ino: st.ino, size: st.size };
  } finally {
    await fh.close();
  }
}

function countNewlines(chunks: readonly Buffer[]): number {
  let n = 0;
  for (const c of chunks) for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) n++;
  return n;
}

/** Keeps the last `tail` lines of `text`; a final line without a newline counts and stays so. */
export function lastLines(text: string, tail: number | undefined): string {
  if (tail === undefined) return text;
  if (tail === 0 || text === '') return '';
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  return lines.slice(-tail).join('\n') + (endsWithNewline ? '\n' : '');
}

/**
 * The last `tail` lines (all when undefined) across the live file and its rotations, and the
 * position a follow continues from.
 */
export async function readLogTail(
  logDir: string,
  module: string,
  tail: number | undefined,
): Promise<{ text: string; position: LogPosition }> {
  const chunks: Buffer[] = [];
  const files = logFiles(logDir, module);
  // `.1` as it was before the live file was read: a rotation after that is then seen as one.
  const rotatedId = (await facts(files[1]!))?.id;
  let position: LogPosition = { ino: 0, offset: 0, rotatedId };
  let cut = false;
  for (const [i, file] of files.entries()) {
    const part = await readFileEnd(file);
    if (!part) continue;
    if (i === 0) position = { ino: part.ino, offset: part.size, rotatedId };
    chunks.unshift(part.data);
    cut = part.cut;
    // One more line than asked for: the oldest one read may be the rest of a cut line.
    if (cut || (tail !== undefined && countNewlines(chunks) > tail)) break;
  }
  let text = Buffer.concat(chunks).toString('utf8');
  // A file read from its middle starts inside a line (maybe inside a character): drop that part.
  if (cut) text = text.slice(text.indexOf('\n') + 1);
  return { text: lastLines(text, tail), position };
}

/** Writes the bytes of `file` from `start` to its current end; returns the end. */
async function copyFrom(file: string, start: number, write: (b: Buffer) => Promise<void>): Promise<number> {
  const fh = await openIfExists(file);
  if (!fh) return start;
  try {
    const { size } = await fh.stat();
    let offset = start;
    while (offset < size) {
      const end = Math.min(size, offset + limits.logReadFileBytesMax);
      await write(await readRange(fh, offset, end));
      offset = end;
    }
    return offset;
  } finally {
    await fh.close();
  }
}

interface FileFacts {
  readonly ino: number;
  readonly size: number;
  /** Tells one `.1` from the next: a fresh copy may reuse an inode number, not also its mtime and size. */
  readonly id: string;
}

async function facts(file: string): Promise<FileFacts | undefined> {
  try {
    const st = await stat(file);
    return { ino: st.ino, size: st.size, id: `${st.ino}:${st.mtimeMs}:${st.size}` };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Bytes compared to tell a fresh `.1` from one still being copied: enough to hold a timestamp. */
const HEAD_BYTES = 256;

async function head(file: string, n: number): Promise<Buffer | undefined> {
  const fh = await openIfExists(file);
  if (!fh) return undefined;
  try {
    return await readRange(fh, 0, n);
  } finally {
    await fh.close();
  }
}

/**
 * Whether the live file was rotated since `pos`. The agent rotates by copy-then-truncate (the
 * child keeps its O_APPEND descriptor): usually the live file is then shorter than what was
 * read. If it grew back within one poll, `.1` is new and the live file no longer starts as
 * `.1` does; a `.1` still being copied is a prefix of the live file, which is only truncated
 * after the copy. A rename rotation shows as a new inode.
 */
async function wasRotated(
  files: readonly string[],
  live: FileFacts,
  rotated: FileFacts | undefined,
  pos: LogPosition,
): Promise<boolean> {
  if (live.ino !== pos.ino || live.size < pos.offset) return true;
  if (rotated === undefined || rotated.id === pos.rotatedId || rotated.size < pos.offset) return false;
  if (live.size < rotated.size) return true;
  const n = Math.min(HEAD_BYTES, rotated.size);
  const [a, b] = [await head(files[0]!, n), await head(files[1]!, n)];
  return a !== undefined && b !== undefined && !a.equals(b);
}

/**
 * One poll: writes what was appended since `pos`, across a rotation: the rest of what was
 * being read is then in `.1`. Two rotations between two polls lose the first one's end (at
 * moduleLogBytesMax per file, megabytes within limits.logFollowPollMs); so does a regrowth
 * that starts with the very bytes the old file started with (a module printing the same
 * line over and over, faster than one poll).
 */
export async function followStep(
  files: readonly string[],
  pos: LogPosition,
  write: (b: Buffer) => Promise<void>,
): Promise<LogPosition> {
  const [live, rotated] = [await facts(files[0]!), await facts(files[1]!)];
  if (!live) return pos; // between a rename and the new file: look again next time
  let { offset, rotatedId } = pos;
  if (await wasRotated(files, live, rotated, pos)) {
    const fresh = rotated !== undefined && rotated.id !== pos.rotatedId;
    if (fresh && pos.ino !== 0 && rotated.size > offset) await copyFrom(files[1]!, offset, write);
    offset = 0;
    rotatedId = rotated?.id;
  }
  if (live.size > offset) offset = await copyFrom(files[0]!, offset, write);
  return { ino: live.ino, offset, rotatedId };
}

/** Writes what is appended to the module's log until `signal` aborts. */
export async function followLog(
  logDir: string,
  module: string,
  from: LogPosition,
  write: (chunk: Buffer) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const files = logFiles(logDir, module);
  let pos = from;
  while (!signal.aborted) {
    pos = await followStep(files, pos, write);
    try {
      await sleep(limits.logFollowPollMs, undefined, { signal });
    } catch {
      return; // aborted
    }
  }
}
