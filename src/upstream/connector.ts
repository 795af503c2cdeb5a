/**
 * The upstream connector: drains the hub's `upstream` stream to a cloud MQTT broker or a
 * parent hub, in order and at least once.
 *
 * One MQTT.js client per connection attempt, its own reconnect off; on any failure the
 * connection is dropped, the sink detached (the hub sends unacknowledged messages again to
 * the next sink, in order) and the next attempt waits an exponential, fully jittered delay
 * that resets after a successful CONNACK. While nobody consumes the stream the hub keeps the
 * messages, expiring them by their TTL. Towards a parent hub the connection is renewed with
 * a fresh SAS token before the old one expires, after letting in-flight PUBACKs arrive.
 *
 * Policy timers (retry, renewal, drain) go through the injected `timers` and `clock`, so
 * tests drive them by hand; MQTT.js keeps its own I/O timers (keepalive, CONNACK timeout).
 */
import { EventEmitter } from 'node:events';
import mqtt, {
  type IClientOptions,
  type IConnackPacket,
  type IDisconnectPacket,
  type MqttClient,
} from 'mqtt';
import type { DeliverySink } from '../hub/endpoint-delivery.js';
import type { EndpointConsumer } from '../hub/hub.js';
import type { HubMessage } from '../hub/message.js';
import { limits } from '../limits.js';
import { type Clock, systemClock } from '../util/clock.js';
import { type BackoffPolicy, backoffDelayMs } from './backoff.js';
import { attemptOptions } from './client-options.js';
import { describeTarget, type UpstreamTarget, type UpstreamTargetInfo } from './config.js';
import { formatPublication } from './publication.js';
import { UpstreamSink } from './sink.js';

/** The hub stream this connector consumes (routes `INTO $upstream`). */
export const upstreamStream = 'upstream';

/** A token is renewed once this much of its lifetime has passed: 12 minutes to spare of an hour. */
const tokenRenewAtFraction = 0.8;
/** How long closing waits for the broker to see our DISCONNECT before dropping the socket. */
const closeGraceMs = 2000;

/** `standby`: another hub replica owns `upstream` now; this one connects when it takes it over. */
export type UpstreamState = 'connected' | 'connecting' | 'backoff' | 'standby' | 'disabled';

export interface UpstreamStatus {
  readonly target: UpstreamTargetInfo;
  readonly state: UpstreamState;
  readonly lastError?: string;
  readonly lastErrorAtMs?: number;
  /** When the next attempt starts (state 'backoff'). */
  readonly nextAttemptAtMs?: number;
  /** Successful connections (CONNACK accepted) since start. */
  readonly connects: number;
  /** Failed attempts since the last successful connection. */
  readonly failures: number;
  /** Messages in the `upstream` stream not yet acknowledged by the cloud. */
  readonly queued: number;
  /** Messages the cloud acknowledged (hub metric sent{stream="upstream"}; includes refused). */
  readonly sent: number;
  /** Messages whose TTL ran out before the cloud took them (hub metric expired{stream="upstream"}). */
  readonly expired: number;
  /** Messages dropped because the receiver refused them for good or they could not be formatted. */
  readonly refused: number;
  /** Publishes awaiting PUBACK now. */
  readonly inflight: number;
}

/** The parts of the Hub the connector uses (src/hub/hub.ts). */
export interface UpstreamHub {
  consumeEndpoint(stream: string, sink: DeliverySink): EndpointConsumer;
  holdEndpoint(stream: string, holder: { granted(): void; lost(): void }): () => void;
  queueLength(stream: string): Promise<number>;
  readonly metrics: {
    readonly sent: ReadonlyMap<string, number>;
    readonly expired: ReadonlyMap<string, number>;
  };
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  // Unref'd: the listeners keep a running node alive; a pending retry must not keep a closing one.
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type UpstreamLog = (level: 'info' | 'warn', message: string) => void;

export interface UpstreamOptions {
  /** This hub's edge device id: the default client id and the `{edgeDeviceId}` placeholder. */
  readonly edgeDeviceId: string;
  readonly log?: UpstreamLog;
  /** Wall time: SAS expiries are computed from it. */
  readonly clock?: Clock;
  readonly timers?: Timers;
  /** Uniform in [0, 1); Math.random by default. */
  readonly random?: () => number;
  /** Default limits.upstreamBackoffBaseMs / upstreamBackoffMaxMs. */
  readonly backoff?: BackoffPolicy;
  /** Default limits.upstreamInflightMessagesMax. */
  readonly inflightMax?: number;
  /** Makes the MQTT client (default mqtt.connect); a seam for tests. */
  readonly connect?: (options: IClientOptions) => MqttClient;
}

/** One connection attempt and, once connected, its sink. */
interface Attempt {
  readonly client: MqttClient;
  readonly tokenExpiresAtMs: number | undefined;
  sink?: UpstreamSink;
  consumer?: EndpointConsumer;
  error?: string;
  renewing: boolean;
  timer?: unknown;
}

function describeError(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') return `${err.message} (reason 0x${code.toString(16).padStart(2, '0')})`;
  // Node 20 reports a refused connection to a name with several addresses as an AggregateError with no message.
  if (!err.message && err instanceof AggregateError)
    return err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ');
  return err.message || String(code ?? 'unknown error');
}

export class UpstreamConnector {
  /** 'state' (UpstreamState) on every change. */
  readonly events = new EventEmitter();
  readonly #hub: UpstreamHub;
  readonly #target: UpstreamTarget;
  readonly #o: UpstreamOptions;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #backoff: BackoffPolicy;
  #state: UpstreamState = 'disabled';
  #attempt: Attempt | undefined;
  #retryTimer: unknown;
  #failures = 0;
  #connects = 0;
  #refused = 0;
  #lastError: string | undefined;
  #lastErrorAtMs: number | undefined;
  #nextAttemptAtMs: number | undefined;
  #started = false;
  /** This hub owns `upstream` (always soon on one node; while it holds the lease in a cluster). */
  #owned = false;
  #unhold: (() => void) | undefined;
  #closed = false;

  constructor(hub: UpstreamHub, target: UpstreamTarget, options: UpstreamOptions) {
    this.#hub = hub;
    this.#target = target;
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    this.#backoff = options.backoff ?? {
      baseMs: limits.upstreamBackoffBaseMs,
      maxMs: limits.upstreamBackoffMaxMs,
    };
  }

  get state(): UpstreamState {
    return this.#state;
  }

  /** Starts connecting; failures are retried with backoff, never thrown. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#setState('standby');
    // Connect only while this hub owns `upstream`: in a cluster one replica at a time does,
    // so the cloud sees one connection per edge device, as it requires.
    this.#unhold = this.#hub.holdEndpoint(upstreamStream, {
      granted: () => this.#onOwned(),
      lost: () => this.#onDisowned(),
    });
  }

  #onOwned(): void {
    if (this.#owned || this.#closed) return;
    this.#owned = true;
    if (!this.#attempt && this.#retryTimer === undefined) this.#connect();
  }

  /** Another replica delivers `upstream` now: drop the connection and wait to own it again. */
  #onDisowned(): void {
    if (!this.#owned || this.#closed) return;
    this.#owned = false;
    this.#timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#nextAttemptAtMs = undefined;
    const attempt = this.#attempt;
    this.#attempt = undefined;
    if (attempt) {
      this.#release(attempt);
      attempt.client.end(true);
    }
    this.#log('info', 'another replica delivers upstream now; standing by');
    this.#setState('standby');
  }

  /** Stops for good: unacknowledged messages stay in the hub's store for the next start. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unhold?.();
    this.#timers.clearTimeout(this.#retryTimer);
    this.#nextAttemptAtMs = undefined;
    const attempt = this.#attempt;
    this.#attempt = undefined;
    if (attempt) {
      const graceful = attempt.sink !== undefined && attempt.sink.inflight === 0;
      this.#release(attempt);
      await endClient(attempt.client, !graceful);
    }
    this.#setState('disabled');
  }

  async status(): Promise<UpstreamStatus> {
    const queued = await this.#hub.queueLength(upstreamStream);
    return {
      target: describeTarget(this.#target, this.#o.edgeDeviceId),
      state: this.#state,
      ...(this.#lastError === undefined
        ? {}
        : { lastError: this.#lastError, lastErrorAtMs: this.#lastErrorAtMs }),
      ...(this.#nextAttemptAtMs === undefined ? {} : { nextAttemptAtMs: this.#nextAttemptAtMs }),
      connects: this.#connects,
      failures: this.#failures,
      queued,
      sent: this.#hub.metrics.sent.get(upstreamStream) ?? 0,
      expired: this.#hub.metrics.expired.get(upstreamStream) ?? 0,
      refused: this.#refused,
      inflight: this.#attempt?.sink?.inflight ?? 0,
    };
  }

  #setState(state: UpstreamState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.events.emit('state', state);
  }

  #log(level: 'info' | 'warn', message: string): void {
    this.#o.log?.(level, `upstream: ${message}`);
  }

  #connect(): void {
    this.#nextAttemptAtMs = undefined;
    this.#setState('connecting');
    let client: MqttClient;
    try {
      const now = this.#clock.nowMs();
      const { options, tokenExpiresAtMs } = attemptOptions(this.#target, this.#o.edgeDeviceId, now);
      client = (this.#o.connect ?? mqtt.connect)(options);
      this.#attempt = { client, tokenExpiresAtMs, renewing: false };
    } catch (err) {
      // MQTT.js refusing its options synchronously is a failed attempt like any other.
      this.#scheduleRetry(describeError(err instanceof Error ? err : new Error(String(err))), false);
      return;
    }
    const attempt = this.#attempt;
    client.on('connect', (connack: IConnackPacket) => this.#onConnected(attempt, connack));
    // Any error makes the connection untrustworthy: end it, and 'close' decides what next.
    client.on('error', (err: Error) => this.#fail(attempt, err));
    client.on('disconnect', (packet: IDisconnectPacket) =>
      this.#fail(
        attempt,
        new Error(`the server sent DISCONNECT (reason 0x${(packet.reasonCode ?? 0).toString(16)})`),
      ),
    );
    client.on('close', () => this.#onClose(attempt));
  }

  #onConnected(attempt: Attempt, connack: IConnackPacket): void {
    if (attempt !== this.#attempt || this.#closed) return;
    this.#failures = 0;
    this.#connects++;
    // The broker's Receive Maximum caps our in-flight QoS 1 publishes [MQTT-3.3.4-7].
    const windowMax = Math.min(
      this.#o.inflightMax ?? limits.upstreamInflightMessagesMax,
      connack.properties?.receiveMaximum ?? Number.POSITIVE_INFINITY,
    );
    const sink = new UpstreamSink({
      client: attempt.client,
      windowMax,
      format: (msg) => formatPublication(this.#target, this.#o.edgeDeviceId, msg),
      refused: (msg, why) => this.#onRefused(msg, why),
      failed: (err) => this.#fail(attempt, err),
      drained: () => this.#endForRenewal(attempt),
      notify: () => attempt.consumer?.notify(),
    });
    attempt.sink = sink;
    this.#setState('connected');
    this.#log('info', `connected to ${describeTarget(this.#target, this.#o.edgeDeviceId).url}`);
    if (attempt.tokenExpiresAtMs !== undefined) this.#scheduleRenewal(attempt, attempt.tokenExpiresAtMs);
    attempt.consumer = this.#hub.consumeEndpoint(upstreamStream, sink);
  }

  #onRefused(msg: HubMessage, why: string): void {
    this.#refused++;
    this.#log('warn', `message ${msg.id} refused and dropped: ${why}`);
  }

  /** Records the first error of an attempt and ends its client; 'close' follows. */
  #fail(attempt: Attempt, err: Error): void {
    if (attempt !== this.#attempt) return;
    attempt.error ??= describeError(err);
    attempt.client.end(true);
  }

  #onClose(attempt: Attempt): void {
    if (attempt !== this.#attempt) return;
    this.#attempt = undefined;
    const wasConnected = attempt.sink !== undefined;
    this.#release(attempt);
    if (this.#closed || !this.#owned) return;
    if (attempt.renewing && attempt.error === undefined) {
      this.#log('info', 'reconnecting with a fresh SAS token');
      this.#connect();
      return;
    }
    const why =
      attempt.error ?? (wasConnected ? 'the connection was closed' : 'the connection closed before CONNACK');
    this.#scheduleRetry(why, wasConnected);
  }

  /** Backs off: the n-th consecutive failure waits a jittered delay under base * 2^n (backoff.ts). */
  #scheduleRetry(why: string, wasConnected: boolean): void {
    const repeated = why === this.#lastError;
    this.#lastError = why;
    this.#lastErrorAtMs = this.#clock.nowMs();
    const delay = backoffDelayMs(this.#backoff, this.#failures, this.#o.random ?? Math.random);
    this.#failures++;
    this.#nextAttemptAtMs = this.#clock.nowMs() + delay;
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = undefined;
      if (!this.#closed && this.#owned) this.#connect();
    }, delay);
    this.#setState('backoff');
    // The same error on every retry of a long outage is news once.
    this.#log(repeated && !wasConnected ? 'info' : 'warn', `${why}; next attempt in ${delay} ms`);
  }

  /** Detaches the sink (unacknowledged messages go again to the next one) and stops its timers. */
  #release(attempt: Attempt): void {
    this.#timers.clearTimeout(attempt.timer);
    attempt.sink?.kill();
    attempt.consumer?.detach();
  }

  #scheduleRenewal(attempt: Attempt, expiresAtMs: number): void {
    const lifetimeMs = limits.upstreamSasTokenLifetimeSeconds * 1000;
    const renewInMs = Math.max(
      0,
      expiresAtMs - lifetimeMs * (1 - tokenRenewAtFraction) - this.#clock.nowMs(),
    );
    attempt.timer = this.#timers.setTimeout(() => {
      if (attempt !== this.#attempt) return;
      attempt.renewing = true;
      // Past the drain bound, unacknowledged messages are simply sent again after the reconnect.
      attempt.timer = this.#timers.setTimeout(
        () => this.#endForRenewal(attempt),
        limits.upstreamRenewDrainMsMax,
      );
      attempt.sink?.drain();
    }, renewInMs);
  }

  #endForRenewal(attempt: Attempt): void {
    if (attempt !== this.#attempt || !attempt.renewing) return;
    this.#timers.clearTimeout(attempt.timer);
    const force = attempt.sink !== undefined && attempt.sink.inflight > 0;
    // Killed first: a forced end fails the pending publishes, which must not count as a failure.
    attempt.sink?.kill();
    attempt.client.end(force);
    // A graceful end waits for the server to close its side; one that never does must not wedge us.
    attempt.timer = this.#timers.setTimeout(() => attempt.client.stream?.destroy(), closeGraceMs);
  }
}

/** Ends a client; resolves on its 'close', or drops the socket when a graceful end stalls. */
function endClient(client: MqttClient, force: boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.stream?.destroy();
      resolve();
    }, closeGraceMs);
    timer.unref();
    const finish = (): void => {
      clearTimeout(timer);
      resolve();
    };
    if (client.disconnected && !client.connected) finish();
    else client.end(force, finish);
  });
}
