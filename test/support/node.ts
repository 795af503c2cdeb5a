/** Starts a single-node Tandem in-process on ephemeral ports with a throwaway data dir. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AgentFace } from '../../src/agent/face.js';
import { startApi } from '../../src/api/http-api.js';
import type { ClusterOptions } from '../../src/runtime/cluster-node.js';
import { writePorts } from '../../src/runtime/data-dir.js';
import { type RunningNode, startNode } from '../../src/runtime/start-node.js';
import type { ClientIdentity, HubAddress } from './clients.js';

export interface TestNode {
  readonly node: RunningNode;
  readonly dataDir: string;
  /** Plain MQTT on loopback. */
  readonly plain: HubAddress;
  /** TLS MQTT, trusting the hub's own CA. */
  readonly secure: HubAddress;
  identity(deviceId: string, moduleId?: string): Promise<ClientIdentity>;
  stop(): Promise<void>;
}

export function manifestWithRoutes(routes: Record<string, unknown>, timeToLiveSecs?: number): unknown {
  return {
    modulesContent: {
      $edgeHub: {
        'properties.desired': {
          schemaVersion: '1.1',
          routes,
          ...(timeToLiveSecs === undefined ? {} : { storeAndForwardConfiguration: { timeToLiveSecs } }),
        },
      },
    },
  };
}

export interface TestNodeOptions {
  readonly routes?: Record<string, unknown>;
  readonly edgeDeviceId?: string;
  readonly dataDir?: string;
  readonly storeBytesMax?: number;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
  /** Run as a cluster replica on these JetStream servers instead of the embedded store. */
  readonly cluster?: ClusterOptions;
}

export async function startTestNode(options: TestNodeOptions = {}): Promise<TestNode> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'tandem-test-')));
  const node = await startNode({
    dataDir,
    manifest: manifestWithRoutes(options.routes ?? {}),
    tlsPort: 0,
    tlsHost: '127.0.0.1',
    plainPort: 0,
    edgeDeviceId: options.edgeDeviceId ?? 'edge1',
    hubName: 'test-hub.local',
    storeBytesMax: options.storeBytesMax,
    log: options.log,
    cluster: options.cluster,
  });
  return {
    node,
    dataDir,
    plain: { hubName: node.hubName, port: node.ports.mqtt! },
    secure: { hubName: node.hubName, port: node.ports.mqtts!, tls: { ca: node.caPem } },
    async identity(deviceId, moduleId) {
      if (moduleId !== undefined && !(await node.registry.get(deviceId)))
        await node.registry.create(deviceId);
      const existing = await node.registry.get(deviceId, moduleId);
      const id = existing ?? (await node.registry.create(deviceId, moduleId));
      return { deviceId, moduleId, primaryKey: id.primaryKey };
    },
    async stop() {
      await node.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A second local API over a test node's hub, with an agent and an upstream status provider. */
export interface TestApi {
  readonly port: number;
  readonly base: string;
  /** A data directory whose ports.json points at this API, for the CLI's --data-dir. */
  readonly dataDir: string;
  close(): Promise<void>;
}

/**
 * Serves the API with `agent` (and `upstreamStatus`) over `t`'s real hub, until startNode
 * takes an agent itself; its own data dir holds a ports.json, so the CLI finds it.
 */
export async function startAgentApi(
  t: TestNode,
  extra: { agent?: AgentFace; upstreamStatus?: () => unknown },
): Promise<TestApi> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tandem-api-'));
  const { mqtts, mqtt } = t.node.ports;
  const ports = { ...(mqtts ? { mqtts } : {}), ...(mqtt ? { mqtt } : {}) };
  const info = { hubName: t.node.hubName, edgeDeviceId: t.node.edgeDeviceId, ports };
  const api = await startApi({ hub: t.node.hub, info, host: '127.0.0.1', port: 0, ...extra });
  await writePorts(dataDir, { pid: process.pid, host: '127.0.0.1', api: api.port });
  return {
    port: api.port,
    base: `http://127.0.0.1:${api.port}`,
    dataDir,
    async close() {
      await api.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
