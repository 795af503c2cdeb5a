/**
 * What the agent shows to faces (HTTP API, CLI, the status view): plain data about modules
 * and deployments. The agent implements AgentFace; faces depend only on this file.
 */

import type { Plan } from '../core/reconcile/plan.js';

export type { Plan, PlanAction, PlanStep } from '../core/reconcile/plan.js';

/** A module's actual state, as `tandem status` and `$edgeAgent` reported properties show it. */
export type ModuleState = 'running' | 'stopped' | 'failed' | 'backoff' | 'unhealthy' | 'starting';

export interface ModuleStatus {
  readonly name: string;
  readonly type: 'docker' | 'process';
  /** What the deployment asks for. */
  readonly desired: 'running' | 'stopped';
  readonly state: ModuleState;
  readonly restartPolicy: string;
  readonly restartCount: number;
  readonly pid?: number;
  readonly exitCode?: number;
  readonly signal?: string;
  /** ISO times, as IoT Edge's `lastStartTimeUtc` / `lastExitTimeUtc`. */
  readonly lastStartTime?: string;
  readonly lastExitTime?: string;
  /** When a module in backoff will be started again. */
  readonly nextRestartTime?: string;
  /** Why a module is failed or unhealthy (e.g. no container runtime, command not found). */
  readonly error?: string;
  /** Messages waiting on this module's inputs. */
  readonly queueLength: number;
}

export interface DeployOptions {
  /** Directory relative `cwd`/`command` paths of process modules are resolved against. */
  readonly baseDir: string;
  /** Validate and plan only. */
  readonly dryRun: boolean;
  /** Cluster: apply even when the placement breaks the headroom policy (one node: no effect). */
  readonly acceptDegraded?: boolean;
}

export interface DeployResult {
  readonly plan: Plan;
  readonly applied: boolean;
}

export interface AgentStatus {
  readonly modules: readonly ModuleStatus[];
  /** When the current deployment was applied (ISO), and a short hash to tell deployments apart. */
  readonly deployment?: { readonly appliedAt: string; readonly hash: string };
}

export interface AgentFace {
  status(): Promise<AgentStatus>;
  /** Validates (TANDEM_E_MANIFEST on error, nothing applied), plans, and applies unless dryRun. */
  deploy(manifest: unknown, options: DeployOptions): Promise<DeployResult>;
  /** The directory holding `{module}.log` and its rotations `{module}.log.1` (newest) to `.N`. */
  readonly logDir: string;
  /** True when `name` is a module of the current deployment. */
  hasModule(name: string): boolean;
}
