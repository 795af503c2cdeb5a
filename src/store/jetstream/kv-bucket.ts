/**
 * The parts of a NATS KV bucket the store needs beyond nats.js' KV client: reading every
 * current entry (a scan), following changes (a watch that knows when the initial entries
 * are through), and a monotonic number per key (checkpoints, trims).
 *
 * Scans and watches are ordered consumers on the bucket's stream with "last per subject"
 * delivery: one message per key, its last write or its delete marker, then (a watch) every
 * later write in stream order, which is revision order. nats.js' own KV watch is not used
 * because it cannot tell when the initial entries are through on an empty bucket (the
 * contract resolves a watch once they are), and keys() plus a get per key costs a round trip
 * per key.
 */
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { KV, KvEntry } from '@nats-io/kv';
import type { StoreLog } from './connection.js';
import { Follower } from './follower.js';
import { CasConflict, compareAndSet } from './kv-cas.js';
import { retryUnavailable } from './retry.js';
import { kvStreamName } from './streams.js';

/** One bucket and what it is used through. */
export interface Bucket {
  readonly name: string;
  readonly kv: KV;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly log: StoreLog;
}

/** One key's state: `value` undefined when deleted or purged. Keys are escaped (kv-keys.ts). */
export interface RawEntry {
  readonly key: string;
  readonly revision: number;
  readonly value: Uint8Array | undefined;
}

const operationHeader = 'KV-Operation';

/** Store keys are escaped and never hold a `.`; keys that do are the backend's own (kv-cas.ts). */
function isStoreKey(key: string): boolean {
  return !key.includes('.');
}

function toRawEntry(bucket: string, m: JsMsg): RawEntry {
  const op = m.headers?.get(operationHeader) ?? '';
  const deleted = op === 'DEL' || op === 'PURGE';
  return {
    key: m.subject.slice(`$KV.${bucket}.`.length),
    revision: m.seq,
    value: deleted ? undefined : m.data,
  };
}

function lastPerKey(bucket: string) {
  return { filter_subjects: `$KV.${bucket}.>`, deliver_policy: DeliverPolicy.LastPerSubject };
}

/** Live entries of the bucket (deleted keys left out), in no particular order: a watch's first part. */
export async function scanBucket(b: Bucket): Promise<RawEntry[]> {
  const entries = new Map<string, RawEntry>();
  const follower = await watchBucket(b, (e, initial) => {
    if (!initial) return;
    // A key written during the scan comes again, later: the last word counts.
    if (e.value === undefined) entries.delete(e.key);
    else entries.set(e.key, e);
  });
  await follower.stop();
  return [...entries.values()];
}

/**
 * Follows the bucket: `onEntry(entry, true)` for every live entry, then `onEntry(entry,
 * false)` for every later change, deletes included. Resolves once the initial entries are
 * through. The caller restarts it if it ends without stop() (see `Follower.ended`).
 */
export async function watchBucket(
  b: Bucket,
  onEntry: (entry: RawEntry, initial: boolean) => void,
): Promise<Follower> {
  let delivered = 0;
  let initialCount = Number.POSITIVE_INFINITY;
  let initial = true;
  const seen = new Set<string>();
  let ready: () => void = () => undefined;
  const initialDone = new Promise<void>((resolve) => {
    ready = () => {
      initial = false;
      resolve();
    };
  });
  const follower = await Follower.start(b.js, {
    stream: kvStreamName(b.name),
    consumer: lastPerKey(b.name),
    log: b.log,
    onMessage: (m) => {
      delivered++;
      const e = toRawEntry(b.name, m);
      if (isStoreKey(e.key) && (!initial || e.value !== undefined || seen.has(e.key))) {
        // During the snapshot a delete is news only for a key whose entry already went out.
        if (initial && e.value === undefined) seen.delete(e.key);
        else if (initial) seen.add(e.key);
        onEntry(e, initial);
      }
      // Through the snapshot's count, or nothing more pending (keys written meanwhile replace theirs).
      if (initial && (delivered >= initialCount || m.info.pending === 0)) ready();
    },
  });
  initialCount = follower.pendingAtStart;
  if (initial && delivered >= initialCount) ready();
  await Promise.race([initialDone, follower.ended()]);
  if (initial) {
    await follower.stop();
    throw new Error(`the watch of bucket ${b.name} ended before its current entries were through`);
  }
  return follower;
}

/** A key's live entry, or undefined when it is absent, deleted or purged. */
export async function getLive(kv: KV, key: string): Promise<KvEntry | undefined> {
  const e = await retryUnavailable(() => kv.get(key), 'read');
  return e && e.operation === 'PUT' ? e : undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeNumber(n: number): Uint8Array {
  return encoder.encode(String(n));
}

export function decodeNumber(value: Uint8Array): number {
  const n = Number(decoder.decode(value));
  return Number.isSafeInteger(n) ? n : 0;
}

/**
 * Raises the number under `key` to `value`; a lower or equal value changes nothing. A
 * compare-and-set on the key's revision (kv-cas.ts), again when another writer moved it
 * meanwhile, so two writers never move it back.
 */
export async function setMonotonic(b: Bucket, key: string, value: number): Promise<void> {
  for (;;) {
    const current = await getLive(b.kv, key);
    if (current && decodeNumber(current.value) >= value) return;
    try {
      await compareAndSet(b, key, encodeNumber(value), current?.revision ?? 0);
      return;
    } catch (err) {
      if (!(err instanceof CasConflict)) throw err;
    }
  }
}
