/**
 * A cluster node's workload side, started beside its hub replica: the local agent that
 * supervises modules, the node agent that runs what the scheduler assigns here, and the
 * scheduler (which acts while this node holds its lease).
 */
import os from 'node:os';
import type { Agent } from '../agent/agent.js';
import { NodeAgent } from '../cluster/node-agent.js';
import type { NodeFacts } from '../cluster/placement-input.js';
import { Scheduler } from '../cluster/scheduler.js';
import { ClusterWorkloads } from '../cluster/workloads.js';
import type { JoinedCluster } from './cluster-node.js';

/** What a node declares about itself; unset fields come from the machine. */
export interface NodeDeclaration {
  readonly cpu?: number;
  readonly memoryMb?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly devices?: Readonly<Record<string, number>>;
}

export function nodeFacts(d: NodeDeclaration | undefined): NodeFacts {
  return {
    cpuMilli: Math.round((d?.cpu ?? os.availableParallelism()) * 1000),
    memoryMb: d?.memoryMb ?? Math.floor(os.totalmem() / (1024 * 1024)),
    devices: { ...(d?.devices ?? {}) },
    labels: { ...(d?.labels ?? {}) },
  };
}

export interface RunningWorkloads {
  readonly workloads: ClusterWorkloads;
  readonly nodeAgent: NodeAgent;
  close(): Promise<void>;
}

export async function startClusterWorkloads(o: {
  readonly cluster: JoinedCluster;
  readonly agent: Agent;
  readonly node: string;
  readonly nodeDownGraceMs?: number;
  readonly log: (level: 'info' | 'warn', message: string) => void;
}): Promise<RunningWorkloads> {
  const { coordination: c, store } = o.cluster;
  const scheduler = new Scheduler({
    kv: store.kv,
    membership: c.membership,
    leases: c.leases,
    view: c.view,
    nodeDownGraceMs: o.nodeDownGraceMs,
    log: o.log,
  });
  const nodeAgent = new NodeAgent({ node: o.node, kv: store.kv, view: c.view, agent: o.agent, log: o.log });
  const workloads = new ClusterWorkloads({
    kv: store.kv,
    membership: c.membership,
    view: c.view,
    agent: o.agent,
    scheduler,
    nodeDownGraceMs: o.nodeDownGraceMs,
  });
  // Adopt what a previous process of this node left running; then run only what is assigned.
  await o.agent.start();
  nodeAgent.start();
  scheduler.start();
  return {
    workloads,
    nodeAgent,
    close: async () => {
      await scheduler.stop();
      await nodeAgent.stop();
    },
  };
}
