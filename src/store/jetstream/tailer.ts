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
  /** The log message at `seq` from the stream leader; null when it is gone (purged). */
  readonly readAt: (seq: number) => Promise<Uint8Array | null>;
  readonly alive: () => boolean;
  readonly log: StoreLog;
}

/**
 * Keeps a tailer running for as long as the store is open. An ordered consumer recreates
 * itself after most failures, but when the server it lived on dies it can end, or stay
 * silent, and then nothing here would see another replica's appends (and our own would
 * wait for the tailer): so a tailer that ended, or that has not moved while the stream has
 * more, is replaced by a new one from where the view stands.
 *
 * Creating that consumer can itself keep failing: on nats-server 2.9.10, after a node was
 * killed, a surviving replica's consumer creates timed out for minutes while the stream
 * answered every other request. Until one succeeds, the log is read past the view a message
 * at a time from the stream leader (limits.jetstreamTailerPollMs apart), so delivery goes on.
 */
export function guardTailer(first: Follower, o: TailerGuardOptions): { stop(): Promise<void> } {
  let current = first;
  let stopped = false;
  let polling = false;
  let seen = o.view.readable;
  let seenAtMs = Date.now();
  const restart = async (): Promise<boolean> => {
    await current.stop().catch(() => {});
    try {
      current = await o.start();
      watchEnd(current);
      return true;
    } catch (err) {
      o.log('warn', `store: restarting the log tailer failed: ${String(err)}`);
      return false;
    }
  };
  const replace = async (why: string): Promise<void> => {
    if (stopped || polling || !o.alive()) return;
    o.log('warn', `store: the log tailer ${why}; starting a new one at ${o.view.readable + 1}`);
    if (!(await restart())) void poll();
    seenAtMs = Date.now();
  };
  const poll = async (): Promise<void> => {
    polling = true;
    o.log('warn', 'store: reading the log by single reads until a tailer starts again');
    let nextTryMs = Date.now() + limits.jetstreamPullExpiresMs * 2;
    while (!stopped && o.alive()) {
      await readPast(o).catch(() => {});
      if (Date.now() >= nextTryMs) {
        if (await restart()) break;
        nextTryMs = Date.now() + limits.jetstreamPullExpiresMs * 2;
      }
      await new Promise((resolve) => setTimeout(resolve, limits.jetstreamTailerPollMs));
    }
    polling = false;
    seen = o.view.readable;
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
    if (polling || Date.now() - seenAtMs < limits.jetstreamPullExpiresMs * 2) return;
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

/** Reads every message between the view and the stream's last one, in order, into the view. */
async function readPast(o: TailerGuardOptions): Promise<void> {
  const last = await o.lastSeq();
  while (o.view.readable < last && o.alive()) {
    const seq = o.view.readable + 1;
    const data = await o.readAt(seq);
    if (data === null) o.view.gone(seq);
    else o.view.tailed(seq, data); // a buffer of its own (decoded from the API's answer)
  }
}
