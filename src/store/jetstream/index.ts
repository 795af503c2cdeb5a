/**
 * The JetStream store: the store contract (types.ts) on NATS JetStream, shared by the hub
 * replicas of a cluster. One stream holds the message log (group-committed batches, one
 * JetStream message each); three KV buckets hold the key-value map, the trims and the
 * checkpoints. Every instance indexes the whole log in memory and follows it, so it reads
 * what any replica appended. docs/architecture.md, "JetStream backend", has the design;
 * each file here does one part of it:
 *
 *   connection.ts     the NATS connection          streams.ts       streams and buckets, created/checked
 *   frame.ts          the batch format             seqs.ts          seq = stream sequence * 65536 + index
 *   appender.ts       group commit                 log-view.ts      what is readable here, in log order
 *   tailer.ts         following the log            log-index.ts     per-stream positions in memory
 *   log-reader.ts     payloads for reads           batch-cache.ts   decoded batches, LRU
 *   trims.ts          shared trims                 purger.ts        storage reclaimed below trims
 *   key-value.ts      the KV map and its watch     checkpoints.ts   monotonic checkpoints
 *   kv-keys.ts        key escaping                 kv-bucket.ts     scans, watches, monotonic numbers
 *   kv-cas.ts         compare-and-set              bucket-watcher.ts  watches that outlive their consumer
 *   follower.ts       ordered consumers            failures.ts, retry.ts  errors, riding out elections
 */
import { type JetStreamManager, jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { assert, TandemError } from '../../errors.js';
import { limits } from '../../limits.js';
import type { Checkpoints, MessageLog, Store, WatchableKeyValue } from '../types.js';
import { Appender, type AppendStats } from './appender.js';
import { BatchCache } from './batch-cache.js';
import { JetStreamCheckpoints } from './checkpoints.js';
import { connectNats, requireJetStream, type StoreLog } from './connection.js';
import { closedError, toStoreError } from './failures.js';
import { decodeFrame } from './frame.js';
import { JetStreamKeyValue } from './key-value.js';
import type { Bucket } from './kv-bucket.js';
import { LogIndex } from './log-index.js';
import { LogReader } from './log-reader.js';
import { LogView } from './log-view.js';
import { JetStreamLog } from './message-log.js';
import { Purger } from './purger.js';
import { bucketStreamConfig, ensureStream, logStreamConfig, type StoreNames, storeNames } from './streams.js';
import { catchUp, guardTailer, startTailer } from './tailer.js';
import { Trims } from './trims.js';

export type { StoreLog } from './connection.js';
export type { StoreNames } from './streams.js';

export interface JetStreamStoreOptions {
  /** nats://host:port, the local node's server first. */
  readonly servers: readonly string[];
  /** Names of the streams and buckets; default 'TANDEM' (tests use unique prefixes). */
  readonly prefix?: string;
  /** Replicas of every stream; default 3; 1 for a single server. */
  readonly replicas?: number;
  /** Cap of the message log stream (max_bytes, discard new); appends past it: TANDEM_E_STORE_FULL. */
  readonly storeBytesMax?: number;
  /**
   * Use the streams as the hub replicas made them, changing nothing (tools such as
   * `tandem identity --cluster`): an open never alters the cluster's replication or size.
   * Fails with TANDEM_E_STORE when the cluster has no Tandem store under this prefix.
   */
  readonly attach?: boolean;
  /** Connection name (the replica id), shown by the server. */
  readonly name?: string;
  readonly log?: StoreLog;
}

export interface JetStreamStoreStats extends AppendStats {
  /** Log batches fetched from the server because the cache did not have them. */
  readonly fetches: number;
  /** Stream purges this instance made to reclaim trimmed storage. */
  readonly purges: number;
  /** Bytes of decoded batches cached. */
  readonly cacheBytes: number;
  /** Stream sequence up to which this instance has read the log. */
  readonly readableSeq: number;
}

export interface JetStreamStore extends Store {
  readonly log: MessageLog & { watch(listener: (streams: readonly string[]) => void): () => void };
  readonly kv: WatchableKeyValue;
  readonly checkpoints: Checkpoints;
  /** The store's NATS connection, for core NATS use by other modules (do not close it). */
  readonly connection: NatsConnection;
  readonly names: StoreNames;
  stats(): JetStreamStoreStats;
}

/** Bytes of a log message kept free for its headers (message id, expected stream). */
const headerRoomBytes = 1024;

interface Parts {
  readonly appender: Appender;
  readonly reader: LogReader;
  readonly view: LogView;
  readonly trims: Trims;
  readonly purger: Purger;
  readonly stopTailer: () => Promise<void>;
  readonly watchers: Set<{ stop(): Promise<void> }>;
}

class Opened implements JetStreamStore {
  readonly connection: NatsConnection;
  readonly names: StoreNames;
  log!: JetStreamLog;
  kv!: JetStreamKeyValue;
  checkpoints!: JetStreamCheckpoints;
  /** Set once the open has assembled everything; the store is handed out only then. */
  parts!: Parts;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(nc: NatsConnection, names: StoreNames) {
    this.connection = nc;
    this.names = names;
  }

  readonly check = (what: string): void => {
    if (this.#closed) throw closedError(what);
  };

  readonly alive = (): boolean => !this.#closed && !this.connection.isClosed();

  stats(): JetStreamStoreStats {
    const { appender, reader, purger, view } = this.parts;
    return {
      ...appender.stats(),
      fetches: reader.fetches,
      purges: purger.purges,
      cacheBytes: view.cache.bytes,
      readableSeq: view.readable,
    };
  }

  /** Settles queued appends, stops following the log and buckets, closes the connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const p = this.parts;
      await p.appender.close();
      this.#closed = true;
      await Promise.all([
        p.purger.stop(),
        p.trims.stop(),
        p.stopTailer(),
        ...[...p.watchers].map((w) => w.stop()),
      ]);
      await this.connection.close();
    })();
    return this.#closing;
  }
}

function checkOptions(o: JetStreamStoreOptions): { replicas: number } {
  assert(Array.isArray(o.servers) && o.servers.length > 0, 'servers lists at least one NATS URL');
  const replicas = o.replicas ?? 3;
  assert(Number.isSafeInteger(replicas) && replicas >= 1 && replicas <= 5, 'replicas is 1..5');
  if (o.storeBytesMax !== undefined) {
    assert(
      Number.isSafeInteger(o.storeBytesMax) && o.storeBytesMax > 0,
      'storeBytesMax is a positive integer',
    );
  }
  return { replicas };
}

/** Connects, creates or checks the streams, reads the log, and resolves once it has caught up. */
export async function openJetStreamStore(o: JetStreamStoreOptions): Promise<JetStreamStore> {
  const { replicas } = checkOptions(o);
  const names = storeNames(o.prefix ?? 'TANDEM');
  const log: StoreLog = o.log ?? (() => undefined);
  const nc = await connectNats({ servers: o.servers, name: o.name, log });
  try {
    return await assemble({ nc, names, replicas, o, log });
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw toStoreError(err, `opening the JetStream store ${names.log}`);
  }
}

interface Opening {
  readonly nc: NatsConnection;
  readonly names: StoreNames;
  readonly replicas: number;
  readonly o: JetStreamStoreOptions;
  readonly log: StoreLog;
}

async function requireStreams(
  jsm: JetStreamManager,
  streams: readonly string[],
  prefix?: string,
): Promise<void> {
  for (const stream of streams) {
    try {
      await jsm.streams.info(stream);
    } catch (err) {
      throw new TandemError(
        'TANDEM_E_STORE',
        `no Tandem cluster store under prefix ${prefix ?? 'TANDEM'} (stream ${stream}): start a hub replica first`,
        { cause: err },
      );
    }
  }
}

/** Creates or checks the log stream and the three buckets; binds the buckets. */
async function openStreams({ nc, names, replicas, o, log }: Opening) {
  const jsm = await requireJetStream(nc, o.servers);
  const js = jetstream(nc);
  const buckets = [names.kvBucket, names.trimBucket, names.checkpointBucket];
  if (o.attach) await requireStreams(jsm, [names.log, ...buckets.map((b) => `KV_${b}`)], o.prefix);
  else
    await Promise.all([
      ensureStream(jsm, logStreamConfig(names, replicas, o.storeBytesMax), log),
      ...buckets.map((b) => ensureStream(jsm, bucketStreamConfig(b, replicas), log)),
    ]);
  const kvm = new Kvm(js);
  const [kv, trim, checkpoint] = await Promise.all(
    buckets.map(async (name): Promise<Bucket> => ({ name, kv: await kvm.open(name), js, jsm, log })),
  );
  if (nc.info!.max_payload - headerRoomBytes < limits.packetBytesMax) {
    log(
      'warn',
      `store: the NATS server's max_payload (${nc.info!.max_payload} bytes) is below one ` +
        `${limits.messageBytesMax}-byte message; larger messages will be refused as TANDEM_E_STORE_FULL`,
    );
  }
  return { jsm, js, kv: kv!, trim: trim!, checkpoint: checkpoint! };
}

async function assemble(opening: Opening): Promise<JetStreamStore> {
  const { nc, names, log } = opening;
  const { jsm, js, kv, trim, checkpoint } = await openStreams(opening);
  const { state } = await jsm.streams.info(names.log);
  // nats.js drops `info` while it reconnects; an append then must not throw (it waits for the
  // connection like any other), so the last size a server announced is kept.
  let maxPayloadBytes = nc.info!.max_payload;
  const frameBytesMax = () => {
    if (nc.info) maxPayloadBytes = nc.info.max_payload;
    return maxPayloadBytes - headerRoomBytes;
  };
  const store = new Opened(nc, names);
  const alive = store.alive;
  // Nothing below the first message exists any more: reading starts there (0 on a new stream).
  const cache = new BatchCache(limits.jetstreamBatchCacheBytesMax);
  const view = new LogView(new LogIndex(), cache, Math.max(0, state.first_seq - 1), log);
  const purger = new Purger(jsm, names.log, view, state.first_seq, log);
  const trims = new Trims({ bucket: trim, view, alive, onDropped: () => purger.schedule() });
  // Trims first: records read from the log that are already trimmed never enter the index.
  await trims.start();
  const tailer = await startTailer(js, names.log, view, frameBytesMax(), log);
  try {
    await catchUp(view, state.last_seq, tailer);
  } catch (err) {
    await Promise.all([tailer.stop(), trims.stop()]);
    throw err;
  }
  const appender = new Appender({
    publish: async (frame, msgID, timeout) =>
      (await js.publish(names.logSubject, frame, { msgID, timeout, expect: { streamName: names.log } })).seq,
    frameBytesMax,
    // Durable already; if the records are not readable here by the deadline, resolve anyway (log-view.ts).
    committed: (batchSeq, frame, deadlineMs) =>
      resolveBy(view.ownAcked(batchSeq, decodeFrame(frame)), deadlineMs - Date.now()),
    alive,
    log,
  });
  const reader = new LogReader(jsm, names.log, view, log);
  const watchers = new Set<{ stop(): Promise<void> }>();
  const check = store.check;
  const guard = guardTailer(tailer, {
    start: () => startTailer(js, names.log, view, frameBytesMax(), log),
    view,
    lastSeq: async () => (await jsm.streams.info(names.log)).state.last_seq,
    // From the stream leader (not a direct get, which a lagging replica may answer "none").
    readAt: async (seq) => (await jsm.streams.getMessage(names.log, { seq }))?.data ?? null,
    alive,
    log,
  });
  store.parts = { appender, reader, view, trims, purger, stopTailer: () => guard.stop(), watchers };
  store.log = new JetStreamLog({ appender, reader, view, trims, check });
  store.kv = new JetStreamKeyValue({ bucket: kv, check, alive, watchers });
  store.checkpoints = new JetStreamCheckpoints({ bucket: checkpoint, check });
  purger.schedule();
  return store;
}

/** `promise`, or a resolution after `ms`, whichever is first. */
function resolveBy(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms));
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
