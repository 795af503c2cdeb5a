/**
 * Child processes, temp directories and ports for benchmarks, with cleanup that also runs
 * when a benchmark fails or is interrupted: every child started here is SIGKILLed and every
 * temp dir removed on process exit, and a watchdog ends a benchmark that runs too long.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** True when running from dist/ (compiled with tsc), false under tsx. */
export const compiled = here.split(path.sep).includes('dist');
export const repoRoot = path.resolve(here, compiled ? '../../..' : '../..');

/** Node arguments that run the module at `relative` (e.g. 'src/cli/run') the way this script runs. */
export function nodeArgs(relative: string, root = repoRoot): string[] {
  return compiled
    ? [path.join(root, 'dist', `${relative}.js`)]
    : ['--import', 'tsx', path.join(root, `${relative}.ts`)];
}

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function cleanupNow(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

process.on('exit', cleanupNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, cleaning up\n`);
    process.exit(130);
  });
}

/** Ends the process (and so its children, via the exit hook) if it is still running after `ms`. */
export function watchdog(ms: number, label: string): void {
  setTimeout(() => {
    process.stderr.write(`bench: ${label} still running after ${ms / 1000} s, giving up\n`);
    process.exit(1);
  }, ms).unref();
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Rejects after `ms` unless `work` settled; `what` may be a function, evaluated on timeout. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const label = (): string => (typeof what === 'string' ? what : what());
    timer = setTimeout(() => reject(new Error(`${label()}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port that was free a moment ago (for servers that cannot be told to pick one). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (port === 0) throw new Error('no free port');
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(20);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export class Child {
  readonly name: string;
  readonly process: ChildProcess;
  #stdout = '';
  #stderr = '';

  constructor(name: string, command: string, args: readonly string[]) {
    this.name = name;
    // stdin is a pipe so a child that watches it (aedes-server) ends when this process dies.
    this.process = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(this.process);
    this.process.once('exit', () => children.delete(this.process));
    this.process.stdout!.on('data', (d: Buffer) => {
      this.#stdout = (this.#stdout + d.toString()).slice(-20_000);
    });
    this.process.stderr!.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-20_000);
    });
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves with stdout so far once it contains `text`; rejects on exit or timeout. */
  waitForStdout(text: string, timeoutMs: number): Promise<string> {
    return withTimeout(
      new Promise<string>((resolve, reject) => {
        const check = (): void => {
          if (this.#stdout.includes(text)) {
            this.process.stdout!.off('data', check);
            resolve(this.#stdout);
          }
        };
        this.process.stdout!.on('data', check);
        this.process.once('exit', (code) =>
          reject(new Error(`${this.name} exited (${code}) before printing '${text}': ${this.#stderr}`)),
        );
        check();
      }),
      timeoutMs,
      `${this.name} start`,
    );
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    const exited = once(this.process, 'exit');
    this.process.kill('SIGTERM');
    try {
      await withTimeout(exited, graceMs, `${this.name} stop`);
    } catch {
      this.process.kill('SIGKILL');
      await withTimeout(exited, graceMs, `${this.name} kill`);
    }
  }
}
