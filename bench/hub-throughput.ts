/**
 * Hub throughput and latency: devices publish QoS 1 telemetry, a route takes it to a module
 * input, and one module consumes that input at QoS 1. The same load runs against Tandem
 * (durable: PUBACK after fsync), Mosquitto (persistence off) and Aedes (in-memory), each in
 * its own process, interleaved, repeated; the tables show medians over the repetitions.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/hub-throughput.js
 *   node --import tsx bench/hub-throughput.ts [--messages 30000] [--reps 3] [--brokers tandem,aedes]
 *
 * Per run: a fresh broker (Tandem: fresh data dir), one consumer subscribed at QoS 1, then
 * `publishers` clients (each its own device identity) send a warm-up of messages/10, then
 * `messages` more, split evenly. Throughput = messages / (first publish .. last receipt).
 * Ingest = messages / (first publish .. last PUBACK): what the broker accepts; when it is
 * above throughput, a backlog builds and end-to-end latency grows with the run's length.
 * End-to-end latency: publish time carried in the payload, read at the consumer. PUBACK
 * latency: publish call to MQTT.js's QoS 1 callback. All clients live in this process.
 */
import { parseArgs } from 'node:util';
import type { MqttClient } from 'mqtt';
import {
  type Broker,
  type BrokerName,
  brokerNames,
  EDGE_DEVICE_ID,
  type Participant,
  startBroker,
} from './lib/brokers.js';
import { closeAll, connect, subscribe } from './lib/clients.js';
import { Consumer, IN_FLIGHT_PER_PUBLISHER, phase, type RunResult } from './lib/load.js';
import { machineLine } from './lib/machine.js';
import { watchdog } from './lib/proc.js';
import { fmt, markdownTable, median } from './lib/stats.js';

const WHOLE_RUN_TIMEOUT_MS = 15 * 60_000;
const ROUTE =
  'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/bench/inputs/in")';
const CONSUMER: Participant = { deviceId: EDGE_DEVICE_ID, moduleId: 'bench' };
const PUBLISHERS_MAX = 10;

interface Config {
  readonly payloadBytes: number;
  readonly publishers: number;
}

const configs: readonly Config[] = [
  { payloadBytes: 100, publishers: 1 },
  { payloadBytes: 100, publishers: 10 },
  { payloadBytes: 1024, publishers: 1 },
  { payloadBytes: 1024, publishers: 10 },
];

function device(i: number): Participant {
  return { deviceId: `dev${i}` };
}

function topics(broker: BrokerName): { publish: (i: number) => string; subscribe: string } {
  if (broker === 'tandem') {
    return {
      publish: (i) => `devices/${device(i).deviceId}/messages/events/`,
      subscribe: `devices/${EDGE_DEVICE_ID}/modules/bench/inputs/#`,
    };
  }
  return { publish: () => 'bench/in', subscribe: 'bench/in' };
}

async function runOnce(name: BrokerName, config: Config, messages: number): Promise<RunResult> {
  const participants = [CONSUMER, ...Array.from({ length: PUBLISHERS_MAX }, (_, i) => device(i))];
  const broker: Broker = await startBroker(name, { routes: { toBench: ROUTE }, participants });
  const clients: MqttClient[] = [];
  try {
    const t = topics(name);
    const sub = await connect(broker.url, broker.options(CONSUMER));
    clients.push(sub);
    const consumer = new Consumer(sub);
    await subscribe(sub, t.subscribe);
    const pubs: MqttClient[] = [];
    for (let i = 0; i < config.publishers; i++)
      pubs.push(await connect(broker.url, broker.options(device(i))));
    clients.push(...pubs);
    await phase(consumer, pubs, t.publish, Math.ceil(messages / 10), config.payloadBytes);
    return await phase(consumer, pubs, t.publish, messages, config.payloadBytes);
  } finally {
    await closeAll(clients);
    await broker.stop();
  }
}

function key(name: BrokerName, c: Config): string {
  return `${name}|${c.payloadBytes}|${c.publishers}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '30000' },
      reps: { type: 'string', default: '3' },
      brokers: { type: 'string', default: brokerNames.join(',') },
    },
  });
  const messages = Number(values.messages);
  const reps = Number(values.reps);
  const names = values.brokers
    .split(',')
    .filter((n): n is BrokerName => (brokerNames as string[]).includes(n));
  if (!(messages > 0 && reps > 0 && names.length > 0)) throw new Error('bad --messages, --reps or --brokers');
  watchdog(WHOLE_RUN_TIMEOUT_MS, 'hub-throughput');
  process.stdout.write(`hub-throughput: ${machineLine()}\n`);
  process.stdout.write(
    `${messages} messages per run after ${Math.ceil(messages / 10)} warm-up, ${IN_FLIGHT_PER_PUBLISHER} in flight per publisher, ${reps} reps\n\n`,
  );
  const results = new Map<string, RunResult[]>();
  const failures: string[] = [];
  const began = Date.now();
  for (let rep = 1; rep <= reps; rep++) {
    for (const config of configs) {
      for (const name of names) {
        const label = `rep ${rep} ${name} ${config.payloadBytes} B x ${config.publishers}`;
        try {
          const r = await runOnce(name, config, messages);
          results.set(key(name, config), [...(results.get(key(name, config)) ?? []), r]);
          process.stderr.write(
            `${label}: ${fmt(r.msgsPerSec)} msg/s (ingest ${fmt(r.ingestPerSec)}), e2e p50 ${fmt(r.e2eP50, 2)} p99 ${fmt(r.e2eP99, 2)} ms, ` +
              `puback p50 ${fmt(r.ackP50, 2)} p99 ${fmt(r.ackP99, 2)} ms\n`,
          );
        } catch (err) {
          failures.push(`${label}: ${err instanceof Error ? err.message : String(err)}`);
          process.stderr.write(`FAILED ${failures.at(-1)}\n`);
        }
      }
    }
  }
  printTables(names, results);
  process.stdout.write(`\ntotal ${((Date.now() - began) / 1000).toFixed(0)} s\n`);
  if (failures.length > 0) {
    process.stdout.write(`\nfailed runs:\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

function printTables(names: readonly BrokerName[], results: Map<string, RunResult[]>): void {
  const med = (name: BrokerName, c: Config, pick: (r: RunResult) => number): number =>
    median((results.get(key(name, c)) ?? []).map(pick));
  const rows = configs.flatMap((c) =>
    names.map((name) => {
      const runs = results.get(key(name, c)) ?? [];
      return [
        `${c.payloadBytes} B`,
        String(c.publishers),
        name,
        fmt(med(name, c, (r) => r.msgsPerSec)),
        runs.map((r) => fmt(r.msgsPerSec)).join(' / '),
        fmt(med(name, c, (r) => r.ingestPerSec)),
        fmt(
          med(name, c, (r) => r.e2eP50),
          2,
        ),
        fmt(
          med(name, c, (r) => r.e2eP99),
          2,
        ),
        fmt(
          med(name, c, (r) => r.ackP50),
          2,
        ),
        fmt(
          med(name, c, (r) => r.ackP99),
          2,
        ),
      ];
    }),
  );
  const headers = [
    'payload',
    'publishers',
    'broker',
    'msg/s (median)',
    'msg/s (each run)',
    'ingest msg/s',
    'e2e p50 ms',
    'e2e p99 ms',
    'PUBACK p50 ms',
    'PUBACK p99 ms',
  ];
  process.stdout.write(`\n${markdownTable(headers, rows, 3)}\n`);
  if (!names.includes('tandem')) return;
  const others = names.filter((n) => n !== 'tandem');
  // Delivered: Tandem's msg/s over the other's. Ingest: Tandem's PUBACK rate over the other's msg/s.
  const ratioRows = configs.map((c) => {
    const delivered = med('tandem', c, (r) => r.msgsPerSec);
    const ingest = med('tandem', c, (r) => r.ingestPerSec);
    const ratios = others.flatMap((o) => {
      const theirs = med(o, c, (r) => r.msgsPerSec);
      return [fmt(delivered / theirs, 2), fmt(ingest / theirs, 2)];
    });
    return [`${c.payloadBytes} B`, String(c.publishers), ...ratios];
  });
  const title = (o: string): string => `${o[0]!.toUpperCase()}${o.slice(1)}`;
  const ratioHeaders = [
    'payload',
    'publishers',
    ...others.flatMap((o) => [`Tandem/${title(o)} delivered`, `Tandem/${title(o)} ingest`]),
  ];
  process.stdout.write(`\n${markdownTable(ratioHeaders, ratioRows, 2)}\n`);
}

await main();
