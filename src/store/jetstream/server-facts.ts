/**
 * The honest start-up check: from facts gathered from a nats-server (server-probe.ts), say in
 * plain English what Tandem can promise with it, and whether it must refuse to start. Pure.
 *
 * Every number below comes from the nats-server source (github.com/nats-io/nats-server at the
 * tags named) or from Jepsen's 2025 NATS analysis (jepsen.io/analyses/nats-2.12.1).
 */
import { TandemError } from '../../errors.js';
import { atLeast, formatServerVersion, parseServerVersion, type ServerVersion } from './server-version.js';

/** Versions where something Tandem relies on changed. */
export const natsServerVersions = {
  /**
   * The oldest server Tandem starts with: nats.js v3's consumers API (`js.consumers.get`)
   * refuses older ones (Feature.JS_SIMPLIFICATION = "2.9.4" in @nats-io/nats-core
   * lib/semver.js); KV direct get needs 2.9.0. Tests run Debian's 2.9.10.
   */
  min: '2.9.4',
  /** `jetstream { sync_interval }` (and `sync_interval: always`) is parsed from v2.10.0 (server/opts.go). */
  syncOption: '2.10.0',
  /**
   * From v2.10.23 a stream's Raft log follows sync_interval / always (commit 601ec42, "NRG: Use
   * configured sync intervals for group stores"); before, server/jetstream_cluster.go
   * createRaftGroup hard-codes `SyncInterval: 5 * time.Minute` for it.
   */
  raftLogSync: '2.10.23',
  /** 2.10.20 to 2.10.22 could lose a whole stream after process crashes; fixed in 2.10.23 (Jepsen 2025). */
  crashLossFrom: '2.10.20',
  crashLossFixed: '2.10.23',
  /** Preferred: 2.12.3 fixed peer-removal faults found around Jepsen's 2025 analysis of 2.12.1. */
  preferred: '2.12.3',
} as const;

/** How often nats-server fsyncs, in seconds, where nobody configured it. */
export const fsyncSeconds = {
  /**
   * 2.9.x: server/stream.go addStreamWithAssignment sets `fsCfg.SyncInterval = 2 * time.Minute`
   * for every stream's message blocks. server/filestore.go's `defaultSyncInterval = 60 *
   * time.Second` only applies to stores opened without an interval (the meta group's log).
   */
  v29Stream: 120,
  /** 2.9.x to 2.10.22: a stream's Raft log, `SyncInterval: 5 * time.Minute` (createRaftGroup). */
  oldRaftLog: 300,
  /** >= 2.10.0: server/filestore.go `defaultSyncInterval = 2 * time.Minute`, set by server/opts.go when unset. */
  v210Default: 120,
} as const;

/** JetStream refuses more replicas: server/stream.go `StreamMaxReplicas = 5`. */
export const streamReplicasMax = 5;

export interface PeerFacts {
  /** Voters in the JetStream meta group: /jsz `meta_cluster.cluster_size`, 1 without a cluster. */
  count: number;
  /** 'at-least' when counted from the peers seen in stream placements (no monitor URL). */
  exactness: 'exact' | 'at-least';
  /** Peers current and online, leader included; only the meta leader's /jsz lists them. */
  current?: number;
  leader?: string;
}

export interface SyncFacts {
  /** True when the monitor's JetStream config was read; then a missing field means "not set". */
  reported: boolean;
  /** `sync_always` (>= 2.10 with `sync_interval: always`). */
  always?: boolean;
  /** `sync_interval`, in seconds. */
  intervalSeconds?: number;
}

export interface ServerFacts {
  /** INFO `version`. */
  version: string;
  /** 'unavailable': enabled, but the JetStream API did not answer (no meta leader, no quorum). */
  jetStream: 'enabled' | 'disabled' | 'unavailable';
  /** What the server or the client said when JetStream was not usable. */
  jetStreamError?: string;
  /** INFO `cluster`; absent on a server without a `cluster {}` block. */
  clusterName?: string;
  /** Undefined when they could not be counted. */
  peers?: PeerFacts;
  /** Replicas Tandem's streams are configured with. */
  replicas: number;
  sync: SyncFacts;
}

export type Level = 'ok' | 'warn' | 'fail';
export type Topic = 'version' | 'jetstream' | 'replication' | 'peers' | 'fsync';

export interface Statement {
  readonly topic: Topic;
  /** ok: a promise that holds; warn: holds within the stated limit; fail: does not hold. */
  readonly level: Level;
  readonly text: string;
  /** Tandem must not start with this server. */
  readonly fatal: boolean;
}

export interface Assessment {
  readonly fatal: boolean;
  readonly statements: readonly Statement[];
}

export function assessServer(facts: ServerFacts): Assessment {
  const version = parseServerVersion(facts.version);
  const statements: Statement[] = [...versionStatements(facts.version, version)];
  statements.push(...jetStreamStatements(facts));
  if (facts.jetStream === 'enabled') {
    statements.push(...replicationStatements(facts));
    if (version !== undefined) statements.push(fsyncStatement(facts, version));
  }
  return { fatal: statements.some((s) => s.fatal), statements };
}

/** The error Tandem stops with when the assessment is fatal; undefined when it may start. */
export function refusalError(assessment: Assessment): TandemError | undefined {
  const reasons = assessment.statements.filter((s) => s.fatal).map((s) => s.text);
  if (reasons.length === 0) return undefined;
  return new TandemError('TANDEM_E_CLUSTER', `nats-server cannot be used: ${reasons.join('; ')}`, {
    details: { statements: assessment.statements },
  });
}

/** One line per statement, "ok   text", for logs and the CLI. */
export function assessmentLines(assessment: Assessment): string[] {
  return assessment.statements.map((s) => `${s.level.padEnd(4)} ${s.text}`);
}

function statement(topic: Topic, level: Level, text: string, fatal = false): Statement {
  return { topic, level, text, fatal };
}

function versionStatements(text: string, v: ServerVersion | undefined): Statement[] {
  const { min, crashLossFrom, crashLossFixed, preferred } = natsServerVersions;
  if (v === undefined) {
    return [statement('version', 'fail', `cannot read the nats-server version "${text}"`, true)];
  }
  const name = `nats-server ${formatServerVersion(v)}`;
  if (!atLeast(v, min)) {
    const why = `older than ${min}, the oldest nats.js v3's JetStream consumers work with: upgrade`;
    return [statement('version', 'fail', `${name} is ${why}`, true)];
  }
  if (atLeast(v, crashLossFrom) && !atLeast(v, crashLossFixed)) {
    const why = `can lose a whole stream after process crashes (Jepsen 2025; fixed in ${crashLossFixed}): upgrade`;
    return [statement('version', 'fail', `${name} ${why}`)];
  }
  if (!atLeast(v, preferred)) {
    return [
      statement(
        'version',
        'warn',
        `${name}: ${preferred} or later is preferred (fixes after Jepsen's 2025 NATS analysis)`,
      ),
    ];
  }
  return [
    statement(
      'version',
      'ok',
      `${name}: at least ${preferred}, the version preferred after Jepsen's 2025 NATS analysis`,
    ),
  ];
}

function jetStreamStatements(facts: ServerFacts): Statement[] {
  const said = facts.jetStreamError === undefined ? '' : ` (${facts.jetStreamError})`;
  if (facts.jetStream === 'disabled') {
    const text = `JetStream is not enabled on this nats-server or account${said}: start it with -js or a jetstream {} block`;
    return [statement('jetstream', 'fail', text, true)];
  }
  if (facts.jetStream === 'unavailable') {
    const text = `JetStream is enabled but its API did not answer${said}: a majority of the JetStream peers must be up`;
    return [statement('jetstream', 'fail', text, true)];
  }
  return [];
}

function replicationStatements(facts: ServerFacts): Statement[] {
  const r = facts.replicas;
  if (!Number.isInteger(r) || r < 1 || r > streamReplicasMax) {
    return [statement('replication', 'fail', `replicas must be 1 to ${streamReplicasMax}, not ${r}`, true)];
  }
  const p = facts.peers;
  if (p === undefined || (p.exactness === 'at-least' && p.count < 3)) {
    return [statement('replication', 'warn', uncountedText(p, r))];
  }
  return [topologyStatement(p, r), ...currentStatements(p)];
}

function uncountedText(p: PeerFacts | undefined, r: number): string {
  const seen = p === undefined ? '' : ` (stream placements show at least ${p.count})`;
  return (
    `cannot count the JetStream peers without the monitor URL${seen}: whether it survives the loss ` +
    `of a node is unknown; R${r} streams cannot be created while fewer than ${r} peers are up`
  );
}

function topologyStatement(p: PeerFacts, r: number): Statement {
  const peers = `${p.exactness === 'at-least' ? 'at least ' : ''}${p.count} JetStream peer${p.count === 1 ? '' : 's'}`;
  if (p.exactness === 'exact' && p.count < r) {
    const text = `only ${peers} for R${r} streams: nats-server cannot place ${r} replicas; add JetStream servers or lower the replicas`;
    return statement('replication', 'fail', text, true);
  }
  if (p.count === 1) {
    return statement('replication', 'warn', 'a single server: losing its disk loses messages; no failover');
  }
  if (p.count === 2) {
    const text =
      'does not survive the loss of a node (2 JetStream peers): Raft needs a majority of its voters, 2 of 2, ' +
      'to elect a leader and commit, so losing either node stops all writes; a third voter (a witness nats-server) fixes this';
    return statement('replication', 'fail', text);
  }
  if (r === 1) {
    return statement(
      'replication',
      'warn',
      `R1 (${peers}): each message is on one node only; losing it loses them; no failover`,
    );
  }
  if (r === 2) {
    const text = `R2 does not survive the loss of a node (${peers}): a Raft group of 2 needs both to commit; use R3`;
    return statement('replication', 'fail', text);
  }
  // Raft keeps committing while a majority is up: R replicas tolerate floor((R-1)/2) losses, and
  // the meta group (stream placement, leader moves) tolerates floor((P-1)/2).
  const losses = Math.min(Math.floor((r - 1) / 2), Math.floor((p.count - 1) / 2));
  const nodes = losses === 1 ? 'one node' : `${losses} nodes`;
  return statement('replication', 'ok', `survives the loss of ${nodes} (${peers}, R${r})`);
}

function currentStatements(p: PeerFacts): Statement[] {
  if (p.current === undefined || p.exactness !== 'exact' || p.count < 2) return [];
  if (p.current >= p.count) return [statement('peers', 'ok', `all ${p.count} JetStream peers are current`)];
  const spare = p.current - (Math.floor(p.count / 2) + 1);
  const then = spare <= 0 ? 'losing one more stops writes' : `it can lose ${spare} more`;
  return [
    statement(
      'peers',
      'warn',
      `only ${p.current} of ${p.count} JetStream peers are current: until they return, ${then}`,
    ),
  ];
}

function fsyncStatement(facts: ServerFacts, v: ServerVersion): Statement {
  const clustered = facts.replicas > 1 || (facts.peers?.count ?? 1) > 1;
  const cut = clustered ? 'a site-wide power cut' : 'a power cut';
  const always = 'nats-server >= 2.10 with `jetstream { sync_interval: always }` fsyncs every write';
  if (!atLeast(v, natsServerVersions.syncOption)) {
    const n = fsyncSeconds.v29Stream;
    return statement(
      'fsync',
      'warn',
      `fsyncs every ${n} s: ${cut} can lose up to ${n} s of acknowledged messages; ${always}`,
    );
  }
  const { sync } = facts;
  if (sync.always === true) return syncAlwaysStatement(v, facts.replicas > 1);
  const set = 'set `jetstream { sync_interval: always }` to fsync every write';
  if (!sync.reported) {
    const n = fsyncSeconds.v210Default;
    const text = `cannot tell how often nats-server fsyncs without the monitor URL: by default every ${n} s, and then ${cut} can lose up to ${n} s of acknowledged messages; ${set}`;
    return statement('fsync', 'warn', text);
  }
  const n = sync.intervalSeconds ?? fsyncSeconds.v210Default;
  const which = n === fsyncSeconds.v210Default ? ' (the default)' : '';
  return statement(
    'fsync',
    'warn',
    `fsyncs every ${n} s${which}: ${cut} can lose up to ${n} s of acknowledged messages; ${set}`,
  );
}

function syncAlwaysStatement(v: ServerVersion, replicated: boolean): Statement {
  if (!replicated)
    return statement('fsync', 'ok', 'every acknowledged message is on disk (sync_interval: always)');
  if (atLeast(v, natsServerVersions.raftLogSync)) {
    return statement(
      'fsync',
      'ok',
      'every acknowledged message is on disk on a quorum of nodes (sync_interval: always)',
    );
  }
  const text =
    `every acknowledged message is on disk on the stream's leader, but before ${natsServerVersions.raftLogSync} ` +
    `the followers fsync their Raft log only every ${fsyncSeconds.oldRaftLog} s: upgrade for a quorum on disk`;
  return statement('fsync', 'warn', text);
}
