/**
 * The tailer: an ordered consumer over the whole log stream, from its first message, that
 * hands every batch to the LogView (which skips the ones this instance appended itself).
 * At open it reads the existing log; the store is returned only once it has caught up with
 * the last message as of the open, so the first `read` already sees everything stored.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { TandemError } from '../../errors.js';
import { limits } from '../../limits.js';
import type { StoreLog } from './connection.js';
import { Follower } from './follower.js';
import type { LogView } from './log-view.js';

/** Pulls bring a few frames at a time: at least one whole frame, bounded memory. */
const framesPerPull = 4;
const catchUpCheckMs = 1000;

export async function startTailer(
  js: JetStreamClient,
  stream: string,
  view: LogView,
  frameBytesMax: number,
  log: StoreLog,
): Promise<Follower> {
  return Follower.start(js, {
    stream,
    consumer: { opt_start_seq: view.readable + 1 },
    pullBytes: framesPerPull * frameBytesMax,
    log,
    // A copy: the message's bytes may share a buffer with whatever else the socket read.
    onMessage: (m) => view.tailed(m.seq, m.seq <= view.readable ? m.data : m.data.slice()),
  });
}

/** Resolves once `view` has read up to `lastSeq`; fails if it makes no progress for a while. */
export function catchUp(view: LogView, lastSeq: number, tailer: Follower): Promise<void> {
  if (view.readable >= lastSeq) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let seen = view.readable;
    let seenAtMs = Date.now();
    const fail = (why: string) => {
      stop();
      reject(new TandemError('TANDEM_E_STORE', `opening the store: ${why}`));
    };
    const timer = setInterval(() => {
      if (view.readable !== seen) {
        seen = view.readable;
        seenAtMs = Date.now();
      } else if (Date.now() - seenAtMs > limits.jetstreamOpenStallMs) {
        fail(
          `reading the log stalled at ${view.readable} of ${lastSeq} for ${limits.jetstreamOpenStallMs} ms`,
        );
      }
    }, catchUpCheckMs);
    const unsubscribe = view.onProgress(() => {
      if (view.readable < lastSeq) return;
      stop();
      resolve();
    });
    const stop = () => {
      clearInterval(timer);
      unsubscribe();
    };
    void tailer.ended().then(() => fail('the log tailer ended while reading the log'));
  });
}

export interface TailerGuardOptions {
  /** Starts a tailer reading from `view.readable + 1`. */
  readonly start: () => Promise<Follower>;
  readonly view: LogView;
  /** The log stream's last sequence now (one JetStream API call). */
  readonly lastSeq: () => Promise<number>;
  readonly alive: () => boolean;
  readonly log: StoreLog;
}

/**
 * Keeps a tailer running for as long as the store is open. An ordered consumer recreates
 * itself after most failures, but when the server it lived on dies it can end, or stay
 * silent, and then nothing here would see another replica's appends (and our own would
 * wait for the tailer): so a tailer that ended, or that has not moved while the stream has
 * more, is replaced by a new one from where the view stands.
 */
export function guardTailer(first: Follower, o: TailerGuardOptions): { stop(): Promise<void> } {
  let current = first;
  let stopped = false;
  let seen = o.view.readable;
  let seenAtMs = Date.now();
  const replace = async (why: string): Promise<void> => {
    if (stopped || !o.alive()) return;
    o.log('warn', `store: the log tailer ${why}; starting a new one at ${o.view.readable + 1}`);
    await current.stop().catch(() => {});
    try {
      current = await o.start();
      watchEnd(current);
    } catch (err) {
      o.log('warn', `store: restarting the log tailer failed: ${String(err)}`);
    }
    seenAtMs = Date.now();
  };
  const watchEnd = (f: Follower): void => {
    void f.ended().then(() => {
      if (f === current && !f.stopped)
        setTimeout(() => void replace('ended'), limits.jetstreamWatchRestartMs);
    });
  };
  watchEnd(first);
  const timer = setInterval(() => {
    if (o.view.readable !== seen) {
      seen = o.view.readable;
      seenAtMs = Date.now();
      return;
    }
    if (Date.now() - seenAtMs < limits.jetstreamPullExpiresMs * 2) return;
    seenAtMs = Date.now();
    void o.lastSeq().then(
      (last) => (last > o.view.readable ? replace(`stalled at ${o.view.readable} of ${last}`) : undefined),
      () => {},
    );
  }, limits.jetstreamPullExpiresMs);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await current.stop();
    },
  };
}
