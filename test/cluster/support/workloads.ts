/**
 * Cluster workloads in the lab: manifests with real process modules (the recording module,
 * written with the Azure IoT SDK), the replicas' HTTP API for deploy / plan / drain, and the
 * modules' records of what each instance processed.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { limits } from '../../../src/limits.js';
import { assertHolds, check, summarize } from '../../support/checker.js';
import { nodeArgs, repoRoot } from '../../support/paths.js';
import { waitFor } from '../../support/wait.js';
import { HubCluster } from './hub-cluster.js';
import type { CommandResult } from './lab-process.js';

const apiPort = 8080;

export interface ModuleDef {
  readonly name: string;
  readonly cpu?: number;
  readonly memoryMb?: number;
  readonly volume?: 'local';
}

/** Device telemetry goes to every module's input1 and to the cloud. */
export function workloadManifest(recordDir: string, modules: readonly ModuleDef[]): unknown {
  const routes: Record<string, string> = {
    toCloud: 'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream',
  };
  for (const m of modules) {
    routes[`to_${m.name}`] =
      `FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/${m.name}/inputs/input1")`;
  }
  const spec = (m: ModuleDef) => ({
    type: 'process',
    restartPolicy: 'always',
    settings: { command: 'node', args: nodeArgs('test/cluster/support/clients/recording-module') },
    env: { RECORD_DIR: { value: recordDir } },
    ...((m.cpu !== undefined || m.memoryMb !== undefined) && {
      resources: {
        ...(m.cpu !== undefined && { cpu: m.cpu }),
        ...(m.memoryMb !== undefined && { memoryMb: m.memoryMb }),
      },
    }),
    ...(m.volume && { volume: { kind: m.volume } }),
  });
  return {
    modulesContent: {
      $edgeAgent: {
        'properties.desired': {
          schemaVersion: '1.1',
          modules: Object.fromEntries(modules.map((m) => [m.name, spec(m)])),
        },
      },
      $edgeHub: { 'properties.desired': { schemaVersion: '1.1', routes } },
    },
  };
}

/**
 * Runs the \`tandem\` CLI as an operator on node i would: inside its namespace, against its
 * data directory (the CLI finds the node's API through ports.json).
 */
export function cli(c: HubCluster, i: number, args: readonly string[]): Promise<CommandResult> {
  const r = c.replicas[i]!;
  return c.lab.exec(r.node, process.execPath, [...nodeArgs('src/cli/run'), ...args, '--data-dir', r.dataDir]);
}

/** Prometheus text of replica i's /metrics, as a map from series (name with labels) to value. */
export async function metrics(c: HubCluster, i: number): Promise<Map<string, number>> {
  const res = await fetch(`http://${c.replicas[i]!.node.address}:${apiPort}/metrics`, {
    signal: AbortSignal.timeout(10_000),
  });
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^(\S+) (\S+)$/.exec(line);
    if (m && !line.startsWith('#')) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

export interface ApiAnswer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/** One call to replica i's API (the test process reaches every namespace). */
export async function callApi(
  c: HubCluster,
  i: number,
  method: string,
  url: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const res = await fetch(`http://${c.replicas[i]!.node.address}:${apiPort}${url}`, {
    method,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export function deploy(
  c: HubCluster,
  i: number,
  manifest: unknown,
  o: { dryRun?: boolean; acceptDegraded?: boolean } = {},
): Promise<ApiAnswer> {
  return callApi(c, i, 'POST', '/api/v1/deployment', { manifest, baseDir: repoRoot, ...o });
}

export interface WorkloadsStatus {
  readonly leader: string | null;
  readonly generation: number;
  readonly headroom: { ok: boolean; problems: string[] };
  readonly nodes: {
    name: string;
    condition: string;
    admin: string;
    instances: string[];
    modules: { name: string; state: string; pid?: number }[];
  }[];
  readonly events: {
    kind: string;
    instance?: string;
    node?: string;
    from?: string;
    to?: string;
    reason: string;
  }[];
}

export async function workloadsStatus(c: HubCluster, i: number): Promise<WorkloadsStatus> {
  const s = await c.status(i);
  return (s.cluster as { workloads: WorkloadsStatus }).workloads;
}

/** The node whose agent reports `module` running (by replica index), as replica i sees it. */
export async function runningAt(c: HubCluster, i: number, module: string): Promise<number | undefined> {
  const s = await workloadsStatus(c, i).catch(() => undefined);
  const node = s?.nodes.find((n) => n.modules.some((m) => m.name === module && m.state === 'running'));
  return node === undefined ? undefined : c.replicas.findIndex((r) => r.name === node.name);
}

export async function waitRunning(
  c: HubCluster,
  i: number,
  module: string,
  timeoutMs = 60_000,
): Promise<number> {
  let at: number | undefined;
  await waitFor(
    `${module} running somewhere`,
    async () => {
      at = await runningAt(c, i, module);
      return at !== undefined;
    },
    timeoutMs,
    () => c.describe(),
  );
  return at as number;
}

export interface ProcessedRecord {
  readonly atMs: number;
  readonly node: string;
  readonly pid: number;
  readonly module: string;
  readonly sender: string;
  readonly seq: number;
}

/** Every record every module instance wrote so far. */
export async function readRecords(dir: string): Promise<ProcessedRecord[]> {
  const out: ProcessedRecord[] = [];
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const text = await readFile(path.join(dir, f), 'utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as ProcessedRecord);
      } catch {
        // A line being written when the instance was killed.
      }
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/**
 * Feeds the modules' records into the cluster's checker as arrivals at `module/<m>/input1`,
 * each once, so G1-G3 are checked for modules Tandem runs exactly as for client consumers.
 */
export class RecordImporter {
  readonly #c: HubCluster;
  readonly #dir: string;
  readonly #seen = new Set<string>();
  readonly records: ProcessedRecord[] = [];

  constructor(c: HubCluster, dir: string) {
    this.#c = c;
    this.#dir = dir;
  }

  async sync(): Promise<ProcessedRecord[]> {
    for (const r of await readRecords(this.#dir)) {
      const key = `${r.pid}/${r.module}/${r.sender}/${r.seq}/${r.atMs}`;
      if (this.#seen.has(key)) continue;
      this.#seen.add(key);
      this.records.push(r);
      this.#c.recorder.arrived(`module/${r.module}/input1`, r.sender, r.seq, r.atMs, `${r.node}/${r.pid}`);
    }
    return this.records;
  }
}

/**
 * Nodes of 1 core and 1 GiB each, with node agents: small enough that headroom shows. Fewer
 * than three nodes keep that many JetStream replicas (two servers cannot hold three).
 */
export function startWorkloadCluster(nodes = 3): Promise<HubCluster> {
  const replicas = nodes < 3 ? ['--replicas', String(nodes)] : [];
  return HubCluster.start(nodes, {
    replicaArgs: () => ['--node-cpu', '1', '--node-memory-mb', '1024', ...replicas],
    agents: true,
  });
}

/**
 * After the devices stopped: waits until every acknowledged message was processed by every
 * module in `modules`, then checks G1-G3 and that no lease had two holders; the summary.
 */
export async function checkEveryAckedProcessed(
  c: HubCluster,
  records: RecordImporter,
  modules: readonly string[],
): Promise<string> {
  const routing = () => modules.map((m) => `module/${m}/input1`);
  await waitFor(
    `every acknowledged message processed by ${modules.join(', ')}`,
    async () => {
      await records.sync();
      return check({ ...c.recorder.history(), leases: [] }, routing).totals.missing === 0;
    },
    90_000,
    () => summarize(check({ ...c.recorder.history(), leases: [] }, routing)),
  );
  const report = check({ ...c.recorder.history(), leases: c.leases() }, routing);
  assertHolds(report, { windowMax: limits.inflightWindowMessagesMax });
  return summarize(report);
}
