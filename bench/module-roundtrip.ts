/**
 * Module-to-module round trip, one message at a time (ping-pong): module A's output is
 * routed to B's input, B echoes it on its output, which is routed back to A's input. Every
 * hop in Tandem is a durable append (PUBACK after fsync) and a QoS 1 delivery. For
 * reference the same ping-pong runs through Mosquitto and Aedes (A publishes to bench/x, B
 * subscribed echoes to bench/y, A subscribed to bench/y). Each broker in its own process.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/module-roundtrip.js
 *   node --import tsx bench/module-roundtrip.ts [--count 2000] [--warmup 200] [--reps 3]
 */
import { parseArgs } from 'node:util';
import type { MqttClient } from 'mqtt';
import {
  type BrokerName,
  brokerNames,
  EDGE_DEVICE_ID,
  type Participant,
  startBroker,
} from './lib/brokers.js';
import { closeAll, connect, subscribe } from './lib/clients.js';
import { machineLine } from './lib/machine.js';
import { watchdog, withTimeout } from './lib/proc.js';
import { fmt, markdownTable, max, median, percentile } from './lib/stats.js';

/** One round trip that takes longer than this fails the run (a lost message would hang it). */
const ROUND_TRIP_TIMEOUT_MS = 5_000;
const WHOLE_RUN_TIMEOUT_MS = 5 * 60_000;
const PAYLOAD_BYTES = 100;
const A: Participant = { deviceId: EDGE_DEVICE_ID, moduleId: 'a' };
const B: Participant = { deviceId: EDGE_DEVICE_ID, moduleId: 'b' };
const ROUTES = {
  aToB: 'FROM /messages/modules/a/outputs/out INTO BrokeredEndpoint("/modules/b/inputs/in")',
  bToA: 'FROM /messages/modules/b/outputs/out INTO BrokeredEndpoint("/modules/a/inputs/in")',
};

interface Topics {
  readonly aPublish: string;
  readonly aSubscribe: string;
  readonly bPublish: string;
  readonly bSubscribe: string;
}

function topics(broker: BrokerName): Topics {
  if (broker !== 'tandem')
    return { aPublish: 'bench/x', bSubscribe: 'bench/x', bPublish: 'bench/y', aSubscribe: 'bench/y' };
  const out = (m: string): string => `devices/${EDGE_DEVICE_ID}/modules/${m}/messages/events/$.on=out`;
  const inputs = (m: string): string => `devices/${EDGE_DEVICE_ID}/modules/${m}/inputs/#`;
  return { aPublish: out('a'), aSubscribe: inputs('a'), bPublish: out('b'), bSubscribe: inputs('b') };
}

interface RunResult {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Round-trip times in ms of `count` ping-pongs after `warmup` unmeasured ones. */
async function pingPong(a: MqttClient, t: Topics, count: number, warmup: number): Promise<Float64Array> {
  let waiting: ((seq: number) => void) | undefined;
  a.on('message', (_topic, payload) => waiting?.(payload.readUInt32LE(0)));
  const times = new Float64Array(count);
  const payload = Buffer.alloc(PAYLOAD_BYTES, 0x61);
  for (let i = 0; i < warmup + count; i++) {
    const echoed = new Promise<number>((resolve) => {
      waiting = resolve;
    });
    const p = Buffer.from(payload);
    p.writeUInt32LE(i, 0);
    const t0 = performance.now();
    a.publish(t.aPublish, p, { qos: 1 });
    const seq = await withTimeout(echoed, ROUND_TRIP_TIMEOUT_MS, `round trip ${i}`);
    const elapsed = performance.now() - t0;
    if (seq !== i) throw new Error(`round trip ${i} got message ${seq} back`);
    if (i >= warmup) times[i - warmup] = elapsed;
  }
  return times;
}

async function runOnce(name: BrokerName, count: number, warmup: number): Promise<RunResult> {
  const broker = await startBroker(name, { routes: ROUTES, participants: [A, B] });
  const clients: MqttClient[] = [];
  try {
    const t = topics(name);
    const a = await connect(broker.url, broker.options(A));
    clients.push(a);
    const b = await connect(broker.url, broker.options(B));
    clients.push(b);
    b.on('message', (_topic, payload) => b.publish(t.bPublish, payload, { qos: 1 }));
    await subscribe(b, t.bSubscribe);
    await subscribe(a, t.aSubscribe);
    const times = await pingPong(a, t, count, warmup);
    return { p50: percentile(times, 50), p99: percentile(times, 99), max: max(times) };
  } finally {
    await closeAll(clients);
    await broker.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '2000' },
      warmup: { type: 'string', default: '200' },
      reps: { type: 'string', default: '3' },
      brokers: { type: 'string', default: brokerNames.join(',') },
    },
  });
  const count = Number(values.count);
  const warmup = Number(values.warmup);
  const reps = Number(values.reps);
  const names = values.brokers
    .split(',')
    .filter((n): n is BrokerName => (brokerNames as string[]).includes(n));
  if (!(count > 0 && warmup >= 0 && reps > 0 && names.length > 0))
    throw new Error('bad --count, --warmup, --reps or --brokers');
  watchdog(WHOLE_RUN_TIMEOUT_MS, 'module-roundtrip');
  process.stdout.write(`module-roundtrip: ${machineLine()}\n`);
  process.stdout.write(
    `${count} round trips of ${PAYLOAD_BYTES} B after ${warmup} warm-up, QoS 1 both ways, ${reps} reps\n\n`,
  );
  const results = new Map<BrokerName, RunResult[]>();
  const failures: string[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    for (const name of names) {
      try {
        const r = await runOnce(name, count, warmup);
        results.set(name, [...(results.get(name) ?? []), r]);
        process.stderr.write(
          `rep ${rep} ${name}: p50 ${fmt(r.p50, 3)} p99 ${fmt(r.p99, 3)} max ${fmt(r.max, 3)} ms\n`,
        );
      } catch (err) {
        failures.push(`rep ${rep} ${name}: ${err instanceof Error ? err.message : String(err)}`);
        process.stderr.write(`${failures.at(-1)}\n`);
      }
    }
  }
  const rows = names.map((name) => {
    const runs = results.get(name) ?? [];
    const med = (pick: (r: RunResult) => number): string => fmt(median(runs.map(pick)), 3);
    return [
      name,
      med((r) => r.p50),
      runs.map((r) => fmt(r.p50, 3)).join(' / '),
      med((r) => r.p99),
      med((r) => r.max),
    ];
  });
  const headers = ['broker', 'p50 ms (median)', 'p50 ms (each run)', 'p99 ms (median)', 'max ms (median)'];
  process.stdout.write(`\n${markdownTable(headers, rows)}\n`);
  if (failures.length > 0) {
    process.stdout.write(`\nfailed runs:\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

await main();
