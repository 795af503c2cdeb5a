/**
 * A private network for one test file: a "switch" namespace holding a Linux bridge, N node
 * namespaces and a "clients" namespace, each joined to the bridge by a veth pair, addresses in
 * 10.213.X.0/24. Everything stays on the machine: the namespaces have no route but their /24.
 *
 * Reachability choice: the ROOT namespace (where the test process runs) also gets a veth port on
 * the bridge, address 10.213.X.1. So the test process talks to processes in the namespaces
 * directly (fetch, nats.js, MQTT.js) with no `ip netns exec` per probe. This keeps traffic local:
 * the root side only gains a connected /24 route over a veth whose other end is the lab's bridge
 * (IP forwarding plays no part: nothing is routed through the root namespace, and the namespaces
 * have no default route to reach anything beyond the /24). A cut node is unreachable from the test
 * process too, like from everyone; to look inside a cut node, `exec` a command in its namespace.
 *
 * While any lab exists the root namespace also has an `unreachable 10.213.0.0/16` route below the
 * labs' /24s, so a socket aiming at a lab address after its lab is gone fails at once instead of
 * taking the default route off the machine.
 *
 * X comes from the pid, then the first free value: a lab claims X by creating the root link
 * `tdm<X>h`, which fails atomically if a concurrently running test file already holds it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  destroySync,
  etcNetns,
  guardRouteArgs,
  namespacePidsSync,
  nsPrefix,
  register,
  removeEtcNetnsIfEmpty,
  sweepStale,
} from './lab-cleanup.js';
import {
  type CommandResult,
  ipBatch,
  ipPath,
  LabProcess,
  must,
  runCommand,
  type SpawnOptions,
} from './lab-process.js';

export type { Exit, SpawnOptions } from './lab-process.js';
export { LabProcess } from './lab-process.js';

/** A namespace on the lab's switch. */
export interface LabNs {
  /** The namespace name (for `ip netns exec`). */
  readonly name: string;
  readonly address: string;
  /** Its port on the bridge, in the switch namespace: what `cut` takes down. */
  readonly port: string;
}

/** A namespace or its name. */
export type NsRef = LabNs | string;

const hostOctet = 1;
const firstNodeOctet = 11;
const clientsOctet = 100;
let labsInProcess = 0;

function nsName(ref: NsRef): string {
  return typeof ref === 'string' ? ref : ref.name;
}

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** Address ranges [first, last] of the root namespace's routes (the default and our guard aside). */
async function routedRanges(): Promise<Array<[number, number]>> {
  const out = await must(ipPath, ['-j', '-4', 'route', 'show', 'table', 'all']);
  const routes = JSON.parse(out) as Array<{ dst?: string; type?: string }>;
  return routes
    .filter((r) => r.dst && r.dst !== 'default' && r.type !== 'unreachable' && r.type !== 'local')
    .map((r) => {
      const [base = '', bits = '32'] = r.dst!.split('/');
      const size = 2 ** (32 - Number(bits));
      const first = ipv4ToInt(base) - (ipv4ToInt(base) % size);
      return [first, first + size - 1];
    });
}

export class NetLab {
  /** The third octet: the lab's subnet is 10.213.<id>.0/24. */
  readonly id: number;
  readonly switchNs: string;
  readonly nodes: readonly LabNs[];
  readonly clients: LabNs;
  /** The test process's own address on the switch. */
  readonly hostAddress: string;
  readonly rootLink: string;
  readonly #processes = new Set<LabProcess>();
  readonly #dirs: string[] = [];
  readonly #tag: string;
  readonly #cut = new Set<string>();
  readonly #unregister: () => void;
  #disposed = false;

  private constructor(id: number, tag: string, nodeCount: number, unregister: () => void) {
    this.id = id;
    this.#tag = tag;
    const ns = (role: string, octet: number, port: string): LabNs => ({
      name: `${tag}-${role}`,
      address: `10.213.${id}.${octet}`,
      port,
    });
    this.switchNs = `${tag}-sw`;
    this.nodes = Array.from({ length: nodeCount }, (_, i) => ns(`n${i}`, firstNodeOctet + i, `n${i}`));
    this.clients = ns('cl', clientsOctet, 'cl');
    this.hostAddress = `10.213.${id}.${hostOctet}`;
    this.rootLink = `${nsPrefix}${id}h`;
    this.#unregister = unregister;
  }

  /** Creates the switch, `nodes` node namespaces and the clients namespace, all links up. */
  static async create(options: { nodes: number }): Promise<NetLab> {
    if (options.nodes < 1 || options.nodes > 80) throw new Error('a lab has 1 to 80 nodes');
    sweepStale();
    const tag = `${nsPrefix}${process.pid}-${labsInProcess++}`;
    const names = [
      `${tag}-sw`,
      ...Array.from({ length: options.nodes }, (_, i) => `${tag}-n${i}`),
      `${tag}-cl`,
    ];
    // Registered before anything exists, so a failure half-way is cleaned up like a crash.
    let rootLink: string | undefined;
    let lab: NetLab | undefined;
    const resources = {
      namespaces: names,
      rootLink: () => rootLink,
      pids: () => (lab ? lab.#livePids() : []),
      dirs: () => (lab ? lab.#dirs : []),
    };
    const unregister = register(resources);
    try {
      await ipBatch(names.map((n) => `netns add ${n}`));
      const id = await NetLab.#claimSubnet(`${tag}-sw`);
      rootLink = `${nsPrefix}${id}h`;
      lab = new NetLab(id, tag, options.nodes, unregister);
      await lab.#wire();
      return lab;
    } catch (e) {
      destroySync(resources);
      unregister();
      throw e;
    }
  }

  /** Creates the root link `tdm<X>h` (peer `host` in the switch) for the first free X. */
  static async #claimSubnet(switchNs: string): Promise<number> {
    const ranges = await routedRanges();
    const start = process.pid % 254;
    for (let i = 0; i < 254; i++) {
      const x = ((start + i) % 254) + 1;
      const first = ipv4ToInt(`10.213.${x}.0`);
      // A subnet some route already covers (the host's own networks, another lab) is not ours.
      if (ranges.some(([lo, hi]) => lo <= first + 255 && first <= hi)) continue;
      const link = `link add ${nsPrefix}${x}h type veth peer name host netns ${switchNs}`;
      const r = await runCommand(ipPath, link.split(' '));
      if (r.code === 0) return x;
      if (!r.stderr.includes('File exists')) throw new Error(`ip link add: ${r.stderr.trim()}`);
    }
    throw new Error('no free 10.213.X.0/24 subnet for a lab');
  }

  async #wire(): Promise<void> {
    const members = [...this.nodes, this.clients];
    await must(ipPath, guardRouteArgs);
    await ipBatch([
      ...members.map(
        (m) => `link add eth0 netns ${m.name} type veth peer name ${m.port} netns ${this.switchNs}`,
      ),
      `addr add ${this.hostAddress}/24 dev ${this.rootLink}`,
      `link set dev ${this.rootLink} up`,
    ]);
    const ports = [...members.map((m) => m.port), 'host'];
    await must(
      ipPath,
      ['-n', this.switchNs, '-batch', '-'],
      [
        'link add br0 type bridge',
        'link set dev br0 up',
        'link set dev lo up',
        ...ports.flatMap((p) => [`link set dev ${p} master br0`, `link set dev ${p} up`]),
      ].join('\n'),
    );
    await Promise.all(
      members.map((m) =>
        must(
          ipPath,
          ['-n', m.name, '-batch', '-'],
          ['link set dev lo up', `addr add ${m.address}/24 dev eth0`, 'link set dev eth0 up'].join('\n'),
        ),
      ),
    );
  }

  /**
   * A fresh directory under the tmpdir that the lab removes when disposed (or at exit, or when a
   * later lab finds its owner dead): stores, configurations and logs of the lab's processes.
   */
  async tempDir(name: string): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), `${this.#tag}-${name}-`));
    this.#dirs.push(dir);
    return dir;
  }

  /** The node namespaces, then the clients namespace. */
  get members(): readonly LabNs[] {
    return [...this.nodes, this.clients];
  }

  /** Starts `command` inside the namespace. Killing the handle kills the command itself. */
  spawn(ns: NsRef, command: string, args: readonly string[] = [], options: SpawnOptions = {}): LabProcess {
    if (this.#disposed) throw new Error('lab disposed');
    const p = new LabProcess(nsName(ns), command, args, options);
    this.#processes.add(p);
    return p;
  }

  /** Runs a command inside the namespace to its end. */
  exec(ns: NsRef, command: string, args: readonly string[] = [], timeoutMs = 30_000): Promise<CommandResult> {
    return runCommand(ipPath, ['netns', 'exec', nsName(ns), command, ...args], { timeoutMs });
  }

  /** Processes started through the lab (in one namespace if given) that still run. */
  processes(ns?: NsRef): LabProcess[] {
    return [...this.#processes].filter((p) => p.running && (ns === undefined || p.ns === nsName(ns)));
  }

  /** Pids of every process inside the namespace, started by the lab or not. */
  namespacePids(ns: NsRef): number[] {
    return namespacePidsSync(nsName(ns));
  }

  /** Takes the node's bridge port down: nobody (test process included) reaches it, it reaches nobody. */
  async cut(ns: NsRef): Promise<void> {
    await this.#setPort(ns, 'down');
    this.#cut.add(nsName(ns));
  }

  async heal(ns: NsRef): Promise<void> {
    await this.#setPort(ns, 'up');
    this.#cut.delete(nsName(ns));
  }

  isCut(ns: NsRef): boolean {
    return this.#cut.has(nsName(ns));
  }

  /** SIGKILLs every process in the node's namespace and cuts its link: a machine dying. */
  async killNode(ns: NsRef): Promise<void> {
    await this.cut(ns);
    const name = nsName(ns);
    const mine = this.processes(name);
    for (const p of mine) p.kill('SIGKILL');
    for (const pid of namespacePidsSync(name)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await Promise.all(mine.map((p) => p.exited));
  }

  /**
   * Writes /etc/netns/<ns>/hosts, which `ip netns exec` bind-mounts over /etc/hosts for processes
   * started afterwards. A name listed with several addresses resolves to all of them, in order.
   */
  async setHosts(ns: NsRef, entries: Readonly<Record<string, readonly string[]>>): Promise<void> {
    const dir = path.join(etcNetns, nsName(ns));
    await mkdir(dir, { recursive: true });
    const lines = ['127.0.0.1 localhost', '::1 localhost'];
    for (const [name, addresses] of Object.entries(entries))
      for (const a of addresses) lines.push(`${a} ${name}`);
    await writeFile(path.join(dir, 'hosts'), `${lines.join('\n')}\n`);
  }

  /** GET `url` from the test process and parse the JSON; throws on a non-2xx status or timeout. */
  async fetchJson(url: string, timeoutMs = 5_000): Promise<unknown> {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  /** Whether the test process can open a TCP connection to host:port within the timeout. */
  connectable(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.connect({ host, port, timeout: timeoutMs });
      const done = (ok: boolean): void => {
        s.destroy();
        resolve(ok);
      };
      s.once('connect', () => done(true));
      s.once('timeout', () => done(false));
      s.once('error', () => done(false));
    });
  }

  /** Whether a process in namespace `from` can open a TCP connection to host:port. */
  async probeTcp(from: NsRef, host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
    const script = `const s=require('node:net').connect({host:${JSON.stringify(host)},port:${port},timeout:${timeoutMs}});
s.on('connect',()=>process.exit(0));s.on('timeout',()=>process.exit(1));s.on('error',()=>process.exit(1));`;
    const r = await this.exec(from, process.execPath, ['-e', script], timeoutMs + 10_000);
    return r.code === 0;
  }

  /** Kills everything the lab started, deletes its namespaces and links. Idempotent. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const running = this.processes();
    destroySync({
      namespaces: [this.switchNs, ...this.members.map((m) => m.name)],
      rootLink: () => this.rootLink,
      pids: () => running.map((p) => p.pid),
      dirs: () => this.#dirs,
    });
    this.#unregister();
    await Promise.all(running.map((p) => p.exited));
    await Promise.all(
      this.members.map((m) => rm(path.join(etcNetns, m.name), { recursive: true, force: true })),
    );
    removeEtcNetnsIfEmpty();
  }

  #livePids(): number[] {
    return this.processes().map((p) => p.pid);
  }

  async #setPort(ns: NsRef, state: 'up' | 'down'): Promise<void> {
    const member = this.members.find((m) => m.name === nsName(ns));
    if (!member) throw new Error(`${nsName(ns)} is not a namespace of this lab`);
    await must(ipPath, ['-n', this.switchNs, 'link', 'set', 'dev', member.port, state]);
  }
}
