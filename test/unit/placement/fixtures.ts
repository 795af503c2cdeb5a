/** Small builders for placement tests: nodes and workloads with readable defaults. */
import type {
  NodeAdmin,
  NodeCondition,
  PlacementInput,
  PlacementNode,
  Workload,
} from '../../../src/core/placement/index.js';

export function node(
  name: string,
  cpu = 1,
  o: {
    memoryMb?: number;
    devices?: Record<string, number>;
    labels?: Record<string, string>;
    condition?: NodeCondition;
    admin?: NodeAdmin;
  } = {},
): PlacementNode {
  return {
    name,
    capacity: { cpuMilli: Math.round(cpu * 1000), memoryMb: o.memoryMb ?? 1024, devices: o.devices ?? {} },
    labels: o.labels ?? {},
    condition: o.condition ?? 'ready',
    admin: o.admin ?? 'active',
  };
}

export function work(
  module: string,
  cpu = 0,
  o: {
    replicas?: number;
    memoryMb?: number;
    devices?: Record<string, number>;
    nodeSelector?: Record<string, string>;
    volume?: Workload['volume'];
  } = {},
): Workload {
  return {
    module,
    replicas: o.replicas ?? 1,
    demand: { cpuMilli: Math.round(cpu * 1000), memoryMb: o.memoryMb ?? 0, devices: o.devices ?? {} },
    nodeSelector: o.nodeSelector ?? {},
    volume: o.volume ?? 'none',
  };
}

export function input(
  nodes: PlacementNode[],
  workloads: Workload[],
  current: Record<string, string> = {},
  tolerated = 1,
): PlacementInput {
  return { nodes, workloads, current, policy: { nodeLossesTolerated: tolerated } };
}

export function withCondition(
  i: PlacementInput,
  name: string,
  condition: NodeCondition,
  admin?: NodeAdmin,
): PlacementInput {
  return {
    ...i,
    nodes: i.nodes.map((n) => (n.name === name ? { ...n, condition, ...(admin && { admin }) } : n)),
  };
}
