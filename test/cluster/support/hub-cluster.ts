/**
 * A whole Tandem cluster in a NetLab: on every node a clustered JetStream nats-server and a
 * hub replica (`tandem up --cluster`, a real process), and in the clients namespace a
 * mosquitto standing in for the cloud. Devices and modules are the client scripts, with
 * real identities created in the cluster's replicated registry. Every replica's lease lines
 * become intervals for the checker (a SIGKILLed replica's end at the kill).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatConnectionString } from '../../../src/identity/connection-string.js';
import { IdentityRegistry } from '../../../src/identity/registry.js';
import { type JetStreamStore, openJetStreamStore } from '../../../src/store/jetstream/index.js';
import { createCa } from '../../../src/tls/x509.js';
import { HistoryRecorder, type Lease } from '../../support/checker.js';
import { sasPassword } from '../../support/clients.js';
import { manifestWithRoutes } from '../../support/node.js';
import { nodeArgs } from '../../support/paths.js';
import { waitFor } from '../../support/wait.js';
import { ClientProcess, type ServerAddress } from './client-process.js';
import { mqttPort, NsMosquitto } from './mosquitto-ns.js';
import { NatsCluster } from './nats-cluster.js';
import { type LabNs, type LabProcess, NetLab } from './netns.js';

export const hubName = 'hub.local';
export const edgeDevice = 'edge';
/** Where the routes send device telemetry: a module input and the cloud. */
export const moduleEndpoint = 'module/filter/input1';
export const upstreamEndpoint = 'upstream';
const hubMqttPort = 1883;
/** MQTT over TLS, for the Azure IoT SDK (it speaks nothing else). */
const hubMqttsPort = 8883;
/** The name SDK clients connect to: the clients' hosts file maps it to every replica. */
const gatewayHost = hubName;
const apiPort = 8080;
/** The cluster's timing: production bounds (limits.ts); failover figures are measured with them. */
const replicaReadyMs = 60_000;

const routes = {
  toFilter:
    'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/filter/inputs/input1")',
  toCloud: 'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream',
};

const emptyAgent = { 'properties.desired': { schemaVersion: '1.1', modules: {} } };

export interface Replica {
  readonly name: string;
  readonly node: LabNs;
  readonly dataDir: string;
  process: LabProcess | undefined;
  readonly lines: string[];
}

export interface Credentials {
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
}

export class HubCluster {
  readonly lab: NetLab;
  readonly nats: NatsCluster;
  readonly cloud: NsMosquitto;
  readonly replicas: Replica[];
  readonly recorder = new HistoryRecorder();
  readonly #manifest: string;
  readonly #open = new Map<string, { replica: string; fromMs: number }>();
  #admin: JetStreamStore | undefined;
  #registry: IdentityRegistry | undefined;

  private constructor(lab: NetLab, nats: NatsCluster, cloud: NsMosquitto, manifest: string, dirs: string[]) {
    this.lab = lab;
    this.nats = nats;
    this.cloud = cloud;
    this.#manifest = manifest;
    this.replicas = lab.nodes.map((node, i) => ({
      name: `r${i}`,
      node,
      dataDir: dirs[i]!,
      process: undefined,
      lines: [],
    }));
  }

  /** MQTT keepalive of the lab's clients: how soon they notice a silently dead link (a cut). */
  clientKeepaliveSec = 5;

  /** More `tandem up` arguments for replica i (what a node offers the scheduler). */
  replicaArgs: (i: number) => string[] = () => [];

  static async start(
    nodes = 3,
    options: { replicaArgs?: (i: number) => string[]; agents?: boolean } = {},
  ): Promise<HubCluster> {
    const lab = await NetLab.create({ nodes });
    try {
      const nats = await NatsCluster.start(lab);
      const cloud = await NsMosquitto.start(lab, lab.clients);
      const dir = await lab.tempDir('hub');
      const manifest = path.join(dir, 'routes.json');
      // With node agents, the cluster's deployment comes from `tandem deploy` (the test's); the
      // replicas start with an empty one. Without, the hub replicas route for client modules.
      const deployment = options.agents
        ? {
            modulesContent: {
              $edgeAgent: emptyAgent,
              $edgeHub: { 'properties.desired': { schemaVersion: '1.1', routes: {} } },
            },
          }
        : manifestWithRoutes(routes);
      await writeFile(manifest, JSON.stringify(deployment));
      const dirs = await Promise.all(lab.nodes.map((_, i) => lab.tempDir(`replica${i}`)));
      await shareOneCa(dirs);
      await lab.setHosts(lab.clients, { [gatewayHost]: lab.nodes.map((n) => n.address) });
      const cluster = new HubCluster(lab, nats, cloud, manifest, dirs);
      const extra = options.replicaArgs ?? (() => []);
      cluster.replicaArgs = options.agents ? extra : (i) => ['--no-agent', ...extra(i)];
      for (let i = 0; i < nodes; i++) cluster.startReplica(i);
      await Promise.all(cluster.replicas.map((_, i) => cluster.waitReady(i)));
      await cluster.#openRegistry();
      return cluster;
    } catch (err) {
      await lab.dispose();
      throw err;
    }
  }

  /** The MQTT address of a replica, as clients in the lab reach it. */
  address(i: number): ServerAddress {
    return { host: this.replicas[i]!.node.address, port: hubMqttPort };
  }

  /** Every replica's address, starting with `first`: a client's failover list. */
  servers(first: number): ServerAddress[] {
    const n = this.replicas.length;
    return Array.from({ length: n }, (_, k) => this.address((first + k) % n));
  }

  startReplica(i: number): void {
    const r = this.replicas[i]!;
    const urls = [i, ...this.replicas.map((_, k) => k).filter((k) => k !== i)].map(
      (k) => this.nats.clientUrls[k]!,
    );
    const args = [
      ...nodeArgs('src/cli/run'),
      'up',
      this.#manifest,
      '--cluster',
      urls.join(','),
      '--replica',
      r.name,
      '--nats-monitor',
      this.nats.server(i).monitorUrl,
      '--data-dir',
      r.dataDir,
      '--hub-name',
      hubName,
      '--device-id',
      edgeDevice,
      '--port',
      String(hubMqttsPort),
      // Every address of the node: modules run there reach it as localhost.
      '--host',
      '0.0.0.0',
      '--tls-name',
      gatewayHost,
      '--plain-port',
      String(hubMqttPort),
      '--plain-host',
      '0.0.0.0',
      '--api-port',
      String(apiPort),
      '--api-host',
      '0.0.0.0',
      '--upstream',
      `mqtt://${this.cloud.ns.address}:${mqttPort}`,
      '--upstream-topic',
      'cloud/{deviceId}',
      '--status-interval',
      '0',
      ...this.replicaArgs(i),
    ];
    // TANDEM_CLUSTER_LOGS=DIR keeps every replica's output after the lab is gone (debugging a failure).
    const logDir = process.env.TANDEM_CLUSTER_LOGS;
    const logFile = logDir ? path.join(logDir, `${this.lab.id}-${r.name}.log`) : undefined;
    const p = this.lab.spawn(r.node, process.execPath, args, { cwd: process.cwd(), logFile });
    r.process = p;
    p.onLine((line) => this.#onReplicaLine(r, line));
    p.onErrLine((line) => this.#onReplicaLine(r, line));
  }

  /** Resolves when the replica's API answers and it sees every running replica alive. */
  async waitReady(i: number): Promise<void> {
    const running = () => this.replicas.filter((r) => r.process?.running).map((r) => r.name);
    await waitFor(
      `replica r${i} to be ready`,
      async () => {
        const s = await this.status(i).catch(() => undefined);
        const alive = (s?.cluster as { alive?: string[] } | undefined)?.alive ?? [];
        return running().every((name) => alive.includes(name));
      },
      replicaReadyMs,
      () => this.replicas[i]!.lines.slice(-20).join('\n'),
    );
  }

  /** Every running replica sees every running replica alive. */
  async waitAllReady(): Promise<void> {
    for (let i = 0; i < this.replicas.length; i++)
      if (this.replicas[i]!.process?.running) await this.waitReady(i);
  }

  async status(i: number): Promise<{ cluster?: unknown; connected: string[]; endpoints: unknown[] }> {
    const url = `http://${this.replicas[i]!.node.address}:${apiPort}/api/v1/status`;
    return (await this.lab.fetchJson(url, 2_000)) as {
      cluster?: unknown;
      connected: string[];
      endpoints: unknown[];
    };
  }

  /** SIGKILL of one replica; its open lease intervals end now (it cannot send anything after). */
  async killReplica(i: number): Promise<number> {
    const r = this.replicas[i]!;
    const atMs = Date.now();
    r.process?.kill('SIGKILL');
    await r.process?.exited;
    this.#closeLeases(r.name, atMs);
    return atMs;
  }

  /** Ends the intervals of a node killed as a whole (the lab killed its processes). */
  replicaGone(i: number, atMs: number): void {
    this.#closeLeases(this.replicas[i]!.name, atMs);
  }

  /** A device (or, with `moduleId`, a module) identity in the cluster's registry, with a SAS token. */
  async credentials(deviceId: string, moduleId?: string): Promise<Credentials> {
    const registry = this.#registry!;
    if (moduleId !== undefined && !(await registry.get(deviceId))) await registry.create(deviceId);
    const identity = (await registry.get(deviceId, moduleId)) ?? (await registry.create(deviceId, moduleId));
    const clientId = moduleId ? `${deviceId}/${moduleId}` : deviceId;
    return {
      clientId,
      username: `${hubName}/${clientId}/?api-version=2021-04-12`,
      password: sasPassword(hubName, identity, 3600),
    };
  }

  /** A device publishing QoS 1 telemetry through the replicas, `first` first. */
  async device(deviceId: string, first: number, ratePerSec: number): Promise<ClientProcess> {
    const c = await this.credentials(deviceId);
    return ClientProcess.publisher(
      this.lab,
      this.lab.clients,
      {
        ...c,
        servers: this.servers(first),
        topic: `devices/${deviceId}/messages/events/`,
        sender: deviceId,
        ratePerSec,
      },
      this.recorder,
    );
  }

  /**
   * A device written with the Azure IoT SDK, unmodified, finding the hub by name (the hosts
   * file lists every replica, r0 first) and trusting the cluster's one CA.
   */
  async sdkDevice(deviceId: string, ratePerSec: number): Promise<ClientProcess> {
    const registry = this.#registry!;
    const identity = (await registry.get(deviceId)) ?? (await registry.create(deviceId));
    const connectionString = formatConnectionString(identity, { hubName, gatewayHost });
    return ClientProcess.sdkDevice(
      this.lab,
      this.lab.clients,
      {
        connectionString,
        caFile: this.caFile,
        sender: deviceId,
        ratePerSec,
        keepaliveSec: this.clientKeepaliveSec,
      },
      this.recorder,
    );
  }

  /** The replica where `identity` is connected now, from the running replicas' status. */
  async connectedAt(identity: string): Promise<number | undefined> {
    for (const [i, r] of this.replicas.entries()) {
      if (!r.process?.running) continue;
      const s = await this.status(i).catch(() => undefined);
      if (s?.connected.includes(identity)) return i;
    }
    return undefined;
  }

  /** The CA every replica's server certificate is issued by. */
  get caFile(): string {
    return path.join(this.replicas[0]!.dataDir, 'tls', 'ca.pem');
  }

  /** The `filter` module consuming its input through the replicas, `first` first. */
  async filterModule(first: number): Promise<ClientProcess> {
    const c = await this.credentials(edgeDevice, 'filter');
    return ClientProcess.consumer(
      this.lab,
      this.lab.clients,
      {
        ...c,
        servers: this.servers(first),
        topic: `devices/${edgeDevice}/modules/filter/inputs/#`,
        keepaliveSec: this.clientKeepaliveSec,
      },
      moduleEndpoint,
      this.recorder,
    );
  }

  /** What reaches the cloud broker. */
  cloudConsumer(): ClientProcess {
    return ClientProcess.consumer(
      this.lab,
      this.lab.clients,
      {
        servers: [{ host: this.cloud.ns.address, port: mqttPort }],
        clientId: 'cloud-reader',
        topic: 'cloud/#',
      },
      upstreamEndpoint,
      this.recorder,
    );
  }

  /** Lease intervals of every replica so far (open ones end at Infinity). */
  leases(): Lease[] {
    const open = [...this.#open.entries()].map(([k, v]) => ({
      replica: v.replica,
      endpoint: k.slice(v.replica.length + 1),
      fromMs: v.fromMs,
      toMs: Number.POSITIVE_INFINITY,
    }));
    return [...this.recorder.history().leases, ...open];
  }

  /** The replica holding `stream` now, from its lease lines. */
  holderOf(stream: string): number | undefined {
    for (const [k, v] of this.#open) if (k === `${v.replica}:${stream}`) return Number(v.replica.slice(1));
    return undefined;
  }

  /** What a timed-out wait prints: counts, holders and each replica's last lines. */
  describe(): string {
    const r = this.recorder;
    return [
      `acked ${r.ackedCount()}, at ${moduleEndpoint} ${r.arrivalCount(moduleEndpoint)}, at ${upstreamEndpoint} ${r.arrivalCount(upstreamEndpoint)}`,
      `holders: ${moduleEndpoint} r${this.holderOf(moduleEndpoint)}, ${upstreamEndpoint} r${this.holderOf(upstreamEndpoint)}`,
      ...this.replicas.map((x) => `--- ${x.name}\n${x.lines.slice(-15).join('\n')}`),
    ].join('\n');
  }

  async dispose(): Promise<void> {
    await this.#admin?.close().catch(() => {});
    for (const r of this.replicas) await r.process?.stop().catch(() => {});
    await this.lab.dispose();
  }

  async #openRegistry(): Promise<void> {
    this.#admin = await openJetStreamStore({
      servers: this.nats.clientUrls,
      attach: true,
      name: 'test-admin',
    });
    this.#registry = new IdentityRegistry(this.#admin.kv);
  }

  #onReplicaLine(r: Replica, line: string): void {
    r.lines.push(line);
    if (r.lines.length > 2_000) r.lines.splice(0, 1_000);
    const m = /lease (acquired|released|lost) stream=(\S+) atMs=(\d+)/.exec(line);
    if (!m) return;
    const [, what, stream, at] = m;
    const key = `${r.name}:${stream}`;
    if (what === 'acquired') this.#open.set(key, { replica: r.name, fromMs: Number(at) });
    else this.#endLease(key, Number(at));
  }

  #endLease(key: string, toMs: number): void {
    const open = this.#open.get(key);
    if (!open) return;
    this.#open.delete(key);
    this.recorder.lease({
      replica: open.replica,
      endpoint: key.slice(open.replica.length + 1),
      fromMs: open.fromMs,
      toMs,
    });
  }

  #closeLeases(replica: string, atMs: number): void {
    for (const key of [...this.#open.keys()]) if (key.startsWith(`${replica}:`)) this.#endLease(key, atMs);
  }
}

/**
 * One CA for every replica, written where `tandem up` looks for it before making its own
 * (docs/cluster.md, "One CA for the cluster"): a device trusts the cluster, not one replica.
 */
async function shareOneCa(dataDirs: readonly string[]): Promise<void> {
  const now = Date.now();
  const ca = await createCa(new Date(now - 3_600_000), new Date(now + 86_400_000));
  for (const dir of dataDirs) {
    const tls = path.join(dir, 'tls');
    await mkdir(tls, { recursive: true });
    await writeFile(path.join(tls, 'ca-key.pem'), ca.keyPem, { mode: 0o600 });
    await writeFile(path.join(tls, 'ca.pem'), ca.certPem);
  }
}
