/**
 * A module's health check (Tandem's extension, shaped like Docker's HEALTHCHECK): a command
 * run every `intervalSecs`; a non-zero exit, a failure to start, or no answer within
 * `timeoutSecs` (the command's process group is then killed) is a failed check.
 * `retries` failures in a row make the module unhealthy; one success makes it healthy again.
 *
 * Timing: the first check runs one interval after the monitor starts (as Docker's, without a
 * start period), and each next one an interval after the previous one ended, so checks never
 * overlap. A module starts out healthy.
 */
import { spawn } from 'node:child_process';
import type { HealthCheck } from '../core/manifest/deployment.js';
import { limits } from '../limits.js';
import { signalGroup } from './proc-group.js';
import { type Cancel, realScheduler, type Scheduler } from './supervisor-timers.js';

export interface CheckResult {
  readonly ok: boolean;
  /** In words, for `tandem status`: "exited with code 1: <output>", "timed out after 5 s". */
  readonly detail: string;
}

export interface CheckContext {
  readonly cwd?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly scheduler: Scheduler;
  /** Aborted when the monitor stops: the check is killed and its result ignored. */
  readonly signal: AbortSignal;
}

/** Runs one check; never rejects. */
export type CheckRunner = (check: HealthCheck, context: CheckContext) => Promise<CheckResult>;

function clip(output: Buffer[]): string {
  const text = Buffer.concat(output).subarray(0, limits.healthCheckOutputBytesMax).toString('utf8').trim();
  return text.length === 0 ? '' : `: ${text}`;
}

/** The real check: a detached child (own group, so a timeout kills what it spawned too). */
export const runCheckCommand: CheckRunner = (check, context) =>
  new Promise((resolve) => {
    const output: Buffer[] = [];
    let kept = 0;
    let settled = false;
    let cancelTimeout: Cancel = () => {};
    const settle = (result: CheckResult): void => {
      if (settled) return;
      settled = true;
      cancelTimeout();
      context.signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const child = spawn(check.command, [...check.args], {
      cwd: context.cwd,
      env: { ...context.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => {
      // Only the first bytes are kept: a chatty check must not grow the agent's memory.
      if (kept < limits.healthCheckOutputBytesMax) output.push(chunk);
      kept += chunk.length;
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const killGroup = (): void => {
      if (child.pid !== undefined && child.exitCode === null) signalGroup(child.pid, 'SIGKILL');
    };
    const onAbort = (): void => {
      killGroup();
      settle({ ok: false, detail: 'health check cancelled' });
    };
    context.signal.addEventListener('abort', onAbort);
    cancelTimeout = context.scheduler.after(context.timeoutMs, () => {
      killGroup();
      settle({ ok: false, detail: `health check timed out after ${context.timeoutMs / 1000} s` });
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      const what = err.code === 'ENOENT' ? `command not found: ${check.command}` : err.message;
      settle({ ok: false, detail: `health check could not run: ${what}` });
    });
    // 'exit', not 'close': a background process holding the pipes must not stall the check.
    child.on('exit', (code, signal) => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (code === 0) return settle({ ok: true, detail: 'health check passed' });
      const how = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
      settle({ ok: false, detail: `health check ${how}${clip(output)}` });
    });
  });

export interface HealthMonitorOptions {
  readonly check: HealthCheck;
  /** The module's working directory and environment: the check runs as the module would. */
  readonly cwd?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly scheduler?: Scheduler;
  /** Replaces the real command runner (unit tests). */
  readonly run?: CheckRunner;
  /** Called once when `retries` checks in a row have failed, with the last failure. */
  readonly onUnhealthy: (detail: string) => void;
  /** Called once when a check passes after the module was unhealthy. */
  readonly onHealthy: () => void;
}

export interface HealthMonitor {
  readonly healthy: boolean;
  readonly consecutiveFailures: number;
  /** Stops checking; a check in flight is killed and its result ignored. */
  stop(): void;
}

export function startHealthMonitor(options: HealthMonitorOptions): HealthMonitor {
  const scheduler = options.scheduler ?? realScheduler;
  const run = options.run ?? runCheckCommand;
  const { check } = options;
  const retries = Math.max(1, check.retries);
  const abort = new AbortController();
  let healthy = true;
  let failures = 0;
  let cancel: Cancel = () => {};
  const context: CheckContext = {
    cwd: options.cwd,
    env: options.env,
    timeoutMs: check.timeoutSecs * 1000,
    scheduler,
    signal: abort.signal,
  };
  const record = (result: CheckResult): void => {
    if (result.ok) {
      failures = 0;
      if (!healthy) {
        healthy = true;
        options.onHealthy();
      }
      return;
    }
    failures++;
    if (healthy && failures >= retries) {
      healthy = false;
      options.onUnhealthy(result.detail);
    }
  };
  const tick = (): void => {
    run(check, context)
      .catch((err: unknown): CheckResult => ({ ok: false, detail: `health check failed: ${String(err)}` }))
      .then((result) => {
        if (abort.signal.aborted) return;
        record(result);
        if (!abort.signal.aborted) cancel = scheduler.after(check.intervalSecs * 1000, tick);
      });
  };
  cancel = scheduler.after(check.intervalSecs * 1000, tick);
  return {
    get healthy() {
      return healthy;
    },
    get consecutiveFailures() {
      return failures;
    },
    stop() {
      cancel();
      abort.abort();
    },
  };
}
