/**
 * Closed-loop MQTT load: publishers that keep a bounded number of QoS 1 publishes awaiting
 * PUBACK, each payload starting with its publish time (float64, performance.now()), and a
 * consumer that reads that time back. Publishers and consumer share one process, so the
 * clock is the same. `phase` is one measured (or warm-up) burst of the hub benchmarks.
 */
import type { MqttClient } from 'mqtt';
import { withTimeout } from './proc.js';
import { percentile } from './stats.js';

/** Counts what the consumer receives and how long each message took (publish time in the payload). */
export class Consumer {
  #latencies = new Float64Array(0);
  #received = 0;
  #done: (() => void) | undefined;
  lastAt = 0;

  constructor(client: MqttClient) {
    client.on('message', (_topic, payload) => {
      const now = performance.now();
      if (this.#received >= this.#latencies.length) return;
      this.#latencies[this.#received++] = now - payload.readDoubleLE(0);
      if (this.#received === this.#latencies.length) {
        this.lastAt = now;
        this.#done?.();
      }
    });
  }

  expect(count: number): Promise<Float64Array> {
    this.#latencies = new Float64Array(count);
    this.#received = 0;
    return new Promise((resolve) => {
      this.#done = () => resolve(this.#latencies);
    });
  }

  get received(): number {
    return this.#received;
  }
}

export interface Acks {
  readonly latencies: number[];
  lastAt: number;
}

/** Publishes `count` QoS 1 messages of `payloadBytes` with at most `inFlightMax` awaiting PUBACK. */
export function publishAll(
  client: MqttClient,
  topic: string,
  count: number,
  payloadBytes: number,
  acks: Acks,
  inFlightMax: number,
): Promise<void> {
  const template = Buffer.alloc(payloadBytes, 0x61);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    let inFlight = 0;
    const pump = (): void => {
      while (inFlight < inFlightMax && sent < count) {
        const payload = Buffer.from(template);
        const t0 = performance.now();
        payload.writeDoubleLE(t0, 0);
        sent++;
        inFlight++;
        client.publish(topic, payload, { qos: 1 }, (err) => {
          if (err) {
            reject(err);
            return;
          }
          acks.lastAt = performance.now();
          acks.latencies.push(acks.lastAt - t0);
          inFlight--;
          acked++;
          if (acked === count) resolve();
          else pump();
        });
      }
    };
    if (count === 0) resolve();
    else pump();
  });
}

/**
 * QoS 1 publishes each publisher keeps awaiting PUBACK. Bounded so the load is closed-loop
 * (the broker's speed sets the rate, nothing queues without limit in the client), and below
 * Tandem's ingress flow-control bound (limits.ingressPendingMessagesMax = 256), so the hub
 * never pauses a socket: what is measured is the publish path, not the back-pressure.
 */
export const IN_FLIGHT_PER_PUBLISHER = 100;
/** A phase that has not finished in this time is reported as failed (a benchmark must end). */
const PHASE_TIMEOUT_MS = 60_000;

export interface RunResult {
  /** Delivered: messages / (first publish .. last receipt at the consumer). */
  readonly msgsPerSec: number;
  /** Accepted: messages / (first publish .. last PUBACK). */
  readonly ingestPerSec: number;
  readonly e2eP50: number;
  readonly e2eP99: number;
  readonly ackP50: number;
  readonly ackP99: number;
}

/**
 * Sends `count` messages split evenly over `publishers` (publisher i on `topicOf(i)`) and
 * waits until the consumer received all of them and every PUBACK came back.
 */
export async function phase(
  consumer: Consumer,
  publishers: readonly MqttClient[],
  topicOf: (i: number) => string,
  count: number,
  payloadBytes: number,
): Promise<RunResult> {
  const received = consumer.expect(count);
  const acks: Acks = { latencies: [], lastAt: 0 };
  const start = performance.now();
  const shares = publishers.map(
    (_, i) => Math.floor(count / publishers.length) + (i < count % publishers.length ? 1 : 0),
  );
  const published = Promise.all(
    publishers.map((p, i) =>
      publishAll(p, topicOf(i), shares[i]!, payloadBytes, acks, IN_FLIGHT_PER_PUBLISHER),
    ),
  );
  const [latencies] = await withTimeout(
    Promise.all([received, published]),
    PHASE_TIMEOUT_MS,
    () => `phase of ${count} messages (${consumer.received} received, ${acks.latencies.length} acknowledged)`,
  );
  return {
    msgsPerSec: count / ((consumer.lastAt - start) / 1000),
    ingestPerSec: count / ((acks.lastAt - start) / 1000),
    e2eP50: percentile(latencies, 50),
    e2eP99: percentile(latencies, 99),
    ackP50: percentile(acks.latencies, 50),
    ackP99: percentile(acks.latencies, 99),
  };
}
