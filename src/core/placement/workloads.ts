/** The deployment's modules as the scheduler sees them: only running modules need a node. */
import type { Deployment, ModuleSpec } from '../manifest/deployment.js';
import { type Amounts, compare, type Workload } from './model.js';

export function demandOf(spec: ModuleSpec): Amounts {
  const r = spec.resources;
  return {
    cpuMilli: Math.round((r?.cpu ?? 0) * 1000),
    memoryMb: r?.memoryMb ?? 0,
    devices: { ...(r?.devices ?? {}) },
  };
}

export function workloadsOf(deployment: Deployment): Workload[] {
  return Object.values(deployment.modules)
    .filter((m) => m.status === 'running')
    .sort((a, b) => compare(a.name, b.name))
    .map((m) => ({
      module: m.name,
      replicas: m.replicas,
      demand: demandOf(m),
      nodeSelector: { ...(m.nodeSelector ?? {}) },
      volume: m.volume?.kind ?? 'none',
    }));
}
