/**
 * A replicated Tandem hub for benchmarks, on 127.0.0.1: three clustered JetStream
 * nats-servers (test/support/nats-server.ts: free ports, waits for /healthz) and 1..3 hub
 * replicas (`tandem up --cluster`), each in its own process and data directory. Identities
 * are created in the replicated registry (the store's JetStream KV) before any replica
 * starts. The log stream's last sequence counts the replicated appends (one JetStream
 * message per group-committed batch), so a benchmark can tell how many messages each
 * quorum commit carried.
 */
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { IClientOptions } from 'mqtt';
import { IdentityRegistry } from '../../src/identity/registry.js';
import { openJetStreamStore } from '../../src/store/jetstream/index.js';
import { storeNames } from '../../src/store/jetstream/streams.js';
import { type NatsCluster, startNatsCluster } from '../../test/support/nats-server.js';
import {
  hubArgs,
  type Participant,
  registerIdentities,
  sasOptions,
  type TandemSetup,
  waitForHub,
  writeRoutesManifest,
} from './brokers.js';
import { Child, makeTempDir, removeTempDir } from './proc.js';

/** JetStream servers of the cluster, and copies of every stream (R3: quorum of 2). */
const NATS_SERVERS = 3;
const JETSTREAM_REPLICAS = 3;
/** The hub replicas' default store prefix, so the log stream is `TANDEM_LOG`. */
const LOG_STREAM = storeNames('TANDEM').log;

export interface ClusterHub {
  /** Plain MQTT URL of each hub replica, r0 first. */
  readonly urls: readonly string[];
  options(who: Participant): IClientOptions;
  /** The log stream's last sequence: JetStream messages (replicated appends) so far. */
  logMessages(): Promise<number>;
  /** Process ids by role, for CPU accounting. */
  pids(): { hub: (number | undefined)[]; nats: (number | undefined)[] };
  stop(): Promise<void>;
}

/** `replicas` hub replicas on a fresh 3-server JetStream cluster; r{i} lists server i first. */
export async function startClusterHub(replicas: number, setup: TandemSetup): Promise<ClusterHub> {
  const dir = makeTempDir('tandem-bench-cluster-');
  let nats: NatsCluster | undefined;
  let nc: NatsConnection | undefined;
  const hubs: Child[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(hubs.map((h) => h.stop()));
    await nc?.close().catch(() => undefined);
    await nats?.dispose();
    removeTempDir(dir);
  };
  try {
    nats = await startNatsCluster(NATS_SERVERS, path.join(dir, 'nats'));
    const servers = nats.urls;
    const keys = await createClusterIdentities(servers, setup.participants);
    const manifest = await writeRoutesManifest(dir, setup.routes);
    // Started together: each start is mostly waiting for JetStream, and they open one store.
    const ports = await Promise.all(
      Array.from({ length: replicas }, (_, i) => startReplica(i, servers, manifest, dir, hubs)),
    );
    nc = await connect({ servers: [...servers], name: 'bench-stats' });
    const jsm = await jetstreamManager(nc);
    const cluster = nats;
    return {
      urls: ports.map((p) => `mqtt://127.0.0.1:${p}`),
      options: (who) => sasOptions(keys, who),
      logMessages: async () => (await jsm.streams.info(LOG_STREAM)).state.last_seq,
      pids: () => ({ hub: hubs.map((h) => h.process.pid), nats: cluster.servers.map((s) => s.pid) }),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Opens the replicated store as a tool would, registers everyone, closes it again. */
async function createClusterIdentities(
  servers: readonly string[],
  who: readonly Participant[],
): Promise<Map<string, string>> {
  const store = await openJetStreamStore({ servers, replicas: JETSTREAM_REPLICAS, name: 'bench-admin' });
  try {
    return await registerIdentities(new IdentityRegistry(store.kv), who);
  } finally {
    await store.close();
  }
}

/** Starts replica r{i} (its own server first in --cluster); resolves with its MQTT port. */
async function startReplica(
  i: number,
  servers: readonly string[],
  manifest: string,
  dir: string,
  hubs: Child[],
): Promise<number> {
  const dataDir = path.join(dir, `r${i}`);
  const own = servers[i % servers.length]!;
  const urls = [own, ...servers.filter((s) => s !== own)].join(',');
  const args = [...hubArgs(manifest, dataDir), '--cluster', urls, '--replica', `r${i}`];
  const child = new Child(`tandem r${i}`, process.execPath, args);
  hubs.push(child);
  return waitForHub(child, dataDir);
}
