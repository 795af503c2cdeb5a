/**
 * Runs `process` modules: a detached child (its own process group, so a Ctrl-C at the
 * agent's terminal does not reach modules and stop can signal everything the module
 * spawned) whose stdout and stderr are its log file, written directly by the child.
 *
 * Adoption: every instance has a ProcessRecord (pid + /proc start time) the agent persists.
 * After an agent restart `adopt(record)` re-attaches when the same process still runs. An
 * adopted process is not our child: its exit is seen by polling /proc and its exit status
 * cannot be known, which ExitInfo says (code and signal undefined, reason in words).
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { describeExit } from '../core/agent/restart-policy.js';
import type { ProcessSettings } from '../core/manifest/deployment.js';
import { assert, TandemError } from '../errors.js';
import { limits } from '../limits.js';
import { type Clock, systemClock } from '../util/clock.js';
import { openModuleLog } from './module-logs.js';
import { endGroup, isSameLiveProcess, readProcStatSync, signalGroup } from './proc-group.js';
import { type Cancel, realScheduler, type Scheduler } from './supervisor-timers.js';
import type {
  ExitInfo,
  InstanceRecord,
  ModuleInstance,
  ModuleLaunch,
  ModuleRunner,
  ProcessRecord,
} from './supervisor-types.js';

export interface ProcessRunnerOptions {
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
  /** Default time between SIGTERM and SIGKILL (limits.moduleStopGraceMs). */
  readonly stopGraceMs?: number;
  /** How often an adopted process is checked (limits.adoptedModulePollMs). */
  readonly adoptedPollMs?: number;
}

interface Deps {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly stopGraceMs: number;
  readonly adoptedPollMs: number;
}

function deps(options: ProcessRunnerOptions): Deps {
  return {
    clock: options.clock ?? systemClock,
    scheduler: options.scheduler ?? realScheduler,
    stopGraceMs: options.stopGraceMs ?? limits.moduleStopGraceMs,
    adoptedPollMs: options.adoptedPollMs ?? limits.adoptedModulePollMs,
  };
}

/** What an adopted process's end is reported as: we were not its parent, so no status. */
export const ADOPTED_EXIT_REASON =
  'exited while not a child of this agent (adopted after a restart): exit status unknown';

/** Polling period of an adopted process while it is being stopped, so stop() returns promptly. */
const STOPPING_POLL_MS = 50;

/** The shared part of a spawned and an adopted process instance. */
class ProcessInstance implements ModuleInstance {
  readonly record: ProcessRecord;
  readonly adopted: boolean;
  readonly exited: Promise<ExitInfo>;
  readonly #deps: Deps;
  #resolve!: (exit: ExitInfo) => void;
  #done = false;
  #leaderGone = false;
  #killAtMs: number | undefined;
  #termSent = false;
  #cancelKill: Cancel | undefined;
  #cancelPoll: Cancel | undefined;
  #onDetach: (() => void) | undefined;
  #watchGeneration = 0;
  #detached = false;

  constructor(record: ProcessRecord, adopted: boolean, d: Deps) {
    this.record = record;
    this.adopted = adopted;
    this.#deps = d;
    this.exited = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get pid(): number {
    return this.record.pid;
  }

  /** The main process is gone; clears the rest of its group, then reports the exit. */
  leaderExited(code: number | undefined, signal: string | undefined, reason: string): void {
    if (this.#leaderGone) return;
    this.#leaderGone = true;
    this.#cancelPoll?.();
    const atMs = this.#deps.clock.nowMs();
    const killAtMs = this.#killAtMs ?? atMs + this.#deps.stopGraceMs;
    const timing = { clock: this.#deps.clock, scheduler: this.#deps.scheduler };
    const finish = (): void => {
      this.#cancelKill?.();
      this.#done = true;
      this.#resolve({ code, signal, atMs, reason });
    };
    // Orphaned grandchildren would otherwise outlive the module and run twice after a restart.
    endGroup(this.pid, killAtMs, timing, { termSent: this.#termSent }).then(finish, finish);
  }

  stop(graceMs = this.#deps.stopGraceMs): Promise<ExitInfo> {
    if (this.#done || this.#killAtMs !== undefined) return this.exited;
    this.#killAtMs = this.#deps.clock.nowMs() + graceMs;
    // Leader gone: leaderExited is already ending what is left of the group.
    if (this.#leaderGone) return this.exited;
    if (!this.adopted) {
      this.#terminate(graceMs);
      return this.exited;
    }
    // Not our child: make sure the pid still is the module before signalling its group.
    isSameLiveProcess(this.pid, this.record.startTimeTicks).then(
      (alive) => {
        if (!alive) return this.leaderExited(undefined, undefined, ADOPTED_EXIT_REASON);
        this.#terminate(graceMs);
        // Its exit is only seen by polling: look more often while stopping.
        this.watch(Math.min(STOPPING_POLL_MS, this.#deps.adoptedPollMs));
      },
      () => this.#terminate(graceMs),
    );
    return this.exited;
  }

  #terminate(graceMs: number): void {
    this.#termSent = true;
    signalGroup(this.pid, 'SIGTERM');
    this.#cancelKill = this.#deps.scheduler.after(graceMs, () => {
      if (!this.#done) signalGroup(this.pid, 'SIGKILL');
    });
  }

  /** Polls /proc for the (adopted) leader's end, every `pollMs`; replaces an earlier watch. */
  watch(pollMs: number): void {
    this.#cancelPoll?.();
    // A tick of the replaced watch may still be in flight: it must not re-arm itself.
    const generation = ++this.#watchGeneration;
    const current = (): boolean =>
      generation === this.#watchGeneration && !this.#detached && !this.#leaderGone;
    const tick = (): void => {
      isSameLiveProcess(this.pid, this.record.startTimeTicks).then(
        (alive) => {
          if (!current()) return;
          if (!alive) this.leaderExited(undefined, undefined, ADOPTED_EXIT_REASON);
          else this.#cancelPoll = this.#deps.scheduler.after(pollMs, tick);
        },
        () => {
          if (current()) this.#cancelPoll = this.#deps.scheduler.after(pollMs, tick);
        },
      );
    };
    this.#cancelPoll = this.#deps.scheduler.after(pollMs, tick);
  }

  onDetach(fn: () => void): void {
    this.#onDetach = fn;
  }

  detach(): void {
    this.#detached = true;
    this.#cancelPoll?.();
    this.#cancelKill?.();
    this.#onDetach?.();
  }
}

function startError(launch: ModuleLaunch, command: string, err: unknown): TandemError {
  const code = (err as NodeJS.ErrnoException).code;
  const what =
    code === 'ENOENT'
      ? command.includes('/')
        ? `command not found: ${command}`
        : `command not found on the module's PATH: ${command}`
      : code === 'EACCES'
        ? `permission denied running ${command} (not executable?)`
        : `cannot run ${command}: ${(err as Error).message}`;
  return new TandemError('TANDEM_E_MODULE_START', `module '${launch.module}': ${what}`, {
    cause: err,
    details: { module: launch.module, command, errno: code },
  });
}

async function checkCwd(launch: ModuleLaunch, cwd: string | undefined): Promise<void> {
  if (cwd === undefined) return;
  // spawn reports a missing cwd as ENOENT, which reads like "command not found": say it first.
  const st = await stat(cwd).catch(() => undefined);
  if (st?.isDirectory()) return;
  throw new TandemError(
    'TANDEM_E_MODULE_START',
    `module '${launch.module}': working directory not found: ${cwd}`,
    {
      details: { module: launch.module, cwd },
    },
  );
}

/**
 * Starts a process module. Resolves once the child runs; rejects with TANDEM_E_MODULE_START
 * when it cannot be started (command not found, not executable, no such working directory).
 */
export async function startProcess(
  launch: ModuleLaunch,
  restartCount: number,
  options: ProcessRunnerOptions = {},
): Promise<ModuleInstance> {
  const d = deps(options);
  assert(launch.settings.kind === 'process', `startProcess with a ${launch.settings.kind} module`);
  const settings: ProcessSettings = launch.settings;
  await checkCwd(launch, settings.cwd);
  const log = await openModuleLog(launch.logDir, launch.module);
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(settings.command, [...settings.args], {
      cwd: settings.cwd,
      env: { ...launch.env },
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
  } catch (err) {
    await log.close();
    throw startError(launch, settings.command, err);
  }
  // Synchronously after spawn(), before any await: the 'spawn'/'error' events come on the
  // next tick, and a module that exits at once is still an unreaped zombie with a /proc entry.
  const st = child.pid === undefined ? undefined : readProcStatSync(child.pid);
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const exitSeen = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('exit', (code, signal) => resolve([code, signal]));
  });
  // Handled below, after the close: keep the rejection from counting as unhandled meanwhile.
  spawned.catch(() => {});
  // The child holds its own copy of the descriptor.
  await log.close();
  try {
    await spawned;
  } catch (err) {
    throw startError(launch, settings.command, err);
  }
  // Later 'error' events (a failed kill) must not crash the agent; signals go to the group anyway.
  child.on('error', () => {});
  assert(child.pid !== undefined && st !== undefined, 'a spawned child has a pid and a /proc entry');
  const record: ProcessRecord = {
    kind: 'process',
    module: launch.module,
    pid: child.pid,
    startTimeTicks: st.startTimeTicks,
    generationId: launch.generationId,
    startedAtMs: d.clock.nowMs(),
    restartCount,
  };
  const instance = new ProcessInstance(record, false, d);
  void exitSeen.then(([code, signal]) => {
    const facts = { code: code ?? undefined, signal: signal ?? undefined };
    instance.leaderExited(facts.code, facts.signal, describeExit(facts));
  });
  // Detached: the agent may exit (or be restarted) and leave the module running.
  instance.onDetach(() => child.unref());
  return instance;
}

/** Re-attaches to a process module started by an earlier agent, if that very process still runs. */
export async function adoptProcess(
  record: ProcessRecord,
  options: ProcessRunnerOptions = {},
): Promise<ModuleInstance | undefined> {
  const d = deps(options);
  if (!(await isSameLiveProcess(record.pid, record.startTimeTicks))) return undefined;
  const instance = new ProcessInstance(record, true, d);
  instance.watch(d.adoptedPollMs);
  return instance;
}

/** The runner the supervisor uses for `process` modules. */
export class ProcessRunner implements ModuleRunner {
  readonly #options: ProcessRunnerOptions;

  constructor(options: ProcessRunnerOptions = {}) {
    this.#options = options;
  }

  start(launch: ModuleLaunch, restartCount: number): Promise<ModuleInstance> {
    return startProcess(launch, restartCount, this.#options);
  }

  async adopt(record: InstanceRecord): Promise<ModuleInstance | undefined> {
    if (record.kind !== 'process') return undefined;
    return adoptProcess(record, this.#options);
  }
}
