/**
 * Runs IoT Edge `docker` modules with whichever container CLI works here (docker, then
 * podman). Without one, starting fails with TANDEM_E_MODULE_START naming what was tried and
 * why ("no container runtime: docker: Cannot connect to the Docker daemon...; podman: not
 * found"). With one: `run --detach --name tandem-{module}` (see container-args.ts for the
 * createOptions mapping), exit detection by polling `inspect`, stop with `stop -t`, then `rm`.
 * The container's output is copied into the module's log file by a detached `logs --follow`.
 */
import { spawn } from 'node:child_process';
import { describeExit } from '../core/agent/restart-policy.js';
import { assert, TandemError } from '../errors.js';
import { limits } from '../limits.js';
import { type Clock, systemClock } from '../util/clock.js';
import { buildRunArgs } from './container-args.js';
import {
  type CliExec,
  type ContainerRuntimeDetector,
  execCli,
  sharedContainerDetector,
} from './container-cli.js';
import { openModuleLog } from './module-logs.js';
import { type Cancel, realScheduler, type Scheduler } from './supervisor-timers.js';
import type {
  ContainerRecord,
  ExitInfo,
  InstanceRecord,
  ModuleInstance,
  ModuleLaunch,
  ModuleRunner,
} from './supervisor-types.js';

export interface ContainerRunnerOptions {
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
  readonly detector?: ContainerRuntimeDetector;
  readonly exec?: CliExec;
  /** Default `stop -t` grace (limits.moduleStopGraceMs). */
  readonly stopGraceMs?: number;
  /** How often `inspect` is polled for the container's end (limits.adoptedModulePollMs). */
  readonly pollMs?: number;
  /** Called with the createOptions paths that were not passed on (once per start). */
  readonly onIgnored?: (module: string, paths: readonly string[]) => void;
}

interface Deps {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly exec: CliExec;
  readonly stopGraceMs: number;
  readonly pollMs: number;
}

/** What `inspect` says about a container: still running, ended (with its code), or gone. */
type ContainerState = { running: true } | { running: false; code: number | undefined; reason: string };

async function inspect(d: Deps, record: ContainerRecord): Promise<ContainerState | undefined> {
  const format = '{{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}';
  const r = await d.exec(
    record.runtime,
    ['inspect', '--format', format, record.containerId],
    limits.containerCommandTimeoutMs,
  );
  if (!r.ok) {
    // Removed behind our back: ended, status unknown. Any other failure: ask again later.
    if (/no such (container|object)/i.test(r.stderr))
      return { running: false, code: undefined, reason: 'container removed' };
    return undefined;
  }
  const [running, code, oom] = r.stdout.trim().split(' ');
  if (running === 'true') return { running: true };
  const exitCode = Number(code);
  const facts = { code: Number.isInteger(exitCode) ? exitCode : undefined, signal: undefined };
  return {
    running: false,
    code: facts.code,
    reason: oom === 'true' ? 'killed: out of memory' : describeExit(facts),
  };
}

class ContainerInstance implements ModuleInstance {
  readonly record: ContainerRecord;
  readonly adopted: boolean;
  readonly pid = undefined;
  readonly exited: Promise<ExitInfo>;
  readonly #d: Deps;
  #resolve!: (exit: ExitInfo) => void;
  #done = false;
  #stopping: Promise<ExitInfo> | undefined;
  #cancelPoll: Cancel | undefined;
  #detached = false;

  constructor(record: ContainerRecord, adopted: boolean, d: Deps) {
    this.record = record;
    this.adopted = adopted;
    this.#d = d;
    this.exited = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  #ended(state: { code: number | undefined; reason: string }): void {
    if (this.#done) return;
    this.#done = true;
    this.#cancelPoll?.();
    const exit: ExitInfo = {
      code: state.code,
      signal: undefined,
      atMs: this.#d.clock.nowMs(),
      reason: state.reason,
    };
    // Its output is in our log file; the stopped container itself is not needed any more.
    void this.#d.exec(
      this.record.runtime,
      ['rm', '--force', this.record.containerId],
      limits.containerCommandTimeoutMs,
    );
    this.#resolve(exit);
  }

  watch(): void {
    const tick = async (): Promise<void> => {
      const state = await inspect(this.#d, this.record);
      if (this.#detached) return;
      if (state !== undefined && !state.running) this.#ended(state);
      else if (!this.#done) this.#cancelPoll = this.#d.scheduler.after(this.#d.pollMs, () => void tick());
    };
    this.#cancelPoll = this.#d.scheduler.after(this.#d.pollMs, () => void tick());
  }

  stop(graceMs = this.#d.stopGraceMs): Promise<ExitInfo> {
    if (this.#done) return this.exited;
    this.#stopping ??= (async () => {
      const secs = String(Math.ceil(graceMs / 1000));
      const timeout = graceMs + limits.containerCommandTimeoutMs;
      await this.#d.exec(this.record.runtime, ['stop', '--time', secs, this.record.containerId], timeout);
      const state = await inspect(this.#d, this.record);
      this.#ended(state?.running === false ? state : { code: undefined, reason: 'stopped' });
      return this.exited;
    })();
    return this.#stopping;
  }

  detach(): void {
    this.#detached = true;
    this.#cancelPoll?.();
  }
}

function noRuntime(module: string, message: string): TandemError {
  return new TandemError('TANDEM_E_MODULE_START', `module '${module}': ${message}`, { details: { module } });
}

/** Copies the container's output into the module log, surviving an agent restart as the container does. */
async function followContainerOutput(launch: ModuleLaunch, record: ContainerRecord): Promise<void> {
  const log = await openModuleLog(launch.logDir, launch.module);
  try {
    const child = spawn(record.runtime, ['logs', '--follow', record.containerId], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    child.on('error', () => {});
    child.unref();
  } finally {
    await log.close();
  }
}

export class ContainerRunner implements ModuleRunner {
  readonly #d: Deps;
  readonly #detector: ContainerRuntimeDetector;
  readonly #onIgnored: ContainerRunnerOptions['onIgnored'];

  constructor(options: ContainerRunnerOptions = {}) {
    this.#d = {
      clock: options.clock ?? systemClock,
      scheduler: options.scheduler ?? realScheduler,
      exec: options.exec ?? execCli,
      stopGraceMs: options.stopGraceMs ?? limits.moduleStopGraceMs,
      pollMs: options.pollMs ?? limits.adoptedModulePollMs,
    };
    this.#detector = options.detector ?? sharedContainerDetector;
    this.#onIgnored = options.onIgnored;
  }

  /** Rejects with TANDEM_E_MODULE_START when no runtime works or `run` fails. */
  async start(launch: ModuleLaunch, restartCount: number): Promise<ModuleInstance> {
    assert(launch.settings.kind === 'docker', `ContainerRunner with a ${launch.settings.kind} module`);
    const probe = await this.#detector.detect();
    if (!probe.ok) throw noRuntime(launch.module, probe.message);
    const { image, createOptions } = launch.settings;
    const built = buildRunArgs({
      module: launch.module,
      image,
      createOptions,
      env: launch.env,
      generationId: launch.generationId,
    });
    if (built.ignored.length > 0) this.#onIgnored?.(launch.module, built.ignored);
    const rt = probe.runtime;
    // A container left by an earlier life of this module would block the name.
    await this.#d.exec(rt, ['rm', '--force', built.name], limits.containerCommandTimeoutMs);
    const run = await this.#d.exec(rt, built.args, limits.containerRunTimeoutMs);
    if (!run.ok)
      throw noRuntime(launch.module, `${rt} run ${image} failed: ${run.problem ?? 'unknown error'}`);
    const record: ContainerRecord = {
      kind: 'docker',
      module: launch.module,
      runtime: rt,
      containerId: run.stdout.trim().split('\n').pop() ?? built.name,
      containerName: built.name,
      generationId: launch.generationId,
      startedAtMs: this.#d.clock.nowMs(),
      restartCount,
    };
    await followContainerOutput(launch, record);
    const instance = new ContainerInstance(record, false, this.#d);
    instance.watch();
    return instance;
  }

  async adopt(record: InstanceRecord): Promise<ModuleInstance | undefined> {
    if (record.kind !== 'docker') return undefined;
    const state = await inspect(this.#d, record);
    if (state?.running !== true) return undefined;
    const instance = new ContainerInstance(record, true, this.#d);
    instance.watch();
    return instance;
  }
}
