/**
 * Closed-loop MQTT load: publishers that keep a bounded number of QoS 1 publishes awaiting
 * PUBACK, each payload starting with its publish time (float64, performance.now()), and a
 * consumer that reads that time back. Publishers and consumer share one process, so the
 * clock is the same.
 */
import type { MqttClient } from 'mqtt';

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
