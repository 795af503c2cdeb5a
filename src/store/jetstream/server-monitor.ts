/**
 * Reads nats-server's monitoring JSON (/varz, /jsz) into the facts the start-up check needs.
 * Pure: server-probe.ts does the HTTP. Field names are from server/monitor.go and
 * server/jetstream.go:
 *
 * - /varz `jetstream.config` and /jsz `config` are `JetStreamConfig`. 2.9.x has max_memory,
 *   max_storage, store_dir, domain, compress_ok: nothing about fsync. From 2.10.0 it adds
 *   `sync_interval` (a Go time.Duration: nanoseconds) and `sync_always`. 2.10+ fills
 *   sync_interval with the default (2 min) when unset, so it is present unless set to 0.
 * - /jsz `meta_cluster` (/varz `jetstream.meta`) is `MetaClusterInfo`: name, leader, peer,
 *   cluster_size on every server of a JetStream cluster; `replicas` (the peers other than the
 *   server answering, each with `current`, `offline`, `active`, `lag`) only on the meta
 *   leader in released versions 2.9 to 2.14 (unreleased main lists them everywhere).
 *   A JetStream server without a cluster has no `meta_cluster`; one without JetStream answers
 *   /jsz with `disabled: true`.
 */
import type { PeerFacts, SyncFacts } from './server-facts.js';

export interface MonitorFacts {
  /** /jsz said `disabled: true`. */
  readonly jetStreamDisabled: boolean;
  /** Undefined when the server reports no meta group (JetStream without a cluster, or disabled). */
  readonly peers?: PeerFacts;
  readonly sync: SyncFacts;
}

type Json = Record<string, unknown>;

function record(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/** Facts from the parsed /varz and /jsz bodies (either may be undefined if not fetched). */
export function readMonitorFacts(varz: unknown, jsz: unknown): MonitorFacts {
  const v = record(varz);
  const j = record(jsz);
  const varzJs = record(v?.jetstream);
  const config = record(varzJs?.config) ?? record(j?.config);
  const meta = record(j?.meta_cluster) ?? record(varzJs?.meta);
  const peers = meta === undefined ? undefined : readMeta(meta);
  return { jetStreamDisabled: j?.disabled === true, sync: readSync(config), ...(peers ? { peers } : {}) };
}

function readSync(config: Json | undefined): SyncFacts {
  if (config === undefined) return { reported: false };
  const sync: { reported: true; always?: boolean; intervalSeconds?: number } = { reported: true };
  if (typeof config.sync_always === 'boolean') sync.always = config.sync_always;
  // time.Duration marshals as integer nanoseconds.
  const ns = config.sync_interval;
  if (typeof ns === 'number' && ns > 0) sync.intervalSeconds = ns / 1e9;
  return sync;
}

function readMeta(meta: Json): PeerFacts | undefined {
  const size = meta.cluster_size;
  if (typeof size !== 'number' || size < 1) return undefined;
  const leader = typeof meta.leader === 'string' && meta.leader !== '' ? meta.leader : undefined;
  const peers: { count: number; exactness: 'exact'; current?: number; leader?: string } = {
    count: size,
    exactness: 'exact',
  };
  if (leader !== undefined) peers.leader = leader;
  // `replicas` are the peers other than the server answering, which counts as current (it is
  // the leader in released versions). A peer just lost can still show `current: true` with
  // `offline: true` for several seconds (seen on 2.9.10), so both flags count.
  if (leader !== undefined && Array.isArray(meta.replicas)) {
    const up = meta.replicas.map(record).filter((r) => r?.current === true && r.offline !== true);
    peers.current = 1 + up.length;
  }
  return peers;
}
