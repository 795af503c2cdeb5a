/**
 * A device written with the official Azure IoT device SDK (MQTT over TLS), unmodified: it
 * sends telemetry {"sender","seq"} one message at a time, at `ratePerSec`. It finds the hub
 * by the connection string's GatewayHostName, which the lab's hosts file maps to every
 * replica: when its replica dies, the SDK's own reconnect resolves the name again and Node
 * tries the addresses in turn. Lines as the MQTT.js publisher's: connect / close / error,
 * sent {seq}, ack {seq}; on SIGTERM end {sent, acked}. A send the SDK gives up on is sent
 * again with the same seq, so nothing is skipped.
 */
import { readFileSync } from 'node:fs';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { emit } from './common.js';

const { Client, Message } = deviceSdk;
const { Mqtt } = mqttTransport;

export interface SdkDeviceConfig {
  readonly connectionString: string;
  readonly caFile: string;
  readonly sender: string;
  readonly ratePerSec: number;
  /** MQTT keepalive; the SDK's default of 180 s would leave a cut connection unnoticed for minutes. */
  readonly keepaliveSec: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as SdkDeviceConfig;
const client = Client.fromConnectionString(config.connectionString, Mqtt);
const intervalMs = 1000 / config.ratePerSec;
let sent = 0;
let acked = 0;
let stopping = false;

client.on('disconnect', () => emit('close'));
client.on('error', (e: Error) => emit('error', { message: e.message }));

process.once('SIGTERM', () => {
  stopping = true;
  emit('end', { sent, acked });
  process.exit(0);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The SDK's first open is not retried by the SDK itself: try until one succeeds. */
async function open(): Promise<void> {
  await client.setOptions({ ca: readFileSync(config.caFile, 'utf8'), keepalive: config.keepaliveSec });
  for (;;) {
    try {
      await client.open();
      emit('connect');
      return;
    } catch (err) {
      emit('error', { message: (err as Error).message });
      await sleep(300);
    }
  }
}

async function sendUntilAcked(seq: number): Promise<void> {
  for (;;) {
    try {
      await client.sendEvent(new Message(JSON.stringify({ sender: config.sender, seq })));
      acked++;
      emit('ack', { seq });
      return;
    } catch (err) {
      emit('error', { seq, message: (err as Error).message });
      await sleep(300);
    }
  }
}

await open();
for (let seq = 1; !stopping; seq++) {
  const startedAt = Date.now();
  sent++;
  emit('sent', { seq });
  await sendUntilAcked(seq);
  await sleep(Math.max(0, intervalMs - (Date.now() - startedAt)));
}
