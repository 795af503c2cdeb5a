/**
 * One process the lab started inside a network namespace, and the small shell helpers the lab
 * is built from. `ip netns exec` enters the namespace and then execs the command (checked: the
 * child's pid is the command's own pid), so signalling the handle signals the real process.
 */
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export const ipPath = 'ip';
/** Bytes of each output stream kept in memory for failure messages. */
const tailBytesMax = 64 * 1024;
/** How long `stop` waits after SIGTERM before SIGKILL: far above a clean shutdown. */
const stopGraceMs = 5_000;

export interface SpawnOptions {
  /** Added to (and overriding) the test process's environment. */
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Both output streams are appended here as well, for looking at a failed run afterwards. */
  readonly logFile?: string;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (never throws for a non-zero exit; see `must`). */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr: stderr || (error && code === null ? String(error) : '') });
      },
    );
    // Closed even without input: a command that reads stdin must see its end, not wait.
    child.stdin?.end(options.input);
  });
}

/** Runs a command and returns its stdout; throws with its stderr when it fails. */
export async function must(command: string, args: readonly string[], input?: string): Promise<string> {
  const r = await runCommand(command, args, input === undefined ? {} : { input });
  if (r.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** Runs many `ip` commands in one process (`ip -batch`); stops at and reports the first failure. */
export function ipBatch(lines: readonly string[]): Promise<string> {
  return must(ipPath, ['-batch', '-'], `${lines.join('\n')}\n`);
}

function childEnv(extra: SpawnOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // node:test marks its own children with this; a node script we start is not a test file.
  delete env.NODE_TEST_CONTEXT;
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export class LabProcess {
  readonly ns: string;
  readonly command: string;
  readonly pid: number;
  /**
   * Resolves once the process has exited and its output has closed, so every line has been seen.
   * A grandchild holding the output open delays it; killNode and dispose kill those too.
   */
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;
  #stdout = '';
  #stderr = '';
  #partial = '';
  readonly #lineListeners = new Set<(line: string) => void>();
  #errPartial = '';
  readonly #errLineListeners = new Set<(line: string) => void>();
  #log: WriteStream | undefined;

  constructor(ns: string, command: string, args: readonly string[], options: SpawnOptions = {}) {
    this.ns = ns;
    this.command = [command, ...args].join(' ');
    const child = spawn(ipPath, ['netns', 'exec', ns, command, ...args], {
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    // A failed start (no `ip`) is reported by the throw below; the event must not crash the test.
    child.on('error', (e) => {
      this.#stderr += String(e);
    });
    if (child.pid === undefined) throw new Error(`could not start ${this.command} in ${ns}`);
    this.pid = child.pid;
    if (options.logFile) this.#log = createWriteStream(options.logFile, { flags: 'a' });
    child.stdout!.on('data', (d: Buffer) => this.#onStdout(d));
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      this.#stderr = (this.#stderr + text).slice(-tailBytesMax);
      this.#log?.write(d);
      const lines = (this.#errPartial + text).split('\n');
      this.#errPartial = lines.pop() ?? '';
      for (const line of lines) for (const l of this.#errLineListeners) l(line);
    });
    // 'close', not 'exit': by then every line of output has been delivered to the listeners.
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.#exit = { code, signal };
        this.#log?.end();
        resolve(this.#exit);
      });
    });
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  get exit(): Exit | undefined {
    return this.#exit;
  }

  /** The last 64 KiB of each stream. */
  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Calls `listener` with every complete stdout line from now on; returns the unsubscribe. */
  onLine(listener: (line: string) => void): () => void {
    this.#lineListeners.add(listener);
    return () => this.#lineListeners.delete(listener);
  }

  /** The same for stderr lines (where `tandem up` logs when not on a terminal). */
  onErrLine(listener: (line: string) => void): () => void {
    this.#errLineListeners.add(listener);
    return () => this.#errLineListeners.delete(listener);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // Already gone between the check and the signal.
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited after the grace period; resolves with the exit. */
  async stop(graceMs = stopGraceMs): Promise<Exit> {
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  #onStdout(d: Buffer): void {
    const text = d.toString();
    this.#stdout = (this.#stdout + text).slice(-tailBytesMax);
    this.#log?.write(d);
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) for (const l of this.#lineListeners) l(line);
  }
}
