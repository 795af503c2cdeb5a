/**
 * Gathers the facts the start-up check (server-facts.ts) judges, from one connected
 * nats-server: its INFO, the JetStream API, and, when given, its monitoring endpoint.
 *
 * Where the JetStream peer count comes from, most reliable first:
 * 1. /jsz `meta_cluster.cluster_size` (monitor URL given): the meta group's size, exact. Only
 *    the meta leader lists which peers are current, so from a follower `current` stays unknown.
 * 2. No `cluster` in INFO: a server without a cluster block runs JetStream alone: 1 peer.
 * 3. Otherwise the peers that hold the account's stream replicas (`cluster.leader` and
 *    `cluster.replicas` of each stream's info): a lower bound, and nothing before the first
 *    stream exists. The JetStream account info ($JS.API.INFO) says nothing about peers.
 * INFO `connect_urls` is not used: it lists every server of the cluster that advertises a
 *    client URL, JetStream or not, is empty with `no_advertise`, and is only as fresh as the
 *    last INFO.
 */
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { assert, TandemError } from '../../errors.js';
import type { PeerFacts, ServerFacts, SyncFacts } from './server-facts.js';
import { type MonitorFacts, readMonitorFacts } from './server-monitor.js';

/** A local monitoring endpoint answers in milliseconds; longer means it is not there. */
const monitorRequestMsMax = 5_000;
/** The JetStream API answers in milliseconds; a cluster without a meta leader never does. */
const jsApiRequestMsMax = 5_000;
/** Stream infos read to find the peers without a monitor URL: one API page. */
const streamsScannedMax = 256;

export interface ProbeOptions {
  /**
   * The monitoring base URL (its `http` listener, e.g. http://127.0.0.1:8222) of the same
   * nats-server `nc` is connected to: fsync settings are per server, and the version is read
   * from `nc`. nats.js shuffles its server list unless `noRandomize: true`.
   */
  monitorUrl?: string;
  /** Replicas Tandem's streams are configured with. */
  replicas: number;
}

export async function probeNatsServer(nc: NatsConnection, options: ProbeOptions): Promise<ServerFacts> {
  const info = nc.info;
  assert(info !== undefined, 'a connected NatsConnection has the server INFO');
  const monitor = options.monitorUrl === undefined ? undefined : await readMonitor(options.monitorUrl);
  const off =
    info.jetstream !== true
      ? 'the server does not advertise JetStream'
      : monitor?.jetStreamDisabled === true
        ? '/jsz says JetStream is disabled'
        : undefined;
  const js = await openJetStream(nc, off);
  const facts: ServerFacts = {
    version: info.version,
    jetStream: js.state,
    replicas: options.replicas,
    sync: monitor?.sync ?? ({ reported: false } satisfies SyncFacts),
  };
  if (js.error !== undefined) facts.jetStreamError = js.error;
  if (info.cluster !== undefined && info.cluster !== '') facts.clusterName = info.cluster;
  if (js.jsm !== undefined) {
    // With JetStream working, a monitor that shows no meta group means JetStream runs alone.
    const peers = monitor ? (monitor.peers ?? alone) : await peersWithoutMonitor(js.jsm, facts.clusterName);
    if (peers !== undefined) facts.peers = peers;
  }
  return facts;
}

const alone: PeerFacts = { count: 1, exactness: 'exact' };

interface JetStreamAccess {
  state: ServerFacts['jetStream'];
  error?: string;
  jsm?: JetStreamManager;
}

/** Asks the JetStream API for the account info: it answers only where JetStream works. */
async function openJetStream(nc: NatsConnection, off: string | undefined): Promise<JetStreamAccess> {
  if (off !== undefined) return { state: 'disabled', error: off };
  const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: jsApiRequestMsMax });
  try {
    await jsm.getAccountInfo();
    return { state: 'enabled', jsm };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // nats.js raises JetStreamNotEnabled for "no responders" and for API error 10039
    // (JetStream not enabled for the account); anything else (10008 "temporarily
    // unavailable", a timeout) means enabled but without a working meta group.
    if (err instanceof Error && err.name === 'JetStreamNotEnabled') {
      return { state: 'disabled', error: message };
    }
    return { state: 'unavailable', error: message };
  }
}

async function readMonitor(monitorUrl: string): Promise<MonitorFacts> {
  const [varz, jsz] = await Promise.all([getJson(monitorUrl, 'varz'), getJson(monitorUrl, 'jsz')]);
  return readMonitorFacts(varz, jsz);
}

async function getJson(monitorUrl: string, path: string): Promise<unknown> {
  const base = monitorUrl.endsWith('/') ? monitorUrl : `${monitorUrl}/`;
  const url = new URL(path, base);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(monitorRequestMsMax) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return await res.json();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new TandemError('TANDEM_E_CONFIG', `nats-server monitor ${url.href} did not answer: ${why}`, {
      cause: err,
      details: { monitorUrl },
    });
  }
}

async function peersWithoutMonitor(
  jsm: JetStreamManager,
  clusterName: string | undefined,
): Promise<PeerFacts | undefined> {
  if (clusterName === undefined) return alone;
  const all = new Set<string>();
  let scanned = 0;
  try {
    for await (const si of jsm.streams.list()) {
      const c = si.cluster;
      if (c?.leader !== undefined && c.leader !== '') all.add(c.leader);
      for (const r of c?.replicas ?? []) all.add(r.name);
      scanned++;
      if (scanned >= streamsScannedMax) break;
    }
  } catch {
    // A lower bound only: a listing that fails (meta leader just lost) leaves the count unknown,
    // which the assessment says plainly. Whether JetStream works was decided by the account info.
    return undefined;
  }
  return all.size === 0 ? undefined : { count: all.size, exactness: 'at-least' };
}
