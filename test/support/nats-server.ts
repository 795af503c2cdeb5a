/**
 * Real nats-server processes for tests: one JetStream server, or a 3-server JetStream
 * cluster on 127.0.0.1, with stop / kill (SIGKILL) / restart per server.
 *
 * Ports. Client and monitoring ports are ephemeral (`-p -1 -m -1`): the server picks them and
 * writes them to its ports file (`--ports_file_dir`), which we read; no fixed port anywhere.
 * Cluster ports cannot work that way: a JetStream cluster needs every server to be given
 * routes at start ("JetStream cluster requires configured routes"), and routes need the
 * others' cluster ports before any of them runs. So the helper asks the kernel for free
 * ports (listen on port 0, read it, close), starts the servers with them, and if a server
 * dies before it is ready (another process took a port in between: "address already in
 * use"), kills all of them and starts over with new ports, a few times. A restarted server
 * binds the ports it had before, so clients (which hold the URL) and routes find it again.
 *
 * Readiness is polled on the monitoring endpoint `/healthz`, which answers 200 only once
 * JetStream is up (clustered: once the meta group has a leader and this server is current),
 * every 50 ms within a generous bound; never a fixed sleep.
 *
 * No process outlives the test: dispose() stops every server (SIGTERM, then SIGKILL), and a
 * process 'exit' hook SIGKILLs any still running if the test process ends without it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

const natsServerBinary = process.env.NATS_SERVER ?? '/usr/sbin/nats-server';
/** Start-up of a JetStream server, or election of a cluster's meta leader, on a busy 2-core box. */
const readyTimeoutMs = 30_000;
const pollMs = 50;
/** SIGTERM lets a server flush and leave the cluster; past this it is killed. */
const stopGraceMs = 10_000;
/** Whole-cluster starts retried when a pre-picked cluster port was taken meanwhile. */
const clusterStartAttempts = 5;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** On exit, and on SIGINT/SIGTERM (which end Node without an 'exit' event), before dying of it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      killAll();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export interface NatsServer {
  readonly name: string;
  /** nats://127.0.0.1:port */
  readonly url: string;
  readonly port: number;
  /** Whether the process is running (it may be stopped, killed, or be restarting). */
  readonly running: boolean;
  readonly pid: number | undefined;
  /** The server's JetStream store directory and log file live under this. */
  readonly dir: string;
  /** SIGTERM, waits for the exit (SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** SIGKILL, waits for the exit: a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and store; resolves when it is ready. */
  restart(): Promise<void>;
  /** Resolves when /healthz answers 200 (JetStream ready and current). */
  waitReady(timeoutMs?: number): Promise<void>;
}

export interface NatsServerHandle extends NatsServer {
  dispose(): Promise<void>;
}

export interface NatsCluster {
  readonly servers: readonly NatsServer[];
  /** Every server's client URL, in server order. */
  readonly urls: string[];
  dispose(): Promise<void>;
}

interface ServerConfig {
  readonly name: string;
  readonly dir: string;
  readonly jetstream: boolean;
  /** Cluster membership: this server's cluster port and every member's. */
  readonly cluster?: { readonly name: string; readonly port: number; readonly routes: readonly number[] };
}

interface Ports {
  readonly client: number;
  readonly monitor: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class ServerProcess implements NatsServerHandle {
  readonly #config: ServerConfig;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #ports: Ports | undefined;

  constructor(config: ServerConfig) {
    this.#config = config;
  }

  get name(): string {
    return this.#config.name;
  }

  get dir(): string {
    return this.#config.dir;
  }

  get port(): number {
    if (!this.#ports) throw new Error(`nats-server ${this.name} has not started`);
    return this.#ports.client;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  /** Spawns the process and learns its ports; does not wait for JetStream. */
  async spawn(): Promise<void> {
    const portsDir = path.join(this.dir, 'ports');
    await mkdir(portsDir, { recursive: true });
    const child = spawn(natsServerBinary, this.#args(portsDir), { stdio: 'ignore' });
    installExitHook();
    running.add(child);
    this.#child = child;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        running.delete(child);
        resolve();
      });
      child.once('error', () => {
        running.delete(child);
        resolve();
      });
    });
    if (!this.#ports) this.#ports = await this.#readPortsFile(portsDir, child);
  }

  #args(portsDir: string): string[] {
    const { name, dir, jetstream, cluster } = this.#config;
    const args = ['-a', '127.0.0.1', '--server_name', name, '-l', path.join(dir, 'server.log')];
    args.push('-p', String(this.#ports?.client ?? -1), '-m', String(this.#ports?.monitor ?? -1));
    args.push('--ports_file_dir', portsDir);
    if (jetstream) args.push('-js', '-sd', path.join(dir, 'store'));
    if (cluster) {
      args.push('--cluster_name', cluster.name, '--cluster', `nats://127.0.0.1:${cluster.port}`);
      args.push('--routes', cluster.routes.map((p) => `nats://127.0.0.1:${p}`).join(','));
    }
    return args;
  }

  async #readPortsFile(portsDir: string, child: ChildProcess): Promise<Ports> {
    const file = path.join(portsDir, `nats-server_${child.pid}.ports`);
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`nats-server ${this.name} exited at start; see ${path.join(this.dir, 'server.log')}`);
      }
      const names = await readdir(portsDir).catch(() => [] as string[]);
      if (names.includes(path.basename(file))) {
        const text = await readFile(file, 'utf8').catch(() => '');
        const parsed = parsePorts(text);
        if (parsed) return parsed;
      }
      await sleep(pollMs);
    }
    throw new Error(`nats-server ${this.name} wrote no ports file within ${readyTimeoutMs} ms`);
  }

  async waitReady(timeoutMs = readyTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`nats-server ${this.name} is not running; see its server.log`);
      try {
        const res = await fetch(`http://127.0.0.1:${this.#ports!.monitor}/healthz`);
        last = await res.text();
        if (res.ok) return;
      } catch (err) {
        last = String(err);
      }
      await sleep(pollMs);
    }
    throw new Error(`nats-server ${this.name} not ready within ${timeoutMs} ms: ${last}`);
  }

  async stop(): Promise<void> {
    if (!this.running) return this.#exited;
    this.#child!.kill('SIGTERM');
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), stopGraceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (this.running) this.#child!.kill('SIGKILL');
    await this.#exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
    await this.waitReady();
  }

  dispose(): Promise<void> {
    return this.stop();
  }
}

function parsePorts(text: string): Ports | undefined {
  try {
    const json = JSON.parse(text) as { nats?: string[]; monitoring?: string[] };
    const client = Number(new URL(json.nats?.[0] ?? '').port);
    const monitor = Number(new URL(json.monitoring?.[0] ?? '').port);
    return client > 0 && monitor > 0 ? { client, monitor } : undefined;
  } catch {
    return undefined;
  }
}

/** A port the kernel had free a moment ago; see the top of the file for the race and its retry. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One server; `jetstream` on by default. Its files go under `dir`. */
export async function startNatsServer(options: {
  dir: string;
  jetstream?: boolean;
  name?: string;
}): Promise<NatsServerHandle> {
  const name = options.name ?? 'n1';
  const server = new ServerProcess({
    name,
    dir: path.join(options.dir, name),
    jetstream: options.jetstream ?? true,
  });
  try {
    await server.spawn();
    await server.waitReady();
    return server;
  } catch (err) {
    await server.kill();
    throw err;
  }
}

async function tryCluster(size: number, dir: string, attempt: number): Promise<ServerProcess[]> {
  const clusterPorts: number[] = [];
  while (clusterPorts.length < size) {
    const port = await freePort();
    if (!clusterPorts.includes(port)) clusterPorts.push(port);
  }
  const servers = clusterPorts.map(
    (port, i) =>
      new ServerProcess({
        name: `n${i + 1}`,
        dir: path.join(dir, `attempt${attempt}`, `n${i + 1}`),
        jetstream: true,
        cluster: { name: 'tandem-test', port, routes: clusterPorts.filter((p) => p !== port) },
      }),
  );
  try {
    for (const s of servers) await s.spawn();
    await Promise.all(servers.map((s) => s.waitReady()));
    return servers;
  } catch (err) {
    await Promise.all(servers.map((s) => s.kill()));
    throw err;
  }
}

/** `size` JetStream servers routed to each other on 127.0.0.1; resolves when all are ready. */
export async function startNatsCluster(size: number, dir: string): Promise<NatsCluster> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= clusterStartAttempts; attempt++) {
    try {
      const servers = await tryCluster(size, dir, attempt);
      return {
        servers,
        urls: servers.map((s) => s.url),
        dispose: async () => {
          await Promise.all(servers.map((s) => s.stop()));
        },
      };
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`could not start a ${size}-server cluster: ${String(lastError)}`);
}
