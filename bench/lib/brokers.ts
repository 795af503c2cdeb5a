/**
 * The three brokers the hub benchmarks compare, each in its own process on 127.0.0.1:
 * Tandem (`tandem up`, durable: PUBACK after fsync), Mosquitto (persistence off) and Aedes
 * (in-memory). A started broker hands out MQTT.js options for a named participant; for
 * Tandem that is an IoT Hub identity created in the hub's registry before it starts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IClientOptions } from 'mqtt';
import { IdentityRegistry } from '../../src/identity/registry.js';
import { createSasToken, deviceResourceUri } from '../../src/identity/sas.js';
import { storeDir } from '../../src/runtime/data-dir.js';
import { openEmbeddedStore } from '../../src/store/embedded/index.js';
import { Child, freePort, makeTempDir, nodeArgs, removeTempDir, repoRoot, waitForPort } from './proc.js';

export type BrokerName = 'tandem' | 'mosquitto' | 'aedes';
export const brokerNames: readonly BrokerName[] = ['tandem', 'mosquitto', 'aedes'];

/** A participant: a device (`moduleId` undefined) or a module of a device. */
export interface Participant {
  readonly deviceId: string;
  readonly moduleId?: string;
}

export interface Broker {
  readonly name: BrokerName;
  readonly url: string;
  /** The broker's process id (for CPU accounting). */
  readonly pid: number | undefined;
  /** MQTT 3.1.1, no reconnect, clean session. */
  options(who: Participant): IClientOptions;
  stop(): Promise<void>;
}

/** Settings of a Tandem run: routes of the manifest and the identities to create. */
export interface TandemSetup {
  readonly routes: Record<string, string>;
  readonly participants: readonly Participant[];
}

/**
 * Checkout whose `tandem up` the benchmarks run (TANDEM_ROOT, default this repository), e.g.
 * to compare a branch, or a patched copy when the working tree cannot start a hub. Its
 * dist/ must be built when the benchmark runs compiled.
 */
export const tandemRoot = process.env.TANDEM_ROOT ?? repoRoot;
/** Extra node flags for the hub process only, e.g. TANDEM_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'. */
export const hubNodeFlags = (process.env.TANDEM_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
export const HUB_NAME = 'bench.local';
export const EDGE_DEVICE_ID = 'edge';
export const START_TIMEOUT_MS = 30_000;
const MQTT_3_1_1 = 4;

function baseOptions(clientId: string): IClientOptions {
  return { clientId, protocolVersion: MQTT_3_1_1, reconnectPeriod: 0, connectTimeout: 10_000, clean: true };
}

export function startBroker(name: BrokerName, tandem: TandemSetup): Promise<Broker> {
  if (name === 'tandem') return startTandem(tandem);
  if (name === 'mosquitto') return startMosquitto();
  return startAedes();
}

/**
 * Creates every participant's identity in `registry`; returns their primary keys by client
 * id (`device` or `device/module`), for SAS tokens.
 */
export async function registerIdentities(
  registry: IdentityRegistry,
  who: readonly Participant[],
): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  for (const p of who) {
    if (!(await registry.get(p.deviceId)))
      keys.set(p.deviceId, (await registry.create(p.deviceId)).primaryKey);
    if (p.moduleId !== undefined) {
      const id = await registry.create(p.deviceId, p.moduleId);
      keys.set(`${p.deviceId}/${p.moduleId}`, id.primaryKey);
    }
  }
  return keys;
}

async function createIdentities(dataDir: string, who: readonly Participant[]): Promise<Map<string, string>> {
  const store = await openEmbeddedStore({ dir: storeDir(dataDir) });
  try {
    return await registerIdentities(new IdentityRegistry(store.kv), who);
  } finally {
    await store.close();
  }
}

/** MQTT.js options of a participant that authenticates to a Tandem hub with a SAS token. */
export function sasOptions(keys: ReadonlyMap<string, string>, who: Participant): IClientOptions {
  const clientId = who.moduleId === undefined ? who.deviceId : `${who.deviceId}/${who.moduleId}`;
  const key = keys.get(clientId);
  if (key === undefined) throw new Error(`no identity ${clientId} was created`);
  const resourceUri = deviceResourceUri(HUB_NAME, who.deviceId, who.moduleId);
  const password = createSasToken({ resourceUri, key, expirySec: Math.floor(Date.now() / 1000) + 3600 });
  return { ...baseOptions(clientId), username: `${HUB_NAME}/${clientId}/?api-version=2021-04-12`, password };
}

/** Writes a manifest with these routes only (no modules) into `dir`; returns its path. */
export async function writeRoutesManifest(dir: string, routes: Record<string, string>): Promise<string> {
  const manifest = path.join(dir, 'manifest.json');
  const edgeHub = { 'properties.desired': { schemaVersion: '1.1', routes } };
  await writeFile(manifest, JSON.stringify({ modulesContent: { $edgeHub: edgeHub } }));
  return manifest;
}

/**
 * `tandem up` arguments single node and cluster replicas share: loopback, free ports, this
 * benchmark's hub names, and `--no-agent`: the manifest has routes only (a manifest the agent
 * accepts needs a full `$edgeAgent`), no module runs in any benchmark, and a cluster replica
 * never runs the agent, so both modes run the same hub-only process.
 */
export function hubArgs(manifest: string, dataDir: string): string[] {
  return [
    ...hubNodeFlags,
    ...nodeArgs('src/cli/run', tandemRoot),
    'up',
    manifest,
    '--no-agent',
    '--data-dir',
    dataDir,
    '--port',
    '0',
    '--plain-port',
    '0',
    '--host',
    '127.0.0.1',
    '--hub-name',
    HUB_NAME,
    '--device-id',
    EDGE_DEVICE_ID,
  ];
}

/** Waits for the hub's banner, then reads its plain MQTT port from DIR/ports.json. */
export async function waitForHub(child: Child, dataDir: string): Promise<number> {
  await child.waitForStdout(' is up', START_TIMEOUT_MS);
  const ports = JSON.parse(await readFile(path.join(dataDir, 'ports.json'), 'utf8')) as {
    pid: number;
    mqtt: number;
  };
  if (ports.pid !== child.process.pid) throw new Error('ports.json is not from the hub just started');
  return ports.mqtt;
}

async function startTandem(setup: TandemSetup): Promise<Broker> {
  const dir = makeTempDir('tandem-bench-hub-');
  let child: Child | undefined;
  try {
    const keys = await createIdentities(dir, setup.participants);
    const manifest = await writeRoutesManifest(dir, setup.routes);
    child = new Child('tandem', process.execPath, hubArgs(manifest, dir));
    const mqttPort = await waitForHub(child, dir);
    const running = child;
    return {
      name: 'tandem',
      url: `mqtt://127.0.0.1:${mqttPort}`,
      pid: running.process.pid,
      options: (who) => sasOptions(keys, who),
      async stop() {
        try {
          await running.stop();
        } finally {
          removeTempDir(dir);
        }
      },
    };
  } catch (err) {
    await child?.stop();
    removeTempDir(dir);
    throw err;
  }
}

/**
 * Mosquitto with its defaults except: persistence off; 64 QoS 1 messages in flight to a
 * subscriber (its default is 20; Tandem's delivery window, limits.inflightWindowMessagesMax,
 * is 64); and no cap on the queue behind them (its default of 1000 would drop QoS 1
 * messages when 10 publishers x 100 in flight outrun the subscriber); TCP_NODELAY on, as
 * Tandem's listener has it.
 */
async function startMosquitto(): Promise<Broker> {
  const dir = makeTempDir('tandem-bench-mosquitto-');
  let child: Child | undefined;
  try {
    const port = await freePort();
    const conf = path.join(dir, 'mosquitto.conf');
    const lines = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_inflight_messages 64',
      'max_queued_messages 0',
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
    ];
    await writeFile(conf, `${lines.join('\n')}\n`);
    child = new Child('mosquitto', '/usr/sbin/mosquitto', ['-c', conf]);
    await waitForPort(port, START_TIMEOUT_MS);
    if (child.exited) throw new Error(`mosquitto exited: ${child.stderr}`);
    return plainBroker('mosquitto', port, child, dir);
  } catch (err) {
    await child?.stop();
    removeTempDir(dir);
    throw err;
  }
}

/** Aedes 1.x with its in-memory persistence, in its own process (bench/aedes-server.ts). */
async function startAedes(): Promise<Broker> {
  const child = new Child('aedes', process.execPath, nodeArgs('bench/aedes-server'));
  try {
    const out = await child.waitForStdout('\n', START_TIMEOUT_MS);
    const m = /aedes listening on (\d+)/.exec(out);
    if (!m?.[1]) throw new Error(`aedes-server printed '${out.trim()}'`);
    return plainBroker('aedes', Number(m[1]), child, undefined);
  } catch (err) {
    await child.stop();
    throw err;
  }
}

function plainBroker(name: BrokerName, port: number, child: Child, dir: string | undefined): Broker {
  return {
    name,
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.process.pid,
    options: (who) =>
      baseOptions(who.moduleId === undefined ? who.deviceId : `${who.deviceId}-${who.moduleId}`),
    async stop() {
      try {
        await child.stop();
      } finally {
        if (dir !== undefined) removeTempDir(dir);
      }
    },
  };
}
