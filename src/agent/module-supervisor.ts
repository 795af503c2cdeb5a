/**
 * One module's life: starts it through its runner (process or container), applies the
 * restart policy and backoff (the pure reducer in core/agent/restart-policy.ts), runs its
 * health check, rotates its log, and reports what it does as ModuleStatus facts.
 *
 * Everything that waits goes through the injected Clock and Scheduler, so the whole
 * supervisor runs under a ManualScheduler in unit tests. The agent builds the launch
 * description (environment, identity, resolved paths); the supervisor adds nothing to it.
 *
 * Adoption: `record()` is what the agent persists while an instance runs; after an agent
 * restart, `adopt(record)` on a fresh supervisor re-attaches to the same process or
 * container instead of starting another (and `start()` on a running supervisor is a no-op).
 */
import {
  initialPolicyState,
  type PolicyConfig,
  type PolicyEffect,
  type PolicyEvent,
  type PolicyState,
  step,
} from '../core/agent/restart-policy.js';
import type { DesiredStatus, RestartPolicy } from '../core/manifest/deployment.js';
import { assert } from '../errors.js';
import { limits } from '../limits.js';
import { type Clock, systemClock } from '../util/clock.js';
import { ContainerRunner } from './container-runner.js';
import type { ModuleState, ModuleStatus } from './face.js';
import { type CheckRunner, type HealthMonitor, startHealthMonitor } from './health-check.js';
import { type LogBounds, type LogRotation, rotateIfNeeded, startLogRotation } from './module-logs.js';
import { ProcessRunner } from './process-runner.js';
import { type Cancel, realScheduler, type Scheduler } from './supervisor-timers.js';
import type {
  ExitInfo,
  InstanceRecord,
  ModuleInstance,
  ModuleLaunch,
  ModuleRunner,
} from './supervisor-types.js';

/** ModuleStatus without queueLength (the agent adds it from the hub). */
export type SupervisorStatus = Omit<ModuleStatus, 'queueLength'>;

export interface SupervisorOptions {
  /** Clock and scheduler must agree (systemClock + realScheduler, or a ManualScheduler and its clock). */
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
  /** Replaces the process/container runner (unit tests). */
  readonly runner?: ModuleRunner;
  /** Overrides of limits.restartBackoffBaseMs / MaxMs / restartCountResetMs, and a restart cap. */
  readonly backoff?: Partial<Omit<PolicyConfig, 'policy'>>;
  /** SIGTERM-to-SIGKILL grace (limits.moduleStopGraceMs). */
  readonly stopGraceMs?: number;
  /** Poll period of adopted processes and of containers (limits.adoptedModulePollMs). */
  readonly pollMs?: number;
  /** Log bounds and check period (limits.moduleLogBytesMax, moduleLogFilesKept, moduleLogRotateCheckMs). */
  readonly logs?: LogBounds & { readonly checkIntervalMs?: number };
  /** Replaces the health check command runner (unit tests). */
  readonly healthRun?: CheckRunner;
  /** Called after every change of status() (and so of record()), synchronously. */
  readonly onChange?: (status: SupervisorStatus, record: InstanceRecord | undefined) => void;
}

const stateOfPhase: Readonly<Record<PolicyState['phase'], ModuleState>> = {
  stopped: 'stopped',
  starting: 'starting',
  running: 'running',
  unhealthy: 'unhealthy',
  // Still running until its exit is seen; `desired` already says stopped.
  stopping: 'running',
  backoff: 'backoff',
  failed: 'failed',
};

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

export class ModuleSupervisor {
  #launch: ModuleLaunch;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #runner: ModuleRunner;
  #config: PolicyConfig;
  readonly #options: SupervisorOptions;
  #state: PolicyState = initialPolicyState();
  #desired: DesiredStatus;
  #instance: ModuleInstance | undefined;
  #lastExit: ExitInfo | undefined;
  /** Why the last instance ended, in words (its exit, or the health check that had it killed). */
  #exitNote: string | undefined;
  #lastStartMs: number | undefined;
  #healthDetail: string | undefined;
  #health: HealthMonitor | undefined;
  #rotation: LogRotation | undefined;
  #cancelTimer: Cancel | undefined;
  #adopting: Promise<boolean> | undefined;
  #detached = false;
  #lastNotified = '';
  #waiters: { done: () => boolean; resolve: () => void }[] = [];

  constructor(launch: ModuleLaunch, options: SupervisorOptions = {}) {
    this.#launch = launch;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#scheduler = options.scheduler ?? realScheduler;
    const timing = { clock: this.#clock, scheduler: this.#scheduler, stopGraceMs: options.stopGraceMs };
    this.#runner =
      options.runner ??
      (launch.settings.kind === 'process'
        ? new ProcessRunner({ ...timing, adoptedPollMs: options.pollMs })
        : new ContainerRunner({ ...timing, pollMs: options.pollMs }));
    this.#config = {
      policy: launch.restartPolicy,
      baseMs: options.backoff?.baseMs ?? limits.restartBackoffBaseMs,
      maxMs: options.backoff?.maxMs ?? limits.restartBackoffMaxMs,
      resetMs: options.backoff?.resetMs ?? limits.restartCountResetMs,
      restartCountMax: options.backoff?.restartCountMax,
    };
    this.#desired = launch.desired;
  }

  get launch(): ModuleLaunch {
    return this.#launch;
  }

  /**
   * A deployment changed only the restart policy: the running instance keeps running, and
   * its next exit is judged by the new policy (backoff and restart count carry on).
   */
  setRestartPolicy(policy: RestartPolicy): void {
    this.#launch = { ...this.#launch, restartPolicy: policy };
    this.#config = { ...this.#config, policy };
    this.#notify();
  }

  get name(): string {
    return this.#launch.module;
  }

  /**
   * Makes the module run. Resolves when the attempt has settled: running, or failed (a start
   * failure is a state, not a rejection). A no-op while it runs, starts, or waits in backoff.
   */
  async start(): Promise<void> {
    assert(!this.#detached, 'start() after detach()');
    this.#desired = 'running';
    await this.#adopting;
    await this.#until(() => this.#state.phase !== 'stopping');
    this.#dispatch({ type: 'startRequested' });
    await this.#until(() => this.#state.phase !== 'starting');
  }

  /** Stops the module for good (SIGTERM, SIGKILL after the grace); resolves once it has exited. */
  async stop(): Promise<void> {
    this.#desired = 'stopped';
    await this.#adopting;
    this.#dispatch({ type: 'stopRequested' });
    await this.#until(
      () =>
        this.#instance === undefined && this.#state.phase !== 'starting' && this.#state.phase !== 'stopping',
    );
  }

  /**
   * Re-attaches to the instance an earlier agent started. True: it still runs and is now
   * supervised (state running, restart count from the record, or 0 when it has been up for
   * limits.restartCountResetMs). False: it is gone; nothing
   * changed, and the agent decides whether to start() it. Only on a fresh supervisor.
   */
  adopt(record: InstanceRecord): Promise<boolean> {
    assert(
      this.#instance === undefined && this.#state.phase === 'stopped' && !this.#adopting,
      'adopt() on a fresh supervisor',
    );
    assert(record.module === this.#launch.module, `adopting ${record.module} as ${this.#launch.module}`);
    this.#adopting = (async () => {
      const instance = await this.#runner.adopt(record);
      if (instance === undefined || this.#detached) return false;
      // The record holds the count at its start; a module up that long has earned the reset.
      const upMs = this.#clock.nowMs() - record.startedAtMs;
      this.#state = initialPolicyState(upMs >= this.#config.resetMs ? 0 : (record.restartCount ?? 0));
      this.#attach(instance);
      this.#dispatch({ type: 'started' });
      return true;
    })();
    const done = (): void => {
      this.#adopting = undefined;
    };
    this.#adopting.then(done, done);
    return this.#adopting;
  }

  /** The running instance's adoption record, for the agent to persist; undefined when none runs. */
  record(): InstanceRecord | undefined {
    return this.#instance?.record;
  }

  status(): SupervisorStatus {
    const s = this.#state;
    const exit = this.#lastExit;
    return {
      name: this.#launch.module,
      type: this.#launch.settings.kind,
      desired: this.#desired,
      state: stateOfPhase[s.phase],
      restartPolicy: this.#launch.restartPolicy,
      restartCount: s.restartCount,
      pid: this.#instance?.pid,
      exitCode: exit?.code,
      signal: exit?.signal,
      lastStartTime: iso(this.#instance?.record.startedAtMs ?? this.#lastStartMs),
      lastExitTime: iso(exit?.atMs),
      nextRestartTime: s.phase === 'backoff' ? iso(s.nextStartAtMs) : undefined,
      error: this.#error(),
    };
  }

  /**
   * Stops supervising without touching the module (agent shutdown; it will be adopted by the
   * next agent). Timers, health checks and polling end; later events are ignored.
   */
  detach(): void {
    this.#detached = true;
    this.#cancelTimer?.();
    this.#stopHealth();
    this.#rotation?.stop();
    this.#instance?.detach();
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  #error(): string | undefined {
    const s = this.#state;
    switch (s.phase) {
      case 'failed':
        return s.failure;
      case 'unhealthy':
        return this.#healthDetail;
      case 'backoff':
        return this.#exitNote;
      default:
        return undefined;
    }
  }

  #dispatch(event: PolicyEvent): void {
    if (this.#detached) return;
    const next = step(this.#config, this.#state, event, this.#clock.nowMs());
    this.#state = next.state;
    for (const effect of next.effects) this.#apply(effect);
    this.#syncHealth();
    this.#notify();
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.done()) return true;
      w.resolve();
      return false;
    });
  }

  #apply(effect: PolicyEffect): void {
    switch (effect.type) {
      case 'spawn':
        void this.#spawn();
        return;
      case 'kill':
        void this.#instance?.stop(this.#options.stopGraceMs);
        return;
      case 'setTimer':
        this.#cancelTimer?.();
        this.#cancelTimer = this.#scheduler.after(effect.atMs - this.#clock.nowMs(), () => {
          this.#cancelTimer = undefined;
          this.#dispatch({ type: 'timerFired' });
        });
        return;
      case 'clearTimer':
        this.#cancelTimer?.();
        this.#cancelTimer = undefined;
        return;
    }
  }

  async #spawn(): Promise<void> {
    const logs = this.#options.logs;
    // A restart is a good moment to rotate: the old instance's output is complete.
    await rotateIfNeeded(this.#launch.logDir, this.#launch.module, logs).catch(() => false);
    let instance: ModuleInstance;
    try {
      instance = await this.#runner.start(this.#launch, this.#state.restartCount);
    } catch (err) {
      this.#dispatch({ type: 'startFailed', reason: err instanceof Error ? err.message : String(err) });
      return;
    }
    if (this.#detached) return instance.detach();
    this.#attach(instance);
    this.#dispatch({ type: 'started' });
  }

  #attach(instance: ModuleInstance): void {
    this.#instance = instance;
    this.#lastStartMs = instance.record.startedAtMs;
    this.#healthDetail = undefined;
    const logs = this.#options.logs;
    this.#rotation = startLogRotation(this.#launch.logDir, this.#launch.module, {
      ...logs,
      intervalMs: logs?.checkIntervalMs,
      scheduler: this.#scheduler,
    });
    instance.exited.then((exit) => {
      if (this.#instance !== instance) return;
      this.#instance = undefined;
      this.#lastExit = exit;
      this.#exitNote = this.#state.killedForRestart
        ? `restarted as unhealthy: ${this.#healthDetail}`
        : exit.reason;
      this.#rotation?.stop();
      this.#rotation = undefined;
      this.#stopHealth();
      this.#dispatch({ type: 'exited', code: exit.code, signal: exit.signal, reason: exit.reason });
    });
  }

  /** Health checks run while an instance runs and is not being stopped. */
  #syncHealth(): void {
    const s = this.#state;
    const wanted =
      this.#launch.healthCheck !== undefined &&
      this.#instance !== undefined &&
      (s.phase === 'running' || (s.phase === 'unhealthy' && !s.killedForRestart));
    if (wanted && this.#health === undefined && this.#launch.healthCheck !== undefined) {
      const cwd = this.#launch.settings.kind === 'process' ? this.#launch.settings.cwd : undefined;
      this.#health = startHealthMonitor({
        check: this.#launch.healthCheck,
        cwd,
        env: this.#launch.env,
        scheduler: this.#scheduler,
        run: this.#options.healthRun,
        onUnhealthy: (detail) => {
          this.#healthDetail = detail;
          this.#dispatch({ type: 'unhealthy' });
        },
        onHealthy: () => {
          this.#healthDetail = undefined;
          this.#dispatch({ type: 'healthy' });
        },
      });
    } else if (!wanted) {
      this.#stopHealth();
    }
  }

  #stopHealth(): void {
    this.#health?.stop();
    this.#health = undefined;
  }

  #notify(): void {
    const status = this.status();
    const record = this.record();
    const key = JSON.stringify([status, record]);
    if (key === this.#lastNotified) return;
    this.#lastNotified = key;
    this.#options.onChange?.(status, record);
  }

  #until(done: () => boolean): Promise<void> {
    if (done() || this.#detached) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ done, resolve }));
  }
}
