/**
 * One placement pass: keep every instance where it is when it still may stay there, then
 * place the rest, biggest first, each on the eligible node that would be least full after
 * it (ties by name). Deterministic: the same input gives the same output on every node.
 * Instances with a local volume are pinned to the node that holds their data: when it
 * cannot run them they wait for it rather than start elsewhere on empty data.
 */
import { loadAfter, Usage, whyNot } from './fit.js';
import {
  type Assignment,
  compare,
  instancesOf,
  type PlacementInput,
  type PlacementNode,
  type Workload,
} from './model.js';

export interface Unplaced {
  readonly instance: string;
  /** node -> why it cannot go there; empty when the cluster has no node at all. */
  readonly why: Readonly<Record<string, string>>;
}

export interface Waiting {
  readonly instance: string;
  readonly node: string;
  readonly reason: string;
}

export interface Placement {
  /** Every instance with a node: running there, or (see `waiting`) pinned to it. */
  readonly assignment: Assignment;
  /** Local-volume instances whose node cannot run them now: not started anywhere. */
  readonly waiting: readonly Waiting[];
  /** Instances no node can take: what does not fit where. */
  readonly unplaced: readonly Unplaced[];
}

type Instance = { id: string; workload: Workload };

/** Bigger first: devices are the scarcest, then cpu, then memory; ties by id. */
function biggerFirst(a: Instance, b: Instance): number {
  const da = Object.values(a.workload.demand.devices).reduce((s, n) => s + n, 0);
  const db = Object.values(b.workload.demand.devices).reduce((s, n) => s + n, 0);
  return (
    db - da ||
    b.workload.demand.cpuMilli - a.workload.demand.cpuMilli ||
    b.workload.demand.memoryMb - a.workload.demand.memoryMb ||
    compare(a.id, b.id)
  );
}

export function place(input: PlacementInput): Placement {
  const nodes = [...input.nodes].sort((a, b) => compare(a.name, b.name));
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const usage = new Usage();
  const assignment: Record<string, string> = {};
  const waiting: Waiting[] = [];
  const rest: Instance[] = [];
  for (const inst of instancesOf(input.workloads)) {
    const home = input.current[inst.id];
    const node = home === undefined ? undefined : byName.get(home);
    const why = node ? whyNot(node, inst.workload, usage, { keeping: true }) : 'not a member of the cluster';
    if (home !== undefined && why === undefined && node) {
      assignment[inst.id] = home;
      usage.add(home, inst.workload);
    } else if (home !== undefined && inst.workload.volume === 'local') {
      assignment[inst.id] = home;
      waiting.push({
        instance: inst.id,
        node: home,
        reason: `its node ${why}; a local volume does not move`,
      });
    } else {
      rest.push(inst);
    }
  }
  const unplaced: Unplaced[] = [];
  for (const inst of rest.sort(biggerFirst)) {
    const target = bestNode(nodes, inst.workload, usage);
    if (typeof target === 'string') {
      assignment[inst.id] = target;
      usage.add(target, inst.workload);
    } else {
      unplaced.push({ instance: inst.id, why: target.why });
    }
  }
  unplaced.sort((a, b) => compare(a.instance, b.instance));
  waiting.sort((a, b) => compare(a.instance, b.instance));
  return { assignment, waiting, unplaced };
}

/** The node to put `w` on, or why no node will do. */
export function bestNode(
  nodes: readonly PlacementNode[],
  w: Workload,
  usage: Usage,
): string | { why: Record<string, string> } {
  let best: { name: string; load: number; count: number } | undefined;
  const why: Record<string, string> = {};
  for (const node of nodes) {
    const reason = whyNot(node, w, usage, { keeping: false });
    if (reason !== undefined) {
      why[node.name] = reason;
      continue;
    }
    const load = loadAfter(node, w, usage);
    const count = usage.count(node.name);
    if (!best || load < best.load || (load === best.load && count < best.count)) {
      best = { name: node.name, load, count };
    }
  }
  return best ? best.name : { why };
}
