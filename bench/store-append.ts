/**
 * Durable appends per second and append latency of the embedded store (LMDB, fsync on
 * every commit, group commit), side by side with a baseline of what the disk can do: a
 * plain append-only file with the same group commit (one writev + one fdatasync per batch).
 *
 *   node --import tsx bench/store-append.ts [--seconds 3] [--dir /path/on/the/disk]
 *
 * SQLite is not in the comparison: node:sqlite does not exist in Node 20 and better-sqlite3
 * is not a dependency (see docs/benchmarks.md).
 */

import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openEmbeddedStore } from '../src/store/embedded/index.js';

interface Appender {
  append(stream: string, data: Uint8Array): Promise<void>;
  /** Commits (fsync batches) so far. */
  commits(): number;
  close(): Promise<void>;
}

interface Row {
  backend: string;
  recordBytes: number;
  appenders: number;
  appendsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  appendsPerCommit: number;
}

/** The baseline: records framed `u32 length | data`, appended with writev, one fdatasync per batch. */
class FileGroupCommit implements Appender {
  readonly #fh: FileHandle;
  #queue: { frame: Buffer[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #running = false;
  #commits = 0;

  private constructor(fh: FileHandle) {
    this.#fh = fh;
  }

  static async open(file: string): Promise<FileGroupCommit> {
    return new FileGroupCommit(await open(file, 'a', 0o600));
  }

  append(_stream: string, data: Uint8Array): Promise<void> {
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(data.length, 0);
    return new Promise((resolve, reject) => {
      this.#queue.push({ frame: [length, Buffer.from(data)], resolve, reject });
      if (!this.#running) {
        this.#running = true;
        setImmediate(() => void this.#loop());
      }
    });
  }

  async #loop(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      try {
        await this.#fh.writev(batch.flatMap((q) => q.frame));
        await this.#fh.datasync();
        this.#commits++;
        for (const q of batch) q.resolve();
      } catch (err) {
        for (const q of batch) q.reject(err);
      }
    }
    this.#running = false;
  }

  commits(): number {
    return this.#commits;
  }

  close(): Promise<void> {
    return this.#fh.close();
  }
}

async function lmdbAppender(dir: string): Promise<Appender> {
  const store = await openEmbeddedStore({ dir });
  return {
    append: async (stream, data) => {
      await store.log.append([{ stream, data, expiresAtMs: 0 }]);
    },
    commits: () => store.stats().commits,
    close: () => store.close(),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `appenders` loops, each awaiting its append before the next, for `seconds`. */
async function measure(
  backend: string,
  a: Appender,
  recordBytes: number,
  appenders: number,
  seconds: number,
): Promise<Row> {
  const data = new Uint8Array(recordBytes).fill(0x5a);
  const latencies: number[] = [];
  const commitsBefore = a.commits();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const loop = async (id: number): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await a.append(`bench/${id % 8}`, data);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: appenders }, (_, i) => loop(i)));
  const elapsedSec = (performance.now() - start) / 1000;
  latencies.sort((x, y) => x - y);
  const commits = a.commits() - commitsBefore;
  return {
    backend,
    recordBytes,
    appenders,
    appendsPerSec: Math.round(latencies.length / elapsedSec),
    p50Ms: Number(percentile(latencies, 50).toFixed(3)),
    p99Ms: Number(percentile(latencies, 99).toFixed(3)),
    appendsPerCommit: Number((latencies.length / Math.max(1, commits)).toFixed(1)),
  };
}

async function runCell(
  root: string,
  backend: string,
  recordBytes: number,
  appenders: number,
  seconds: number,
): Promise<Row> {
  const dir = await mkdtemp(path.join(root, `${backend}-`));
  const a = backend === 'lmdb' ? await lmdbAppender(dir) : await FileGroupCommit.open(path.join(dir, 'log'));
  try {
    await measure(backend, a, recordBytes, appenders, Math.min(0.5, seconds)); // warm-up: file growth, JIT
    return await measure(backend, a, recordBytes, appenders, seconds);
  } finally {
    await a.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '3' }, dir: { type: 'string' } },
  });
  const seconds = Number(values.seconds);
  const root = await mkdtemp(path.join(values.dir ?? os.tmpdir(), 'tandem-bench-'));
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${os.type()} ${os.release()}, dir ${root}`);
  const rows: Row[] = [];
  try {
    for (const recordBytes of [100, 1024]) {
      for (const appenders of [1, 10, 100]) {
        for (const backend of ['lmdb', 'file+fdatasync']) {
          rows.push(await runCell(root, backend, recordBytes, appenders, seconds));
        }
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  console.table(rows);
}

await main();
