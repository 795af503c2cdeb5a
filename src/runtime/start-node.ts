/**
 * Starts one single-node Tandem: the embedded store, the hub's TLS identity, the identity
 * registry, the hub with its routes, the MQTT listeners, the agent with its modules and the
 * local HTTP API. Used by `tandem up` and by tests that run the hub in-process.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Agent } from '../agent/agent.js';
import type { SupervisorOptions } from '../agent/module-supervisor.js';
import { startApi } from '../api/http-api.js';
import { collectStatus } from '../api/status.js';
import type { StatusResponse } from '../api/types.js';
import { readEdgeHubSettings } from '../core/manifest/edgehub.js';
import { parseManifestText, readDeployment } from '../core/manifest/index.js';
import { parseRoutes } from '../core/routes/index.js';
import { TandemError } from '../errors.js';
import { Hub } from '../hub/hub.js';
import { IdentityRegistry } from '../identity/registry.js';
import { openEmbeddedStore } from '../store/embedded/index.js';
import { ensureHubTls } from '../tls/ca.js';
import { type Listener, listen } from '../transport/listener.js';
import {
  parseUpstreamTarget,
  startUpstream,
  type UpstreamConfigInput,
  type UpstreamConnector,
} from '../upstream/index.js';
import { type ClusterOptions, type JoinedCluster, joinCluster } from './cluster-node.js';
import { nodeFacts, type RunningWorkloads, startClusterWorkloads } from './cluster-workloads.js';
import { loadConfig, storeDir, writePorts } from './data-dir.js';

export interface NodeOptions {
  readonly dataDir: string;
  /** Deployment manifest (IoT Edge `modulesContent`); its `$edgeHub` routes are applied. */
  readonly manifest?: unknown;
  readonly hubName?: string;
  readonly edgeDeviceId?: string;
  /** TLS MQTT port; 0 = ephemeral; undefined = 8883. null disables TLS (tests only). */
  readonly tlsPort?: number | null;
  readonly tlsHost?: string;
  /** Plain MQTT port, only when asked for. */
  readonly plainPort?: number;
  readonly plainHost?: string;
  readonly apiPort?: number;
  readonly apiHost?: string;
  /** Extra names for the server certificate (the gateway's host name, its address). */
  readonly tlsNames?: readonly string[];
  /** Cap on the store's size; past it new messages are refused (no PUBACK), stored ones kept. */
  readonly storeBytesMax?: number;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
  /**
   * Run the agent: the manifest is a whole deployment (modules, routes, twins) and is
   * remembered, so a restart without one re-applies the last. Without it, only routes apply.
   */
  readonly agent?: boolean;
  /** Where relative paths of process modules resolve (the manifest file's directory). */
  readonly manifestBaseDir?: string;
  /** Supervisor timing overrides (tests). */
  readonly supervisor?: SupervisorOptions;
  /** Called when a module's status changes (the live status view). */
  readonly onModuleChange?: () => void;
  /** Where `$upstream` drains to: a cloud MQTT broker or a parent hub. Without it, it only queues. */
  readonly upstream?: UpstreamConfigInput;
  /**
   * Run as one replica of a cluster hub: messages, identities, twins and checkpoints live in
   * the replicated JetStream store instead of the embedded one. Modules are not run here
   * (placing them on nodes is the node agents' job); the manifest's routes apply.
   */
  readonly cluster?: ClusterOptions;
}

export interface RunningNode {
  readonly hub: Hub;
  readonly registry: IdentityRegistry;
  readonly hubName: string;
  readonly edgeDeviceId: string;
  readonly caPath: string;
  readonly caPem: string;
  readonly ports: { readonly mqtts?: number; readonly mqtt?: number; readonly api: number };
  readonly agent?: Agent;
  readonly upstream?: UpstreamConnector;
  /** Set when this node is a cluster replica. */
  readonly cluster?: JoinedCluster;
  /** Everything `GET /api/v1/status` shows, built in-process (the live status view). */
  status(): Promise<StatusResponse>;
  /** Stops everything; `leaveModulesRunning` leaves module processes for a later agent to adopt. */
  close(options?: { leaveModulesRunning?: boolean }): Promise<void>;
}

/** Reads a manifest with the strict reader: duplicate keys and syntax errors name their place. */
export async function readManifestFile(file: string): Promise<unknown> {
  return parseManifestText(await readFile(file, 'utf8'));
}

export async function startNode(o: NodeOptions): Promise<RunningNode> {
  const config = await loadConfig(o.dataDir, { hubName: o.hubName, edgeDeviceId: o.edgeDeviceId });
  // Validate everything before anything starts: a bad manifest changes nothing.
  if (o.agent && o.tlsPort === null)
    throw new TandemError('TANDEM_E_CONFIG', 'the agent needs the TLS listener');
  if (o.agent && o.manifest !== undefined) readDeployment(o.manifest);
  if (o.upstream) parseUpstreamTarget(o.upstream);
  // One node: the agent applies the routes with the deployment. A cluster node routes with the
  // given manifest until it sees the cluster's deployment (the node agent applies that).
  const routesNow = o.manifest !== undefined && (!o.agent || o.cluster !== undefined);
  const settings = routesNow ? readEdgeHubSettings(o.manifest) : undefined;
  const routes = parseRoutes(settings?.routes ?? {});
  const log = o.log ?? (() => {});
  const cluster = o.cluster
    ? await joinCluster(o.cluster, {
        storeBytesMax: o.storeBytesMax,
        log,
        info: { host: o.plainHost ?? o.tlsHost, ...(o.agent && { node: nodeFacts(o.cluster.node) }) },
      })
    : undefined;
  const store =
    cluster?.store ?? (await openEmbeddedStore({ dir: storeDir(o.dataDir), storeBytesMax: o.storeBytesMax }));
  const registry = new IdentityRegistry(store.kv);
  const tls = await ensureHubTls({ dir: o.dataDir, hostNames: [...(o.tlsNames ?? [])] });
  const hub = new Hub({
    store,
    ownership: cluster?.coordination.leases,
    sessionDirectory: cluster?.coordination.sessions,
    routes,
    edgeDeviceId: config.edgeDeviceId,
    defaultTtlSecs: settings?.timeToLiveSecs,
    log: o.log,
    authenticate: (r) =>
      registry.authenticate({ ...r, hubName: config.hubName, nowSec: Math.floor(Date.now() / 1000) }),
  });
  await hub.start();
  await cluster?.coordination.attach(hub);
  const listeners: Listener[] = [];
  const onSocket = (s: Parameters<Hub['accept']>[0]): void => hub.accept(s);
  let mqtts: number | undefined;
  let mqtt: number | undefined;
  try {
    if (o.tlsPort !== null) {
      const l = await listen(
        {
          host: o.tlsHost ?? '0.0.0.0',
          port: o.tlsPort ?? 8883,
          tls: { cert: tls.certPem, key: tls.keyPem },
        },
        onSocket,
      );
      listeners.push(l);
      mqtts = l.port;
    }
    if (o.plainPort !== undefined) {
      const l = await listen({ host: o.plainHost ?? '127.0.0.1', port: o.plainPort }, onSocket);
      listeners.push(l);
      mqtt = l.port;
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    await hub.close();
    await (cluster ?? store).close();
    throw err;
  }
  const info = {
    hubName: config.hubName,
    edgeDeviceId: config.edgeDeviceId,
    ports: { ...(mqtts ? { mqtts } : {}), ...(mqtt ? { mqtt } : {}) },
  };
  // A cluster node's workloads; the agent reports module changes to them once they run.
  let placed: RunningWorkloads | undefined;
  const agent = o.agent
    ? new Agent({
        hub,
        registry,
        dataDir: o.dataDir,
        logDir: path.join(o.dataDir, 'logs'),
        hubName: config.hubName,
        edgeDeviceId: config.edgeDeviceId,
        // Modules run on this machine: they reach the TLS listener on loopback.
        gatewayHost: `localhost:${mqtts}`,
        caPath: tls.caPath,
        caPem: tls.caPem,
        supervisor: o.supervisor,
        onChange: () => {
          o.onModuleChange?.();
          placed?.nodeAgent.moduleChanged();
        },
        log,
        clusterNode: o.cluster?.replica,
      })
    : undefined;
  const initial =
    o.manifest === undefined
      ? undefined
      : { manifest: o.manifest, baseDir: o.manifestBaseDir ?? process.cwd() };
  if (agent && cluster && o.cluster) {
    placed = await startClusterWorkloads({
      cluster,
      agent,
      node: o.cluster.replica,
      nodeDownGraceMs: o.cluster.timing?.nodeDownGraceMs,
      log,
    });
    if (initial && (await placed.workloads.bootstrap(initial.manifest, initial.baseDir)))
      log('info', 'cluster deployment: none yet, so this node gave it the manifest it started with');
  } else {
    await agent?.start(initial);
  }
  const workloads = placed?.workloads;
  const upstream = o.upstream ? startUpstream(hub, o.upstream, { log }) : undefined;
  const upstreamStatus = upstream ? () => upstream.status() : undefined;
  const clusterStatus = cluster
    ? () => ({ ...cluster.status(), ...(workloads && { workloads: workloads.clusterStatus() }) })
    : undefined;
  const api = await startApi({
    hub,
    info,
    host: o.apiHost ?? '127.0.0.1',
    port: o.apiPort ?? 0,
    agent: workloads ?? agent,
    workloads,
    upstreamStatus,
    cluster: clusterStatus,
  });
  const ports = { ...info.ports, api: api.port };
  await writePorts(o.dataDir, { pid: process.pid, host: o.apiHost ?? '127.0.0.1', ...ports });
  return {
    hub,
    registry,
    hubName: config.hubName,
    edgeDeviceId: config.edgeDeviceId,
    caPath: tls.caPath,
    caPem: tls.caPem,
    ports,
    agent,
    upstream,
    cluster,
    status: () =>
      collectStatus({
        hub,
        info,
        agent: workloads ?? agent,
        workloads,
        upstreamStatus,
        cluster: clusterStatus,
      }),
    close: async (options) => {
      await placed?.close();
      await agent?.close({ leaveRunning: options?.leaveModulesRunning });
      await upstream?.close();
      await api.close();
      await Promise.all(listeners.map((l) => l.close()));
      await hub.close();
      // After the hub: its endpoints give their leases back first, so others take over at once.
      await (cluster ?? store).close();
    },
  };
}
