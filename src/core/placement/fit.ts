/**
 * Whether one instance may go on one node, and if not, why in words. Used by the placement
 * (to choose), by the headroom check and by explanations (to say what does not fit where).
 */
import { type Amounts, addAmounts, compare, noAmounts, type PlacementNode, type Workload } from './model.js';

/** What is placed on each node so far while a placement is built. */
export class Usage {
  readonly #used = new Map<string, Amounts>();
  /** node -> modules with an instance there (anti-affinity). */
  readonly #modules = new Map<string, Set<string>>();
  readonly #count = new Map<string, number>();

  add(node: string, w: Workload): void {
    this.#used.set(node, addAmounts(this.used(node), w.demand));
    const set = this.#modules.get(node) ?? new Set<string>();
    set.add(w.module);
    this.#modules.set(node, set);
    this.#count.set(node, this.count(node) + 1);
  }

  used(node: string): Amounts {
    return this.#used.get(node) ?? noAmounts;
  }

  count(node: string): number {
    return this.#count.get(node) ?? 0;
  }

  hosts(node: string, module: string): boolean {
    return this.#modules.get(node)?.has(module) ?? false;
  }
}

/** Why the resources do not fit, or undefined when they do. */
export function resourceShortfall(node: PlacementNode, used: Amounts, need: Amounts): string | undefined {
  const cap = node.capacity;
  const short: string[] = [];
  if (used.cpuMilli + need.cpuMilli > cap.cpuMilli) {
    short.push(
      `cpu: needs ${need.cpuMilli / 1000}, ${(cap.cpuMilli - used.cpuMilli) / 1000} of ${cap.cpuMilli / 1000} free`,
    );
  }
  if (used.memoryMb + need.memoryMb > cap.memoryMb) {
    short.push(
      `memory: needs ${need.memoryMb} MB, ${cap.memoryMb - used.memoryMb} of ${cap.memoryMb} MB free`,
    );
  }
  for (const [device, n] of Object.entries(need.devices).sort(([a], [b]) => compare(a, b))) {
    if (n <= 0) continue;
    const have = cap.devices[device] ?? 0;
    const free = have - (used.devices[device] ?? 0);
    if (n > free) short.push(`${device}: needs ${n}, ${free} of ${have} free`);
  }
  return short.length > 0 ? short.join('; ') : undefined;
}

/** Why a node can never host this workload whatever runs there (labels), or undefined. */
export function selectorMismatch(node: PlacementNode, w: Workload): string | undefined {
  const missing = Object.entries(w.nodeSelector)
    .sort(([a], [b]) => compare(a, b))
    .filter(([k, v]) => node.labels[k] !== v)
    .map(([k, v]) => `${k}=${v}`);
  return missing.length > 0 ? `lacks label ${missing.join(', ')}` : undefined;
}

export interface FitOptions {
  /** A kept instance may stay on a cordoned node; new work needs an active one. */
  readonly keeping: boolean;
}

/** Why `w` cannot go on `node` given `usage`, or undefined when it can. */
export function whyNot(node: PlacementNode, w: Workload, usage: Usage, o: FitOptions): string | undefined {
  if (node.condition === 'down') return 'down';
  if (node.condition === 'recovering' && !o.keeping) return 'recovering (not yet trusted with work)';
  if (node.admin === 'drained') return 'drained';
  if (node.admin === 'cordoned' && !o.keeping) return 'cordoned';
  const label = selectorMismatch(node, w);
  if (label) return label;
  if (usage.hosts(node.name, w.module)) return `runs another replica of ${w.module} (anti-affinity)`;
  return resourceShortfall(node, usage.used(node.name), w.demand);
}

/**
 * How full a node would be with `w` added: its fullest resource as a fraction of capacity
 * (a resource it does not have counts as full when asked for). Lower is a better home.
 */
export function loadAfter(node: PlacementNode, w: Workload, usage: Usage): number {
  const after = addAmounts(usage.used(node.name), w.demand);
  const cap = node.capacity;
  const share = (used: number, have: number): number => (have > 0 ? used / have : used > 0 ? Infinity : 0);
  let worst = Math.max(share(after.cpuMilli, cap.cpuMilli), share(after.memoryMb, cap.memoryMb));
  for (const [device, n] of Object.entries(after.devices))
    worst = Math.max(worst, share(n, cap.devices[device] ?? 0));
  return worst;
}
