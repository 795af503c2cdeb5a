/**
 * The placement function's input as this replica knows it: nodes from the members' own
 * declarations (capacity, labels, devices), their conditions and maintenance states, the
 * deployment's workloads, and the current assignment. The leader and `tandem plan` build it
 * the same way, so the plan shown is the decision the leader makes.
 */
import type { Deployment } from '../core/manifest/deployment.js';
import type { NodeCondition, PlacementInput, PlacementNode } from '../core/placement/model.js';
import { workloadsOf } from '../core/placement/workloads.js';
import type { ClusterView } from './cluster-view.js';

/** What a node agent publishes about its node in its member key (`info.node`). */
export interface NodeFacts {
  readonly cpuMilli: number;
  readonly memoryMb: number;
  readonly devices: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, string>>;
}

export interface MemberSighting {
  readonly replica: string;
  readonly info: Record<string, unknown>;
  readonly silentMs: number;
}

export function nodeFactsOf(info: Record<string, unknown>): NodeFacts | undefined {
  const n = info.node as Partial<NodeFacts> | undefined;
  if (!n || typeof n.cpuMilli !== 'number' || typeof n.memoryMb !== 'number') return undefined;
  return { cpuMilli: n.cpuMilli, memoryMb: n.memoryMb, devices: n.devices ?? {}, labels: n.labels ?? {} };
}

/** Every node known: members that run an agent, and nodes the last assignment names. */
export function knownNodes(
  members: readonly MemberSighting[],
  view: ClusterView,
): Map<string, NodeFacts | undefined> {
  const out = new Map<string, NodeFacts | undefined>();
  for (const name of Object.keys(view.assignment?.nodes ?? {})) out.set(name, view.assignment?.facts?.[name]);
  for (const m of members) {
    const facts = nodeFactsOf(m.info);
    if (facts) out.set(m.replica, facts);
  }
  return out;
}

export function placementInput(o: {
  readonly nodes: ReadonlyMap<string, NodeFacts | undefined>;
  readonly conditions: Readonly<Record<string, NodeCondition>>;
  readonly view: ClusterView;
  readonly deployment: Deployment | undefined;
  readonly acceptDegraded: boolean;
}): PlacementInput {
  const nodes: PlacementNode[] = [...o.nodes.entries()].map(([name, facts]) => ({
    name,
    capacity: {
      cpuMilli: facts?.cpuMilli ?? 0,
      memoryMb: facts?.memoryMb ?? 0,
      devices: facts?.devices ?? {},
    },
    labels: facts?.labels ?? {},
    condition: o.conditions[name] ?? 'down',
    admin: o.view.admin.get(name)?.admin ?? 'active',
  }));
  return {
    nodes,
    workloads: o.deployment ? workloadsOf(o.deployment) : [],
    current: o.view.assignment?.assignment ?? {},
    policy: { nodeLossesTolerated: o.acceptDegraded ? 0 : 1 },
  };
}
