/**
 * Compare-and-set on a KV key that holds on a clustered nats-server 2.9.
 *
 * NATS KV's own compare-and-set is the header "expected last subject sequence" (nats.js
 * `update`, `create`, `delete` with previousSeq). On nats-server 2.9.10 with a replicated
 * bucket the leader checks it against what it has applied, not against writes it has
 * proposed and not yet applied: three concurrent updates expecting the same revision all
 * succeeded (measured, 20 rounds of 3 racers: 60 winners instead of 20). The header
 * "expected last sequence" (of the whole stream) is checked against proposals as well
 * (20 winners of 20), so a compare-and-set here is:
 *
 *   1. read the bucket stream's last sequence L (stream info),
 *   2. read the key (its last message, a delete marker included) at revision r <= L;
 *      a key written after step 1 (r > L) means: read again;
 *   3. check the key's live revision against the expected one (else a real conflict),
 *   4. publish with "expected last sequence L" (and the per-subject header r, which a
 *      single server enforces exactly): it succeeds only if nothing at all was written to
 *      the bucket since L, so the key is still at r.
 * A write to another key in between makes step 4 fail although this key did not move: the
 * loop reads again and retries, and reports a conflict only when the key itself moved.
 * Costs one round trip more than a plain compare-and-set; used for the store's CAS writes,
 * checkpoints and trims, never for plain puts.
 *
 * A stream at last sequence 0 has nothing to expect (the server skips the check), so an
 * empty bucket first gets a reserved key whose name holds a `.`, which no escaped store key
 * does (kv-keys.ts); scans and watches skip such keys.
 */
import { headers } from '@nats-io/transport-node';
import { TandemError } from '../../errors.js';
import { limits } from '../../limits.js';
import { isConflict } from './failures.js';
import type { Bucket } from './kv-bucket.js';
import { retryUnavailable } from './retry.js';
import { kvStreamName } from './streams.js';

/** Not an escaped store key (it has a `.`): written once so the bucket's stream is never at 0. */
export const reservedKey = '_tandem.init';

export class CasConflict extends Error {
  readonly revision: number;

  constructor(revision: number) {
    super(`the key is at revision ${revision}`);
    this.revision = revision;
  }
}

/**
 * Writes `value` (undefined: a delete marker) to `key` (escaped) if the key's live revision
 * is `expected` (0: absent or deleted). Resolves with the new revision; rejects with
 * CasConflict holding the key's revision when it is not the expected one.
 */
export async function compareAndSet(
  b: Bucket,
  key: string,
  value: Uint8Array | undefined,
  expected: number,
): Promise<number> {
  const deadline = Date.now() + limits.jetstreamAppendTimeoutMs;
  for (;;) {
    const last = (await retryUnavailable(() => b.jsm.streams.info(kvStreamName(b.name)), 'read')).state
      .last_seq;
    if (last === 0) {
      await retryUnavailable(() => b.kv.put(reservedKey, new Uint8Array(0)), 'write');
      continue;
    }
    const raw = await retryUnavailable(() => b.kv.get(key), 'read');
    const live = raw && raw.operation === 'PUT' ? raw.revision : 0;
    if (live !== expected) throw new CasConflict(live);
    if (raw && raw.revision > last) continue;
    try {
      return await retryUnavailable(() => publish(b, key, value, last, raw?.revision ?? 0), 'write');
    } catch (err) {
      if (!isConflict(err)) throw err;
      if (Date.now() > deadline) {
        throw new TandemError('TANDEM_E_STORE', `kv compare-and-set: the bucket ${b.name} never held still`, {
          cause: err,
        });
      }
    }
  }
}

async function publish(
  b: Bucket,
  key: string,
  value: Uint8Array | undefined,
  lastSequence: number,
  lastSubjectSequence: number,
): Promise<number> {
  const h = headers();
  if (value === undefined) h.set('KV-Operation', 'DEL');
  const ack = await b.js.publish(`$KV.${b.name}.${key}`, value ?? new Uint8Array(0), {
    headers: h,
    expect: { lastSequence, lastSubjectSequence },
  });
  return ack.seq;
}
