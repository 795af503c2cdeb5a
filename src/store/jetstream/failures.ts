/**
 * What nats.js throws, as TandemErrors, and which failures a publish may retry.
 *
 * - JetStream API error 10077 is the stream's store refusing a message: with our stream
 *   configuration (discard new) that is "maximum bytes exceeded" (storeBytesMax), or the
 *   server's storage limits; 10047 is "insufficient resources" (the server's JetStream
 *   storage is exhausted). Both mean full: TANDEM_E_STORE_FULL, nothing of the message stored.
 * - A message over max_payload (nats.js refuses it before sending) or over the stream's
 *   max_msg_size (10054) is also refused whole: TANDEM_E_STORE_FULL, as the design asks.
 * - 10071 (and 10164) "wrong last sequence" is a lost compare-and-set: TANDEM_E_STORE_CONFLICT.
 * - No responders (nats.js reports it as JetStreamNotEnabled on a publish), a timeout, and
 *   10008 "JetStream system temporarily unavailable" happen while a stream elects a leader
 *   (measured: ~4 s of no responders after SIGKILL of the leader) or while reconnecting:
 *   nothing was stored, or the ack was lost; a publish retries them with the same message id.
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import { InvalidArgumentError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { TandemError } from '../../errors.js';

const codeStoreFailed = 10077;
const codeInsufficientResources = 10047;
const codeMessageTooBig = 10054;
const codeWrongLastSequence = 10071;
const codeWrongLastSequenceUnknown = 10164;
const codeTemporarilyUnavailable = 10008;

export function apiCode(err: unknown): number | undefined {
  return err instanceof JetStreamApiError ? err.code : undefined;
}

export function isFull(err: unknown): boolean {
  const code = apiCode(err);
  if (code === codeStoreFailed || code === codeInsufficientResources || code === codeMessageTooBig)
    return true;
  return err instanceof InvalidArgumentError && /max_payload/.test(err.message);
}

export function isConflict(err: unknown): boolean {
  const code = apiCode(err);
  return code === codeWrongLastSequence || code === codeWrongLastSequenceUnknown;
}

/** The error or one of its causes (nats.js wraps a publish's "no responders" in JetStreamNotEnabled). */
function inChain(err: unknown, test: (e: unknown) => boolean): boolean {
  for (let e = err, depth = 0; e !== undefined && depth < 5; depth++) {
    if (test(e)) return true;
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

/** Nobody answered: the request did nothing (no stream leader, or no JetStream at all). */
export function isNoResponders(err: unknown): boolean {
  return inChain(err, (e) => e instanceof RequestError && e.isNoResponders());
}

/** Failures after which the same publish may be sent again (see top). */
export function isRetriable(err: unknown): boolean {
  if (isNoResponders(err) || inChain(err, (e) => e instanceof TimeoutError)) return true;
  return apiCode(err) === codeTemporarilyUnavailable;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** TandemErrors pass through; a full store or a lost CAS keeps its meaning; the rest is TANDEM_E_STORE. */
export function toStoreError(err: unknown, what: string): TandemError {
  if (err instanceof TandemError) return err;
  if (isFull(err)) {
    return new TandemError('TANDEM_E_STORE_FULL', `${what}: the JetStream log is full (${messageOf(err)})`, {
      cause: err,
      details: { reason: 'store' },
    });
  }
  if (isConflict(err)) {
    return new TandemError('TANDEM_E_STORE_CONFLICT', `${what}: ${messageOf(err)}`, { cause: err });
  }
  return new TandemError('TANDEM_E_STORE', `${what} failed: ${messageOf(err)}`, { cause: err });
}

export function closedError(what: string): TandemError {
  return new TandemError('TANDEM_E_STORE', `${what}: the store is closed`);
}
