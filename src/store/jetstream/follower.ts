/**
 * Reading a stream in order with an ordered consumer (nats.js' ordered pull consumer): an
 * ephemeral, unacknowledged, in-memory consumer that the client recreates from its last
 * stream sequence whenever it sees a gap, misses two idle heartbeats, or finds the consumer
 * gone after a reconnect (the server that held it may have restarted). So a follower
 * survives reconnects and leader changes without losing or repeating a message. It is what
 * the log tailer, the key-value watches and the bucket scans are made of.
 *
 * Pull requests expire after limits.jetstreamPullExpiresMs; their idle heartbeat is half
 * that, so a consumer that died with its server is recreated within about that long.
 */
import type {
  Consumer,
  ConsumerMessages,
  JetStreamClient,
  JsMsg,
  OrderedConsumerOptions,
} from '@nats-io/jetstream';
import { limits } from '../../limits.js';
import type { StoreLog } from './connection.js';

/** How long stop() waits for the consumer's deletion before leaving it to expire. */
const deleteWaitMs = 1000;

export interface FollowOptions {
  readonly stream: string;
  readonly consumer: Partial<OrderedConsumerOptions>;
  /** Bytes one pull may bring (at least the largest message), else a number of messages. */
  readonly pullBytes?: number;
  readonly onMessage: (m: JsMsg) => void;
  readonly log: StoreLog;
}

export class Follower {
  readonly #consumer: Consumer;
  readonly #messages: ConsumerMessages;
  /** Messages the consumer had to deliver when it was created. */
  readonly pendingAtStart: number;
  #stopped = false;

  private constructor(consumer: Consumer, messages: ConsumerMessages, pendingAtStart: number) {
    this.#consumer = consumer;
    this.#messages = messages;
    this.pendingAtStart = pendingAtStart;
  }

  static async start(js: JetStreamClient, o: FollowOptions): Promise<Follower> {
    const consumer = await js.consumers.get(o.stream, { ...o.consumer });
    const info = await consumer.info(true);
    const callback = (m: JsMsg) => {
      try {
        o.onMessage(m);
      } catch (err) {
        // A throw would end nats.js' consume loop; the message is lost to us either way.
        o.log('warn', `store: handling message ${m.seq} of ${o.stream} failed: ${String(err)}`);
      }
    };
    const expires = limits.jetstreamPullExpiresMs;
    const messages = await consumer.consume(
      o.pullBytes ? { callback, max_bytes: o.pullBytes, expires } : { callback, max_messages: 256, expires },
    );
    return new Follower(consumer, messages, info.num_pending);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Resolves when the consumer ends: after stop(), or by itself (closed connection, failure). */
  ended(): Promise<void> {
    return this.#messages.closed().then(
      () => undefined,
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#messages.stop();
    await this.ended();
    // Ordered consumers also expire on the server when idle; deleting frees them at once,
    // but a close while disconnected must not wait for the request to time out.
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deleteWaitMs);
    });
    await Promise.race([this.#consumer.delete().catch(() => undefined), giveUp]);
    clearTimeout(timer);
  }
}
