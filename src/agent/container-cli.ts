/**
 * Talking to a container engine through its CLI (`docker` or `podman`, which take the same
 * arguments for what Tandem uses), and finding out which one works on this host.
 */
import { execFile } from 'node:child_process';
import { limits } from '../limits.js';
import { type Clock, systemClock } from '../util/clock.js';

export interface CliResult {
  /** True when the command ran and exited 0. */
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** Why it failed, in a few words: "not found", "timed out after 10 s", the first error line. */
  readonly problem?: string;
}

export type CliExec = (bin: string, args: readonly string[], timeoutMs: number) => Promise<CliResult>;

/** The meaningful part of an engine's error output: its first non-empty line, without "Error:". */
export function firstErrorLine(stderr: string): string {
  const line = stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return (line ?? '').replace(/^(error|ERROR|Error):\s*/, '');
}

/** Runs `bin args` with a timeout (SIGKILL on expiry); never rejects. */
export const execCli: CliExec = (bin, args, timeoutMs) =>
  new Promise((resolve) => {
    execFile(
      bin,
      [...args],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err === null) return resolve({ ok: true, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        const problem =
          e.code === 'ENOENT'
            ? 'not found'
            : e.killed
              ? `did not answer within ${timeoutMs / 1000} s`
              : firstErrorLine(stderr) || `exited with code ${String(e.code)}`;
        resolve({ ok: false, stdout, stderr, problem });
      },
    );
  });

export type RuntimeProbe =
  | { readonly ok: true; readonly runtime: string }
  | {
      readonly ok: false;
      /** "no container runtime: docker: Cannot connect to ...; podman: not found". */
      readonly message: string;
      readonly tried: readonly { readonly runtime: string; readonly problem: string }[];
    };

export interface DetectorOptions {
  /** CLIs tried in order; the first whose `info` answers wins. */
  readonly candidates?: readonly string[];
  readonly timeoutMs?: number;
  readonly cacheMs?: number;
  readonly clock?: Clock;
  readonly exec?: CliExec;
}

/**
 * Finds a working container runtime with `{cli} info`, and remembers the answer (good or
 * bad) for limits.containerProbeCacheMs, so starting many modules probes once. Concurrent
 * callers share one probe.
 */
export class ContainerRuntimeDetector {
  readonly #candidates: readonly string[];
  readonly #timeoutMs: number;
  readonly #cacheMs: number;
  readonly #clock: Clock;
  readonly #exec: CliExec;
  #cached: { probe: Promise<RuntimeProbe>; atMs: number } | undefined;

  constructor(options: DetectorOptions = {}) {
    this.#candidates = options.candidates ?? ['docker', 'podman'];
    this.#timeoutMs = options.timeoutMs ?? limits.containerProbeTimeoutMs;
    this.#cacheMs = options.cacheMs ?? limits.containerProbeCacheMs;
    this.#clock = options.clock ?? systemClock;
    this.#exec = options.exec ?? execCli;
  }

  detect(): Promise<RuntimeProbe> {
    const now = this.#clock.nowMs();
    if (this.#cached === undefined || now - this.#cached.atMs >= this.#cacheMs) {
      this.#cached = { probe: this.#probe(), atMs: now };
    }
    return this.#cached.probe;
  }

  /** Forgets the cached answer (an engine was just started or stopped). */
  forget(): void {
    this.#cached = undefined;
  }

  async #probe(): Promise<RuntimeProbe> {
    const tried: { runtime: string; problem: string }[] = [];
    for (const runtime of this.#candidates) {
      // Plain `info`: its --format fields differ between docker and podman; both exit
      // non-zero when their engine cannot be reached.
      const r = await this.#exec(runtime, ['info'], this.#timeoutMs);
      if (r.ok) return { ok: true, runtime };
      tried.push({ runtime, problem: r.problem ?? 'failed' });
    }
    const message = `no container runtime: ${tried.map((t) => `${t.runtime}: ${t.problem}`).join('; ')}`;
    return { ok: false, message, tried };
  }
}

/** One detector for the whole agent, so its cache serves every docker module. */
export const sharedContainerDetector = new ContainerRuntimeDetector();
