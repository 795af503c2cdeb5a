/** Starts a single-node Tandem in-process on ephemeral ports with a throwaway data dir. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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
