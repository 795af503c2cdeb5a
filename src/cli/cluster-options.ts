/** `tandem up`'s cluster options: which servers, this replica's id, and what this node offers. */
import os from 'node:os';
import { TandemError } from '../errors.js';
import type { ClusterOptions } from '../runtime/cluster-node.js';
import type { NodeDeclaration } from '../runtime/cluster-workloads.js';

export const NODE_OPTIONS = {
  'node-cpu': { type: 'string' },
  'node-memory-mb': { type: 'string' },
  'node-label': { type: 'string', multiple: true },
  'node-device': { type: 'string', multiple: true },
  'node-down-grace-ms': { type: 'string' },
} as const;

const CLUSTER_ONLY = ['replica', 'replicas', 'nats-monitor', 'cluster-prefix', ...Object.keys(NODE_OPTIONS)];

function positive(v: unknown, flag: string, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new TandemError(
      'TANDEM_E_CONFIG',
      `--${flag} must be a positive ${integer ? 'integer' : 'number'}, got '${String(v)}'`,
    );
  return n;
}

function pairs(values: unknown, flag: string, pattern: RegExp): [string, string][] {
  return ((values as string[] | undefined) ?? []).map((item) => {
    const eq = item.indexOf('=');
    const [k, v] = [item.slice(0, eq), item.slice(eq + 1)];
    if (eq <= 0 || !pattern.test(k))
      throw new TandemError('TANDEM_E_CONFIG', `--${flag} '${item}': expected NAME=VALUE`);
    return [k, v];
  });
}

function nodeDeclaration(v: Record<string, unknown>): NodeDeclaration {
  const devices = pairs(v['node-device'], 'node-device', /^[a-z][a-z0-9.-]{0,62}$/).map(
    ([k, n]): [string, number] => [k, positive(n, 'node-device', true) as number],
  );
  const cpu = positive(v['node-cpu'], 'node-cpu', false);
  const memoryMb = positive(v['node-memory-mb'], 'node-memory-mb', true);
  return {
    ...(cpu !== undefined && { cpu }),
    ...(memoryMb !== undefined && { memoryMb }),
    labels: Object.fromEntries(pairs(v['node-label'], 'node-label', /^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$/)),
    devices: Object.fromEntries(devices),
  };
}

export function clusterOption(v: Record<string, unknown>): ClusterOptions | undefined {
  const urls = v.cluster as string | undefined;
  if (urls === undefined) {
    for (const flag of CLUSTER_ONLY)
      if (v[flag] !== undefined) throw new TandemError('TANDEM_E_CONFIG', `--${flag} needs --cluster`);
    return undefined;
  }
  const servers = urls
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  for (const server of servers) {
    if (!/^(nats|tls):\/\/[^/\s]+$/.test(server) && !/^[^/\s:]+:\d+$/.test(server))
      throw new TandemError('TANDEM_E_CONFIG', `--cluster: '${server}' is not nats://host:port`);
  }
  if (servers.length === 0)
    throw new TandemError('TANDEM_E_CONFIG', '--cluster needs at least one nats://host:port');
  const replicas = v.replicas === undefined ? 3 : Number(v.replicas);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5)
    throw new TandemError('TANDEM_E_CONFIG', `--replicas must be 1 to 5, got '${String(v.replicas)}'`);
  const replica = (v.replica as string | undefined) ?? os.hostname();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(replica))
    throw new TandemError('TANDEM_E_CONFIG', `--replica '${replica}': letters, digits, '-' and '_' only`);
  const grace = positive(v['node-down-grace-ms'], 'node-down-grace-ms', true);
  return {
    servers,
    replica,
    replicas,
    monitorUrl: v['nats-monitor'] as string | undefined,
    prefix: v['cluster-prefix'] as string | undefined,
    node: nodeDeclaration(v),
    ...(grace !== undefined && { timing: { nodeDownGraceMs: grace } }),
  };
}
