/**
 * A clustered JetStream: one Debian `nats-server` per node namespace, each with its own store
 * directory, routes to all the others. Every namespace has its own network stack, so every
 * server uses the standard ports (client 4222, cluster 6222, monitor 8222) on its own address.
 * Readiness is read from the monitor's /jsz by the test process over the lab's host port.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { waitFor } from '../../support/wait.js';
import type { LabNs, LabProcess, NetLab } from './netns.js';

export const natsServerPath = '/usr/sbin/nats-server';
export const clientPort = 4222;
export const clusterPort = 6222;
export const monitorPort = 8222;
/**
 * A JetStream meta election takes seconds (raft timeouts), more with two busy cores; this bound
 * only stops a broken cluster from hanging the test.
 */
const readyDeadlineMs = 45_000;

export interface NatsClusterOptions {
  /** Namespaces to run a server in; default every node of the lab. */
  readonly nodes?: readonly LabNs[];
  readonly clusterName?: string;
  /** nats-server size syntax, e.g. '256MB'. */
  readonly maxFileStore?: string;
}

/** The parts of /jsz the harness reads (2.9 names no server here: a view is known by who answered). */
export interface Jsz {
  /** Messages in this server's replicas of all streams. */
  readonly messages?: number;
  readonly meta_cluster?: {
    readonly name?: string;
    readonly leader?: string;
    readonly cluster_size?: number;
    readonly replicas?: ReadonlyArray<{ name: string; current: boolean; offline?: boolean }>;
  };
}

export class NatsServer {
  readonly index: number;
  readonly ns: LabNs;
  readonly name: string;
  readonly storeDir: string;
  readonly confFile: string;
  readonly logFile: string;
  process: LabProcess | undefined;

  constructor(index: number, ns: LabNs, dir: string) {
    this.index = index;
    this.ns = ns;
    this.name = `n${index}`;
    this.storeDir = path.join(dir, this.name, 'store');
    this.confFile = path.join(dir, this.name, 'nats.conf');
    this.logFile = path.join(dir, this.name, 'nats.log');
  }

  get clientUrl(): string {
    return `nats://${this.ns.address}:${clientPort}`;
  }

  get monitorUrl(): string {
    return `http://${this.ns.address}:${monitorPort}`;
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }
}

function config(
  server: NatsServer,
  peers: readonly NatsServer[],
  clusterName: string,
  maxFile: string,
): string {
  const routes = peers
    .filter((p) => p !== server)
    .map((p) => `"nats-route://${p.ns.address}:${clusterPort}"`);
  return [
    `server_name: "${server.name}"`,
    // All interfaces of the namespace (its own loopback included, for processes of the same node);
    // clients are told the node's address, not 0.0.0.0.
    `listen: "0.0.0.0:${clientPort}"`,
    `client_advertise: "${server.ns.address}:${clientPort}"`,
    `http: "0.0.0.0:${monitorPort}"`,
    `jetstream { store_dir: "${server.storeDir}", max_file_store: ${maxFile}, max_memory_store: 64MB }`,
    // Routes on the node's own address only: a wildcard would gossip 127.0.0.1 to the peers.
    `cluster { name: "${clusterName}", listen: "${server.ns.address}:${clusterPort}", routes: [${routes.join(', ')}] }`,
    '',
  ].join('\n');
}

export class NatsCluster {
  readonly servers: readonly NatsServer[];
  readonly dir: string;
  readonly #lab: NetLab;

  private constructor(lab: NetLab, dir: string, nodes: readonly LabNs[]) {
    this.#lab = lab;
    this.dir = dir;
    this.servers = nodes.map((ns, i) => new NatsServer(i, ns, dir));
  }

  /** Writes the configurations, starts every server and waits for a complete meta cluster. */
  static async start(lab: NetLab, options: NatsClusterOptions = {}): Promise<NatsCluster> {
    const dir = await lab.tempDir('nats');
    const cluster = new NatsCluster(lab, dir, options.nodes ?? lab.nodes);
    const name = options.clusterName ?? `tandem-${lab.id}`;
    for (const s of cluster.servers) {
      await mkdir(s.storeDir, { recursive: true });
      await writeFile(s.confFile, config(s, cluster.servers, name, options.maxFileStore ?? '256MB'));
    }
    for (const s of cluster.servers) cluster.#spawn(s);
    await cluster.waitReady();
    return cluster;
  }

  /** Client URLs of every server, for a failover list. */
  get clientUrls(): string[] {
    return this.servers.map((s) => s.clientUrl);
  }

  server(i: number): NatsServer {
    const s = this.servers[i];
    if (!s) throw new Error(`no nats server ${i}`);
    return s;
  }

  /** /jsz of one server, or undefined when it does not answer. */
  async jsz(i: number): Promise<Jsz | undefined> {
    try {
      return (await this.#lab.fetchJson(`${this.server(i).monitorUrl}/jsz`, 2_000)) as Jsz;
    } catch {
      return undefined;
    }
  }

  /**
   * Resolves with the leader's name once every running server answers, all name the same meta
   * leader, the meta group has all configured peers, and every running follower is current.
   */
  async waitReady(timeoutMs = readyDeadlineMs): Promise<string> {
    let leader = '';
    let last = 'no answer yet';
    await waitFor(
      'a JetStream meta leader with all running peers current',
      async () => {
        const running = this.servers.filter((s) => s.running);
        const views = await Promise.all(running.map((s) => this.jsz(s.index)));
        last = JSON.stringify(views.map((v) => v?.meta_cluster ?? null));
        const leaders = new Set(views.map((v) => v?.meta_cluster?.leader ?? ''));
        const [only] = [...leaders];
        if (leaders.size !== 1 || !only) return false;
        const leaderView = views[running.findIndex((s) => s.name === only)]?.meta_cluster;
        if (!leaderView || leaderView.cluster_size !== this.servers.length) return false;
        const current = new Set(
          (leaderView.replicas ?? []).filter((r) => r.current && !r.offline).map((r) => r.name),
        );
        leader = only;
        return running.every((s) => s.name === only || current.has(s.name));
      },
      timeoutMs,
      () => last,
    );
    return leader;
  }

  /** SIGKILLs one server (its store stays as the crash left it). */
  async kill(i: number): Promise<void> {
    const p = this.server(i).process;
    if (!p) return;
    p.kill('SIGKILL');
    await p.exited;
  }

  /** Starts a stopped or killed server again on the same configuration and store. */
  async restart(i: number): Promise<void> {
    const s = this.server(i);
    if (s.running) throw new Error(`nats server ${s.name} is running`);
    this.#spawn(s);
    await waitFor(`nats server ${s.name} monitor`, async () => (await this.jsz(i)) !== undefined);
  }

  /** Stops one server cleanly (SIGTERM; SIGKILL past the grace period). */
  async stop(i: number): Promise<void> {
    await this.server(i).process?.stop();
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.process?.stop()));
  }

  /** Stops every server and removes the stores. */
  async dispose(): Promise<void> {
    await this.stopAll();
    await rm(this.dir, { recursive: true, force: true });
  }

  #spawn(s: NatsServer): void {
    s.process = this.#lab.spawn(s.ns, natsServerPath, ['-c', s.confFile], { logFile: s.logFile });
  }
}
