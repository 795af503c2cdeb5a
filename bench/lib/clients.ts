/**
 * MQTT.js clients for benchmarks: bounded connects and closes, and TCP_NODELAY on every
 * socket (MQTT.js leaves Nagle on; with it a small PUBLISH written right after a PUBACK
 * waits for the peer's delayed ACK, ~40 ms, which is the client's latency, not the broker's).
 */
import type { Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { withTimeout } from './proc.js';

const CONNECT_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;

export async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, options);
  (client.stream as Partial<Pick<Socket, 'setNoDelay'>>).setNoDelay?.(true);
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        client.once('close', () => reject(new Error(`${url} closed the connection of ${options.clientId}`)));
      }),
      CONNECT_TIMEOUT_MS,
      `connect ${options.clientId}`,
    );
  } catch (err) {
    client.end(true);
    throw err;
  }
  // An 'error' event without a listener would end the benchmark with an unhandled exception.
  client.on('error', (err) => process.stderr.write(`bench: client ${options.clientId}: ${err.message}\n`));
  return client;
}

export async function subscribe(client: MqttClient, filter: string): Promise<void> {
  const granted = await withTimeout(
    client.subscribeAsync(filter, { qos: 1 }),
    CONNECT_TIMEOUT_MS,
    `subscribe ${filter}`,
  );
  if (granted[0]?.qos !== 1) throw new Error(`subscription to ${filter} granted ${JSON.stringify(granted)}`);
}

/** Closes every client, forcibly when a graceful close does not finish in time. */
export async function closeAll(clients: readonly MqttClient[]): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      try {
        await withTimeout(c.endAsync(), CLOSE_TIMEOUT_MS, 'client close');
      } catch {
        c.end(true);
      }
    }),
  );
}
