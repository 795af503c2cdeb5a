/**
 * The JetStream streams of one store (`prefix` names them, so several stores can share a
 * server, and every test gets its own): created when missing, checked when present.
 *
 *   ${prefix}_LOG               the message log: one message per group-committed batch
 *   KV_${prefix}_KV             key-value bucket `${prefix}_KV` (identities, twins, leases)
 *   KV_${prefix}_TRIM           bucket `${prefix}_TRIM`: stream -> trimmed up to seq
 *   KV_${prefix}_CKPT           bucket `${prefix}_CKPT`: consumer -> checkpoint seq
 *
 * The buckets' streams are made here (the layout nats.js and the `nats` CLI use, so both
 * can read them) rather than by nats.js' Kvm.create, so that all four get the same checks:
 * Kvm.create opens an existing bucket as it is, whatever its replicas.
 *
 * Several hub replicas open the store at once. Creating a stream whose identical twin
 * exists succeeds (JetStream makes it idempotent); a different twin fails with 10058 and is
 * then treated as existing. An existing stream with other settings is updated to ours
 * (replicas, max_bytes, duplicate window can change in place); one that cannot be (other
 * storage type, other subjects) fails the open clearly instead of running half-configured.
 */
import {
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { assert, TandemError } from '../../errors.js';
import { limits } from '../../limits.js';
import type { StoreLog } from './connection.js';
import { apiCode, isRetriable } from './failures.js';

export interface StoreNames {
  readonly log: string;
  readonly logSubject: string;
  readonly kvBucket: string;
  readonly trimBucket: string;
  readonly checkpointBucket: string;
}

const prefixPattern = /^[A-Za-z0-9_-]{1,64}$/;
const codeStreamNotFound = 10059;
const codeStreamNameInUse = 10058;

export function storeNames(prefix: string): StoreNames {
  assert(prefixPattern.test(prefix), `store prefix ${JSON.stringify(prefix)} is 1..64 of [A-Za-z0-9_-]`);
  return {
    log: `${prefix}_LOG`,
    logSubject: `tandem.${prefix}.log`,
    kvBucket: `${prefix}_KV`,
    trimBucket: `${prefix}_TRIM`,
    checkpointBucket: `${prefix}_CKPT`,
  };
}

export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

type Wanted = Partial<StreamConfig> & { name: string; subjects: string[] };

/**
 * The log: file storage, replicated, full means refuse (discard new, so nothing stored is
 * ever dropped to make room), direct gets so any replica serves reads of a batch. Its
 * duplicate window covers every retry of one batch (appender.ts), and not much more: the
 * server keeps every message id of the window in memory.
 */
export function logStreamConfig(
  names: StoreNames,
  replicas: number,
  storeBytesMax: number | undefined,
): Wanted {
  return {
    name: names.log,
    subjects: [names.logSubject],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    num_replicas: replicas,
    discard: DiscardPolicy.New,
    max_bytes: storeBytesMax ?? -1,
    max_msgs: -1,
    max_age: 0,
    max_msg_size: -1,
    allow_direct: true,
    duplicate_window: nanos(3 * limits.jetstreamAppendTimeoutMs),
  };
}

/**
 * A KV bucket as nats.js lays it out (history 1: a key's last write, or its delete marker,
 * is all that is kept). Direct gets stay off: a direct get may be answered by a replica
 * that has not yet applied a write this process saw acknowledged, and compare-and-set
 * users read, then write on that revision.
 */
export function bucketStreamConfig(bucket: string, replicas: number): Wanted {
  return {
    name: kvStreamName(bucket),
    subjects: [`$KV.${bucket}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    num_replicas: replicas,
    max_msgs_per_subject: 1,
    discard: DiscardPolicy.New,
    max_bytes: -1,
    max_msg_size: -1,
    allow_rollup_hdrs: true,
    deny_delete: true,
    allow_direct: false,
  };
}

/** Settings a running stream can take by update; anything else differing fails the open. */
const updatable: readonly (keyof StreamConfig)[] = [
  'num_replicas',
  'max_bytes',
  'discard',
  'duplicate_window',
  'allow_direct',
  'max_msgs_per_subject',
  'allow_rollup_hdrs',
  'deny_delete',
];

/** Pause between attempts to set a stream up while the cluster is not ready. */
const setupRetryPauseMs = 500;

/**
 * Creates or updates a stream. Replicas starting together on a fresh cluster meet a meta
 * leader that is still being elected, or busy placing the others' streams: a timeout or
 * "no responders" then means "not yet", and the idempotent set-up is tried again.
 */
export async function ensureStream(jsm: JetStreamManager, wanted: Wanted, log: StoreLog): Promise<void> {
  const deadline = Date.now() + limits.jetstreamOpenStallMs;
  for (;;) {
    try {
      return await ensureStreamOnce(jsm, wanted, log);
    } catch (err) {
      const cause = err instanceof TandemError && err.cause !== undefined ? err.cause : err;
      if (!isRetriable(cause) || Date.now() + setupRetryPauseMs > deadline) throw err;
      log('info', `store: stream ${wanted.name} not ready (${String(cause)}); trying again`);
      await new Promise((resolve) => setTimeout(resolve, setupRetryPauseMs));
    }
  }
}

async function ensureStreamOnce(jsm: JetStreamManager, wanted: Wanted, log: StoreLog): Promise<void> {
  let existing: StreamConfig;
  try {
    existing = (await jsm.streams.info(wanted.name)).config;
  } catch (err) {
    if (apiCode(err) !== codeStreamNotFound) throw failed(wanted, err);
    try {
      await jsm.streams.add(wanted);
      return;
    } catch (addErr) {
      if (apiCode(addErr) !== codeStreamNameInUse) throw failed(wanted, addErr);
      existing = (await jsm.streams.info(wanted.name)).config;
    }
  }
  if (existing.storage !== wanted.storage || existing.subjects?.join() !== wanted.subjects.join()) {
    throw new TandemError(
      'TANDEM_E_STORE',
      `stream ${wanted.name} exists with storage ${existing.storage} and subjects ${existing.subjects?.join(',')}; ` +
        `the store needs ${wanted.storage} and ${wanted.subjects.join(',')} (delete it or use another prefix)`,
    );
  }
  const differing = updatable.filter((k) => wanted[k] !== undefined && existing[k] !== wanted[k]);
  if (differing.length === 0) return;
  log('info', `store: updating stream ${wanted.name} (${differing.join(', ')})`);
  try {
    await jsm.streams.update(wanted.name, { ...existing, ...wanted });
  } catch (err) {
    throw failed(wanted, err);
  }
}

function failed(wanted: Wanted, err: unknown): TandemError {
  const hint =
    (wanted.num_replicas ?? 1) > 1
      ? ` (${wanted.num_replicas} replicas need a JetStream cluster of at least ${wanted.num_replicas} servers)`
      : '';
  return new TandemError(
    'TANDEM_E_STORE',
    `cannot create or update stream ${wanted.name}${hint}: ${String(err)}`,
    {
      cause: err,
    },
  );
}
