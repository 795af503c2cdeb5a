/**
 * The start-up probe against real nats-server processes (Debian's 2.9.10 here): a single
 * server with JetStream, one without, and a three-server JetStream cluster on 127.0.0.1.
 * Client and monitor ports come from the ports file (`-p -1 -m -1 --ports_file_dir`); the
 * cluster's route ports must be known before start, so they are found free and the start is
 * retried if one was taken meanwhile.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type Assessment, assessServer, type Topic } from '../../src/store/jetstream/server-facts.js';
import { probeNatsServer } from '../../src/store/jetstream/server-probe.js';

const natsServerBin = existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
/** Generous: a loaded CI machine starts a server in well under a second. */
const serverStartMsMax = 20_000;
/** A three-server meta group elects a leader in a few seconds. */
const clusterFormMsMax = 60_000;
/** 2.9.10 notices a lost peer within seconds and a lost quorum within about 30 s. */
const quorumLossMsMax = 90_000;

interface Server {
  readonly name: string;
  readonly child: ChildProcess;
  readonly natsUrl: string;
  readonly monitorUrl: string;
  readonly log: () => string;
}

const children = new Set<ChildProcess>();
// Last resort if the runner dies before `after`: never leave a nats-server behind.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

async function waitFor<T>(what: string, msMax: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + msMax;
  for (let delayMs = 25; ; delayMs = Math.min(delayMs * 2, 500)) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${msMax} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delayMs));
  }
}

async function readPortsFile(
  dir: string,
  pid: number,
): Promise<{ nats: string; monitor: string } | undefined> {
  const file = (await readdir(dir)).find((f) => f.endsWith(`_${pid}.ports`));
  if (file === undefined) return undefined;
  try {
    const ports = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Record<
      string,
      string[] | undefined
    >;
    const nats = ports.nats?.[0];
    const monitor = ports.monitoring?.[0];
    return nats && monitor ? { nats, monitor } : undefined;
  } catch {
    return undefined; // written but not complete yet
  }
}

async function startServer(name: string, dir: string, args: string[]): Promise<Server> {
  await mkdir(dir, { recursive: true });
  const all = [...args, '-n', name, '-a', '127.0.0.1', '-p', '-1', '-m', '-1', '--ports_file_dir', dir];
  const child = spawn(natsServerBin, all, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
  });
  const ports = await waitFor(`${name}'s ports file`, serverStartMsMax, async () => {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} exited early:\n${log}`);
    return child.pid === undefined ? undefined : readPortsFile(dir, child.pid);
  });
  return { name, child, natsUrl: ports.nats, monitorUrl: ports.monitor, log: () => log };
}

async function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = once(s.child, 'exit');
  s.child.kill('SIGKILL');
  await exited;
}

/** A port free right now: the OS picks it for a listener on port 0, which is then closed. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  server.close();
  await once(server, 'close');
  return address.port;
}

function clusterConfig(name: string, storeDir: string, routePort: number, routePorts: number[]): string {
  const routes = routePorts.map((p) => `nats-route://127.0.0.1:${p}`).join(', ');
  return [
    `server_name: ${name}`,
    `jetstream { store_dir: ${JSON.stringify(storeDir)} }`,
    `cluster { name: tandem-test, listen: 127.0.0.1:${routePort}, routes: [ ${routes} ] }`,
    '',
  ].join('\n');
}

async function startClusterOnce(root: string): Promise<Server[]> {
  const routePorts = [await freePort(), await freePort(), await freePort()];
  const servers: Server[] = [];
  try {
    for (const [i, port] of routePorts.entries()) {
      const name = `n${i + 1}`;
      const dir = path.join(root, name);
      await mkdir(dir, { recursive: true });
      const conf = path.join(dir, 'nats.conf');
      await writeFile(conf, clusterConfig(name, path.join(dir, 'store'), port, routePorts));
      servers.push(await startServer(name, dir, ['-c', conf]));
    }
    return servers;
  } catch (err) {
    await Promise.all(servers.map(stopServer));
    throw err;
  }
}

/** Starts three routed servers; a route port taken between finding and binding it means retry. */
async function startCluster(root: string): Promise<Server[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(path.join(root, `try${attempt}`));
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

interface MetaView {
  leader?: string;
  cluster_size?: number;
  replicas?: { name: string; current?: boolean; offline?: boolean }[];
}

async function metaView(s: Server): Promise<MetaView | undefined> {
  const res = await fetch(new URL('/jsz', s.monitorUrl), { signal: AbortSignal.timeout(5_000) });
  return ((await res.json()) as { meta_cluster?: MetaView }).meta_cluster;
}

/** The meta leader once all three peers are current from its point of view. */
async function formedLeader(servers: Server[]): Promise<Server> {
  return waitFor('a meta leader with all three peers current', clusterFormMsMax, async () => {
    for (const s of servers) {
      const m = await metaView(s).catch(() => undefined);
      const current = m?.replicas?.filter((r) => r.current === true && r.offline !== true).length ?? 0;
      if (m?.leader === s.name && m.cluster_size === 3 && current === 2) return s;
    }
    return undefined;
  });
}

function text(a: Assessment, topic: Topic): string[] {
  return a.statements.filter((s) => s.topic === topic).map((s) => s.text);
}

const powerCut29 =
  'fsyncs every 120 s: a site-wide power cut can lose up to 120 s of acknowledged messages; ' +
  'nats-server >= 2.10 with `jetstream { sync_interval: always }` fsyncs every write';

let root: string;
const connections: NatsConnection[] = [];
const servers: Server[] = [];

async function connectTo(s: Server): Promise<NatsConnection> {
  const nc = await connect({ servers: s.natsUrl, reconnect: false });
  connections.push(nc);
  return nc;
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tandem-probe-'));
});

after(async () => {
  await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
  await Promise.all(servers.map(stopServer));
  await rm(root, { recursive: true, force: true });
});

describe('a single nats-server with JetStream', () => {
  let server: Server;
  before(async () => {
    const dir = path.join(root, 'single');
    server = await startServer('single', dir, ['-js', '-sd', path.join(dir, 'store')]);
    servers.push(server);
  });

  test('with the monitor: one peer, nothing reported about fsync (2.9), R1 promises', async () => {
    const nc = await connectTo(server);
    const facts = await probeNatsServer(nc, { monitorUrl: server.monitorUrl, replicas: 1 });
    assert.equal(facts.version, '2.9.10');
    assert.equal(facts.jetStream, 'enabled');
    assert.equal(facts.clusterName, undefined);
    assert.deepEqual(facts.peers, { count: 1, exactness: 'exact' });
    assert.deepEqual(facts.sync, { reported: true }, '2.9 has no sync_interval or sync_always');
    const a = assessServer(facts);
    assert.equal(a.fatal, false);
    assert.deepEqual(text(a, 'replication'), [
      'a single server: losing its disk loses messages; no failover',
    ]);
    assert.match(text(a, 'fsync')[0] ?? '', /^fsyncs every 120 s: a power cut can lose up to 120 s/);
  });

  test('without the monitor: still one peer (no cluster in INFO); R3 is refused', async () => {
    const nc = await connectTo(server);
    const facts = await probeNatsServer(nc, { replicas: 3 });
    assert.deepEqual(facts.peers, { count: 1, exactness: 'exact' });
    assert.deepEqual(facts.sync, { reported: false });
    const a = assessServer(facts);
    assert.equal(a.fatal, true);
    assert.match(text(a, 'replication')[0] ?? '', /^only 1 JetStream peer for R3 streams/);
  });
});

describe('a nats-server without JetStream', () => {
  let server: Server;
  let nc: NatsConnection;
  before(async () => {
    server = await startServer('plain', path.join(root, 'plain'), []);
    servers.push(server);
    nc = await connectTo(server);
  });

  test('is fatal, with or without the monitor', async () => {
    for (const monitorUrl of [server.monitorUrl, undefined]) {
      const facts = await probeNatsServer(nc, { replicas: 1, ...(monitorUrl ? { monitorUrl } : {}) });
      assert.equal(facts.jetStream, 'disabled');
      const a = assessServer(facts);
      assert.equal(a.fatal, true);
      assert.match(text(a, 'jetstream')[0] ?? '', /^JetStream is not enabled on this nats-server/);
    }
  });

  test('a monitor URL that does not answer is a configuration error', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(probeNatsServer(nc, { monitorUrl: dead, replicas: 1 }), { code: 'TANDEM_E_CONFIG' });
  });
});

describe('a three-server JetStream cluster', { timeout: 240_000 }, () => {
  let cluster: Server[];
  let leader: Server;
  before(async () => {
    cluster = await startCluster(path.join(root, 'cluster'));
    servers.push(...cluster);
    leader = await formedLeader(cluster);
  });

  test("through the meta leader's monitor: 3 peers, all current; survives one loss; power-cut warning", async () => {
    const nc = await connectTo(leader);
    const facts = await probeNatsServer(nc, { monitorUrl: leader.monitorUrl, replicas: 3 });
    assert.equal(facts.clusterName, 'tandem-test');
    assert.deepEqual(facts.peers, { count: 3, exactness: 'exact', current: 3, leader: leader.name });
    const a = assessServer(facts);
    assert.equal(a.fatal, false);
    assert.deepEqual(text(a, 'replication'), ['survives the loss of one node (3 JetStream peers, R3)']);
    assert.deepEqual(text(a, 'fsync'), [powerCut29]);
    assert.deepEqual(text(a, 'peers'), ['all 3 JetStream peers are current']);
  });

  test("through a follower's monitor: 3 peers, which are current is unknown", async () => {
    const follower = cluster.find((s) => s !== leader)!;
    const nc = await connectTo(follower);
    const facts = await probeNatsServer(nc, { monitorUrl: follower.monitorUrl, replicas: 3 });
    assert.deepEqual(facts.peers, { count: 3, exactness: 'exact', leader: leader.name });
    assert.deepEqual(text(assessServer(facts), 'replication'), [
      'survives the loss of one node (3 JetStream peers, R3)',
    ]);
  });

  test('without the monitor: uncounted until a stream is placed, then at least 3', async () => {
    const nc = await connectTo(cluster.find((s) => s !== leader)!);
    const unplaced = await probeNatsServer(nc, { replicas: 3 });
    assert.equal(unplaced.peers, undefined);
    assert.match(text(assessServer(unplaced), 'replication')[0] ?? '', /^cannot count the JetStream peers/);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'probe-r3', subjects: ['probe.r3'], num_replicas: 3 });
    const placed = await probeNatsServer(nc, { replicas: 3 });
    assert.deepEqual(placed.peers, { count: 3, exactness: 'at-least' });
    const a = assessServer(placed);
    assert.equal(a.fatal, false);
    assert.deepEqual(text(a, 'replication'), [
      'survives the loss of one node (at least 3 JetStream peers, R3)',
    ]);
    assert.deepEqual(text(a, 'fsync'), [powerCut29]);
  });

  test('one peer killed: the leader reports 2 of 3 current', async () => {
    const victim = cluster.find((s) => s !== leader)!;
    await stopServer(victim);
    const nc = await connectTo(leader);
    const facts = await waitFor('the leader to see a peer gone', quorumLossMsMax, async () => {
      const f = await probeNatsServer(nc, { monitorUrl: leader.monitorUrl, replicas: 3 });
      return f.peers?.current === 2 ? f : undefined;
    });
    const a = assessServer(facts);
    assert.equal(a.fatal, false);
    assert.deepEqual(text(a, 'peers'), [
      'only 2 of 3 JetStream peers are current: until they return, losing one more stops writes',
    ]);
  });

  test('two peers killed: no quorum, JetStream unavailable, fatal', async () => {
    const survivor = leader;
    for (const s of cluster) if (s !== survivor) await stopServer(s);
    const nc = await connectTo(survivor);
    const facts = await waitFor('the survivor to lose its quorum', quorumLossMsMax, async () => {
      const f = await probeNatsServer(nc, { replicas: 3 });
      return f.jetStream === 'unavailable' ? f : undefined;
    });
    const a = assessServer(facts);
    assert.equal(a.fatal, true);
    assert.match(text(a, 'jetstream')[0] ?? '', /^JetStream is enabled but its API did not answer/);
  });
});
