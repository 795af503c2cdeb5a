/**
 * The reconcile planner: desired deployment against what runs now, to a plan of steps.
 * Pure: no I/O, no clock. The agent's executor carries the plan out; redeploying the same
 * manifest plans nothing, and a change to one module touches only that module.
 */

import type { ModuleSpec } from '../manifest/deployment.js';
import type { Plan, PlanStep } from './plan.js';

/** A module as the agent last applied it: its spec and the directory its paths resolve against. */
export interface AppliedModule {
  readonly spec: ModuleSpec;
  readonly baseDir: string;
  /** False when the module is not running now (stopped, or crashed under policy `never`). */
  readonly active: boolean;
  /**
   * Its instance ended while no agent watched (the agent itself was down): the restart
   * policy was never applied, so a policy other than `never` means it must be started.
   */
  readonly lost?: boolean;
}

export interface PlanInput {
  readonly desired: Readonly<Record<string, ModuleSpec>>;
  readonly baseDir: string;
  readonly current: Readonly<Record<string, AppliedModule>>;
  readonly routesChanged: boolean;
}

/** Group of stop and remove steps: they run before any start (see PlanStep.group). */
export const STOP_GROUP = -1;

/**
 * What a running module was started with. A change here needs a restart; anything else
 * (restart policy, startup order, resources, replicas) is applied in place.
 */
function launchIdentity(spec: ModuleSpec, baseDir: string): string {
  const { type, settings, env, version, imagePullPolicy, healthCheck } = spec;
  return stableJson({ type, settings, env, version, imagePullPolicy, healthCheck, baseDir });
}

/** JSON with sorted keys, so that two equal specs compare equal whatever their key order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function changedFields(before: ModuleSpec, after: ModuleSpec): string[] {
  const fields: Array<keyof ModuleSpec> = [
    'type',
    'settings',
    'env',
    'version',
    'imagePullPolicy',
    'healthCheck',
  ];
  return fields.filter((f) => stableJson(before[f]) !== stableJson(after[f])).map(String);
}

function planOne(
  name: string,
  want: ModuleSpec | undefined,
  have: AppliedModule | undefined,
  input: PlanInput,
) {
  const step = (action: PlanStep['action'], reason: string, group: number): PlanStep => ({
    action,
    module: name,
    reason,
    group,
  });
  if (!want) return have ? step('remove', 'removed from the deployment', STOP_GROUP) : undefined;
  const order = want.startupOrder;
  if (!have) return want.status === 'running' ? step('start', 'new module', order) : undefined;
  if (want.status === 'stopped') {
    return have.active ? step('stop', 'desired status is stopped', STOP_GROUP) : undefined;
  }
  if (launchIdentity(have.spec, have.baseDir) !== launchIdentity(want, input.baseDir)) {
    const fields = changedFields(have.spec, want);
    const why = fields.length > 0 ? `${fields.join(', ')} changed` : 'manifest directory changed';
    return step(have.active ? 'restart' : 'start', why, order);
  }
  if (have.spec.status === 'stopped') return step('start', 'desired status is running', order);
  if (have.lost && !have.active && want.restartPolicy !== 'never') {
    return step('start', 'exited while the agent was away', order);
  }
  if (stableJson(have.spec) !== stableJson(want)) return step('update', 'settings changed in place', order);
  return undefined;
}

export function planDeployment(input: PlanInput): Plan {
  const names = [...new Set([...Object.keys(input.current), ...Object.keys(input.desired)])].sort();
  const steps: PlanStep[] = [];
  const unchanged: string[] = [];
  for (const name of names) {
    const s = planOne(name, input.desired[name], input.current[name], input);
    if (s) steps.push(s);
    else if (input.desired[name]) unchanged.push(name);
  }
  steps.sort((a, b) => a.group - b.group || a.module.localeCompare(b.module));
  return { steps, unchanged, routesChanged: input.routesChanged };
}

/** The plan's steps as groups to run one after another (each group's steps run together). */
export function planGroups(plan: Plan): PlanStep[][] {
  const groups = new Map<number, PlanStep[]>();
  for (const s of plan.steps) groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, g]) => g);
}
