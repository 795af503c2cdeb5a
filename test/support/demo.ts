/** The demo deployment (examples/demo) as tests use it: faster sensor, tunable filter, agent on. */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseManifestText } from '../../src/core/manifest/index.js';
import { type RunningNode, startNode } from '../../src/runtime/start-node.js';
import type { UpstreamConfigInput } from '../../src/upstream/index.js';
import { repoRoot } from './paths.js';

export const demoDir = path.join(repoRoot, 'examples/demo');

// biome-ignore lint/suspicious/noExplicitAny: tests edit manifests freely, as JSON
type Json = Record<string, any>;

/** The demo manifest with changes: sensor interval, filter threshold, extra modules or env. */
export function demoManifest(
  o: { intervalMs?: number; threshold?: number; absolute?: boolean; edit?: (m: Json) => void } = {},
): Json {
  const m = parseManifestText(readFileSync(path.join(demoDir, 'manifest.json'), 'utf8')) as Json;
  const agent = m.modulesContent.$edgeAgent['properties.desired'];
  if (o.intervalMs !== undefined) agent.modules.sensor.env.MessageIntervalMs.value = String(o.intervalMs);
  if (o.threshold !== undefined)
    m.modulesContent.filter['properties.desired'].TemperatureThreshold = o.threshold;
  // A manifest written elsewhere still runs the demo's modules: their cwd is the demo directory.
  if (o.absolute) for (const mod of Object.values(agent.modules) as Json[]) mod.settings.cwd = demoDir;
  o.edit?.(m);
  return m;
}

export interface AgentTestNode {
  readonly node: RunningNode;
  readonly dataDir: string;
  stop(options?: { leaveModulesRunning?: boolean }): Promise<void>;
}

export async function startAgentNode(o: {
  manifest?: unknown;
  dataDir?: string;
  upstream?: UpstreamConfigInput;
  log?: (level: 'info' | 'warn', message: string) => void;
}): Promise<AgentTestNode> {
  const dataDir = o.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'tandem-agent-')));
  const node = await startNode({
    dataDir,
    agent: true,
    manifest: o.manifest,
    manifestBaseDir: demoDir,
    tlsPort: 0,
    tlsHost: '127.0.0.1',
    edgeDeviceId: 'edge1',
    hubName: 'test-hub.local',
    upstream: o.upstream,
    log: o.log,
  });
  return {
    node,
    dataDir,
    async stop(options) {
      await node.close(options);
      if (!o.dataDir && !options?.leaveModulesRunning) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The `seq` of each JSON body, in arrival order. */
export function seqs(bodies: readonly string[]): number[] {
  return bodies.map((b) => (JSON.parse(b) as { seq: number }).seq);
}
