/**
 * IoT Edge's restart policies and restart backoff as a pure reducer: no I/O, no timers, the
 * time is passed in. The module supervisor feeds it events and carries out the effects it
 * returns (spawn, kill, set or clear the one timer), so every decision is testable with a
 * fake clock.
 *
 * Semantics follow edgeAgent (Azure/iotedge `RestartPolicyManager`, `HealthRestartPlanner`):
 * - `never`: never restarted; a crash leaves the module `failed`, a clean exit `stopped`.
 * - `on-failure`: restarted after a crash (non-zero exit code, killed by a signal, or an exit
 *   whose status is unknown), not after exit code 0.
 * - `on-unhealthy`: as on-failure, and also when the health check reports it unhealthy (the
 *   instance is stopped and then restarted through the same backoff).
 * - `always`: restarted whatever the exit, and when unhealthy.
 * Backoff: the n-th restart (n = restarts so far, from 0) waits base × 2^n, capped at max
 * (edgeAgent: 10 s unit, 300 s cap, so 10, 20, 40, 80, 160, 300, 300...). The restart count
 * is forgotten once the module has run healthy for `resetMs` (edgeAgent's "intensive care"
 * time, 10 minutes).
 */
import type { RestartPolicy } from '../manifest/deployment.js';

export interface PolicyConfig {
  readonly policy: RestartPolicy;
  /** Delay before the first restart (limits.restartBackoffBaseMs). */
  readonly baseMs: number;
  /** Cap of any delay (limits.restartBackoffMaxMs). */
  readonly maxMs: number;
  /** Healthy running time after which the restart count goes back to 0 (limits.restartCountResetMs). */
  readonly resetMs: number;
  /**
   * Restarts after which the module is left `failed` (edgeAgent's MaxRestartCount, 20 by
   * default there). Undefined: restart for ever, every maxMs at worst.
   */
  readonly restartCountMax?: number;
}

/**
 * Where the module is. `starting`: a spawn is in flight. `stopping`: the instance was told
 * to stop for good and its exit is awaited. `unhealthy`: running, but its health check fails.
 */
export type Phase = 'stopped' | 'starting' | 'running' | 'unhealthy' | 'stopping' | 'backoff' | 'failed';

/** How the last instance ended; `code` is undefined when unknown (an adopted process). */
export interface ExitFacts {
  readonly code: number | undefined;
  readonly signal: string | undefined;
  readonly atMs: number;
}

export interface PolicyState {
  readonly phase: Phase;
  /** Restarts since the count was last reset (IoT Edge's `restartCount`). */
  readonly restartCount: number;
  /** In `backoff`: when the next start is due. */
  readonly nextStartAtMs?: number;
  /** While running: since when the module has been healthy; undefined while unhealthy. */
  readonly healthySinceMs?: number;
  /** The running instance is being stopped to be restarted (unhealthy), not for good. */
  readonly killedForRestart?: boolean;
  /** A stop was requested while the spawn was in flight: kill as soon as it has started. */
  readonly stopPending?: boolean;
  readonly lastExit?: ExitFacts;
  /** Why the module is failed (start failure, crash with `never`, gave up). */
  readonly failure?: string;
}

export type PolicyEvent =
  /** The module should run (deploy, `tandem start`). Ignored unless stopped or failed. */
  | { readonly type: 'startRequested' }
  /** An instance runs: spawned, or adopted after an agent restart (then from `stopped`). */
  | { readonly type: 'started' }
  /** The instance could not be started at all (command not found, no container runtime). */
  | { readonly type: 'startFailed'; readonly reason: string }
  | {
      readonly type: 'exited';
      readonly code: number | undefined;
      readonly signal: string | undefined;
      /** The runner's words for the exit (e.g. an adopted process's unknown status); shown when failed. */
      readonly reason?: string;
    }
  | { readonly type: 'unhealthy' }
  | { readonly type: 'healthy' }
  /** The timer the last `setTimer` effect asked for has fired. */
  | { readonly type: 'timerFired' }
  | { readonly type: 'stopRequested' };

export type PolicyEffect =
  | { readonly type: 'spawn' }
  /** Stop the running instance (SIGTERM, then SIGKILL after the grace); its exit comes as `exited`. */
  | { readonly type: 'kill'; readonly reason: 'stop' | 'unhealthy' }
  /** Arm the supervisor's single timer at an absolute time (replacing any armed one). */
  | { readonly type: 'setTimer'; readonly atMs: number }
  | { readonly type: 'clearTimer' };

export interface Step {
  readonly state: PolicyState;
  readonly effects: readonly PolicyEffect[];
}

export function initialPolicyState(restartCount = 0): PolicyState {
  return { phase: 'stopped', restartCount };
}

/** The wait before the restart that follows `restartCount` earlier restarts. */
export function backoffDelayMs(restartCount: number, config: Pick<PolicyConfig, 'baseMs' | 'maxMs'>): number {
  // 2^n overflows to Infinity for huge n, which Math.min caps just the same.
  return Math.min(config.baseMs * 2 ** Math.max(0, restartCount), config.maxMs);
}

/** A crash in IoT Edge's sense: non-zero exit, killed by a signal, or we could not tell. */
export function isFailureExit(code: number | undefined, signal: string | undefined): boolean {
  return signal !== undefined || code !== 0;
}

/** Whether `policy` restarts a module that ended for `cause`. */
export function restartsAfter(policy: RestartPolicy, cause: 'clean' | 'crash' | 'unhealthy'): boolean {
  switch (policy) {
    case 'never':
      return false;
    case 'on-failure':
      return cause === 'crash';
    case 'on-unhealthy':
      return cause !== 'clean';
    case 'always':
      return true;
  }
}

const none: readonly PolicyEffect[] = [];

/** The reducer: the next state and what the supervisor must do, for `event` at `nowMs`. */
export function step(config: PolicyConfig, state: PolicyState, event: PolicyEvent, nowMs: number): Step {
  switch (event.type) {
    case 'startRequested':
      if (state.phase !== 'stopped' && state.phase !== 'failed') return { state, effects: none };
      return {
        state: { phase: 'starting', restartCount: 0, lastExit: state.lastExit },
        effects: [{ type: 'spawn' }],
      };
    case 'started':
      return onStarted(config, state, nowMs);
    case 'startFailed':
      if (state.phase === 'stopping' && state.stopPending)
        return { state: { ...live(state), phase: 'stopped' }, effects: none };
      if (state.phase !== 'starting') return { state, effects: none };
      return { state: { ...live(state), phase: 'failed', failure: event.reason }, effects: none };
    case 'exited':
      return onExited(config, state, { code: event.code, signal: event.signal, atMs: nowMs }, event.reason);
    case 'unhealthy':
      return onUnhealthy(config, state);
    case 'healthy':
      if (state.phase !== 'unhealthy' || state.killedForRestart) return { state, effects: none };
      return healthyFrom(config, { ...state, phase: 'running' }, nowMs);
    case 'timerFired':
      return onTimer(config, state, nowMs);
    case 'stopRequested':
      return onStopRequested(state);
  }
}

/** The fields that survive any transition; per-phase fields are dropped. */
function live(state: PolicyState): PolicyState {
  return { phase: state.phase, restartCount: state.restartCount, lastExit: state.lastExit };
}

function onStarted(config: PolicyConfig, state: PolicyState, nowMs: number): Step {
  if (state.phase === 'stopping' && state.stopPending) {
    return { state: { ...state, stopPending: false }, effects: [{ type: 'kill', reason: 'stop' }] };
  }
  if (state.phase !== 'starting' && state.phase !== 'stopped') return { state, effects: none };
  return healthyFrom(config, { ...live(state), phase: 'running' }, nowMs);
}

/** Running and healthy from now on; arms the count-reset timer when there is a count to reset. */
function healthyFrom(config: PolicyConfig, state: PolicyState, nowMs: number): Step {
  const next: PolicyState = { ...state, healthySinceMs: nowMs, failure: undefined };
  if (next.restartCount === 0) return { state: next, effects: [{ type: 'clearTimer' }] };
  return { state: next, effects: [{ type: 'setTimer', atMs: nowMs + config.resetMs }] };
}

function ranHealthyLongEnough(config: PolicyConfig, state: PolicyState, nowMs: number): boolean {
  return state.healthySinceMs !== undefined && nowMs - state.healthySinceMs >= config.resetMs;
}

function onExited(
  config: PolicyConfig,
  state: PolicyState,
  exit: ExitFacts,
  reason = describeExit(exit),
): Step {
  const cleared: PolicyEffect = { type: 'clearTimer' };
  if (state.phase === 'stopping') {
    return {
      state: { phase: 'stopped', restartCount: state.restartCount, lastExit: exit },
      effects: [cleared],
    };
  }
  if (state.phase !== 'running' && state.phase !== 'unhealthy' && state.phase !== 'starting') {
    return { state, effects: none };
  }
  const cause = state.killedForRestart
    ? 'unhealthy'
    : isFailureExit(exit.code, exit.signal)
      ? 'crash'
      : 'clean';
  const restartCount = ranHealthyLongEnough(config, state, exit.atMs) ? 0 : state.restartCount;
  const base: PolicyState = { phase: 'stopped', restartCount, lastExit: exit };
  if (!restartsAfter(config.policy, cause)) {
    if (cause === 'clean') return { state: base, effects: [cleared] };
    return { state: { ...base, phase: 'failed', failure: reason }, effects: [cleared] };
  }
  if (config.restartCountMax !== undefined && restartCount >= config.restartCountMax) {
    const failure = `gave up after ${restartCount} restarts; last: ${reason}`;
    return { state: { ...base, phase: 'failed', failure }, effects: [cleared] };
  }
  const nextStartAtMs = exit.atMs + backoffDelayMs(restartCount, config);
  return {
    state: { ...base, phase: 'backoff', nextStartAtMs },
    effects: [{ type: 'setTimer', atMs: nextStartAtMs }],
  };
}

function onUnhealthy(config: PolicyConfig, state: PolicyState): Step {
  if (state.phase !== 'running') return { state, effects: none };
  const next: PolicyState = { ...state, phase: 'unhealthy', healthySinceMs: undefined };
  if (!restartsAfter(config.policy, 'unhealthy')) return { state: next, effects: [{ type: 'clearTimer' }] };
  return {
    state: { ...next, killedForRestart: true },
    effects: [{ type: 'clearTimer' }, { type: 'kill', reason: 'unhealthy' }],
  };
}

function onTimer(config: PolicyConfig, state: PolicyState, nowMs: number): Step {
  if (state.phase === 'backoff' && state.nextStartAtMs !== undefined) {
    // A timer may fire a little early (clock granularity): wait for the rest.
    if (nowMs < state.nextStartAtMs)
      return { state, effects: [{ type: 'setTimer', atMs: state.nextStartAtMs }] };
    const next: PolicyState = { ...live(state), phase: 'starting', restartCount: state.restartCount + 1 };
    return { state: next, effects: [{ type: 'spawn' }] };
  }
  if (state.phase === 'running' && state.healthySinceMs !== undefined && state.restartCount > 0) {
    if (ranHealthyLongEnough(config, state, nowMs))
      return { state: { ...state, restartCount: 0 }, effects: none };
    return { state, effects: [{ type: 'setTimer', atMs: state.healthySinceMs + config.resetMs }] };
  }
  return { state, effects: none };
}

function onStopRequested(state: PolicyState): Step {
  switch (state.phase) {
    case 'running':
    case 'unhealthy':
      if (state.killedForRestart) {
        // Already being killed; its exit now ends in `stopped` instead of a restart.
        return { state: { ...live(state), phase: 'stopping' }, effects: [{ type: 'clearTimer' }] };
      }
      return {
        state: { ...live(state), phase: 'stopping' },
        effects: [{ type: 'clearTimer' }, { type: 'kill', reason: 'stop' }],
      };
    case 'starting':
      return { state: { ...live(state), phase: 'stopping', stopPending: true }, effects: none };
    case 'backoff':
      return { state: { ...live(state), phase: 'stopped' }, effects: [{ type: 'clearTimer' }] };
    default:
      return { state, effects: none };
  }
}

/** Words for an exit, as `tandem status` shows them. */
export function describeExit(exit: { code: number | undefined; signal: string | undefined }): string {
  if (exit.signal !== undefined) return `killed by ${exit.signal}`;
  if (exit.code === undefined) return 'exited with an unknown status';
  return `exited with code ${exit.code}`;
}
