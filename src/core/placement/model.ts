/**
 * The placement model: nodes with what they offer, workloads with what one instance needs,
 * and an assignment of instances to nodes. Pure data. CPU is counted in millicores so that
 * sums are exact (0.1 + 0.2 cores would not be in floating point).
 */

/** What a node offers, or what one instance needs. `devices` counts named devices (gpu: 1). */
export interface Amounts {
  readonly cpuMilli: number;
  readonly memoryMb: number;
  readonly devices: Readonly<Record<string, number>>;
}

/**
 * ready: heartbeating and healthy; recovering: heartbeating again after being down, not yet
 * trusted with work (its stale instances are still being stopped); down: heartbeats stopped
 * for longer than the grace.
 */
export type NodeCondition = 'ready' | 'recovering' | 'down';
/** active: takes work; cordoned: keeps what it runs, takes nothing new; drained: runs nothing. */
export type NodeAdmin = 'active' | 'cordoned' | 'drained';

export interface PlacementNode {
  readonly name: string;
  readonly capacity: Amounts;
  readonly labels: Readonly<Record<string, string>>;
  readonly condition: NodeCondition;
  readonly admin: NodeAdmin;
}

/** One module of the deployment as the scheduler sees it; it becomes `replicas` instances. */
export interface Workload {
  readonly module: string;
  readonly replicas: number;
  /** Per instance. */
  readonly demand: Amounts;
  /** Labels a node must carry (all of them, with these values). */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** local: its data lives on one node, so it never starts elsewhere on empty data. */
  readonly volume: 'none' | 'local' | 'replicated';
}

/** instance id (`module#index`) -> node name. */
export type Assignment = Readonly<Record<string, string>>;

export interface Policy {
  /** Node losses the placement must absorb (default 1); 0 accepts a degraded placement. */
  readonly nodeLossesTolerated: number;
}

export interface PlacementInput {
  readonly nodes: readonly PlacementNode[];
  readonly workloads: readonly Workload[];
  /** Where instances are now (or were last assigned); empty for a first placement. */
  readonly current: Assignment;
  readonly policy: Policy;
}

export const noAmounts: Amounts = { cpuMilli: 0, memoryMb: 0, devices: {} };

export function instanceId(module: string, index: number): string {
  return `${module}#${index}`;
}

export function moduleOf(instance: string): string {
  return instance.slice(0, instance.lastIndexOf('#'));
}

/** Every instance the workloads ask for, in a fixed order (module name, then index). */
export function instancesOf(workloads: readonly Workload[]): { id: string; workload: Workload }[] {
  const sorted = [...workloads].sort((a, b) => compare(a.module, b.module));
  return sorted.flatMap((w) =>
    Array.from({ length: w.replicas }, (_, i) => ({ id: instanceId(w.module, i), workload: w })),
  );
}

/** Code-unit order: the same on every machine and locale (determinism across nodes). */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function addAmounts(a: Amounts, b: Amounts, sign = 1): Amounts {
  const devices: Record<string, number> = { ...a.devices };
  for (const [name, n] of Object.entries(b.devices)) devices[name] = (devices[name] ?? 0) + sign * n;
  return { cpuMilli: a.cpuMilli + sign * b.cpuMilli, memoryMb: a.memoryMb + sign * b.memoryMb, devices };
}

export function formatAmounts(a: Amounts): string {
  const parts = [`cpu ${a.cpuMilli / 1000}`, `memory ${a.memoryMb} MB`];
  for (const [name, n] of Object.entries(a.devices).sort(([x], [y]) => compare(x, y)))
    parts.push(`${name} ${n}`);
  return parts.join(', ');
}
