/**
 * Replicated durable throughput and latency: the hub-throughput load (devices publish QoS 1
 * telemetry, a route takes it to a module input, one module consumes it at QoS 1) against
 * Tandem replicated on a 3-server JetStream cluster (R3: PUBACK after the quorum commit),
 * beside the embedded single node (PUBACK after fsync) and Mosquitto (persistence off) in
 * the same run. Every mode starts fresh per run (new processes, new data), the modes are
 * interleaved, runs repeated; the tables show medians.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/cluster-throughput.js
 *   node --import tsx bench/cluster-throughput.ts [--messages 30000] [--reps 3]
 *        [--modes embedded,cluster-1,cluster-3,mosquitto] [--publishers 10,1]
 *
 * Modes: `embedded` is hub-throughput's 'tandem'. `cluster-1`: one hub replica, every client
 * on it. `cluster-3`: three replicas (r{i} lists nats-server i first); publishers connect
 * round-robin to r0, r1, r2 (active-active ingress), the consumer to r0, which holds the
 * endpoint's lease and reads the others' batches from the shared log.
 *
 * Beyond hub-throughput's figures: for the cluster modes, messages per replicated append
 * (measured messages / JetStream messages added to the log stream during the measured
 * phase), and for every mode the cores each group of processes kept busy meanwhile and its
 * CPU time per message (from /proc), since on a small machine the servers, the hub and the
 * load share the CPUs; 'other' is the rest of the machine, to see a noisy neighbour.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { IClientOptions, MqttClient } from 'mqtt';
import { EDGE_DEVICE_ID, type Participant, startBroker } from './lib/brokers.js';
import { closeAll, connect, subscribe } from './lib/clients.js';
import { startClusterHub } from './lib/cluster.js';
import { cpuSnapshot, cpuSpent, type PidGroups } from './lib/cpu.js';
import { Consumer, IN_FLIGHT_PER_PUBLISHER, phase, type RunResult } from './lib/load.js';
import { machineLine } from './lib/machine.js';
import { watchdog } from './lib/proc.js';
import { fmt, markdownTable, median } from './lib/stats.js';

const modes = ['embedded', 'cluster-1', 'cluster-3', 'mosquitto'] as const;
type Mode = (typeof modes)[number];

/** Generous: 24 runs of a few seconds each, plus a cluster start (~5-10 s) per cluster run. */
const WHOLE_RUN_TIMEOUT_MS = 15 * 60_000;
const ROUTE =
  'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/bench/inputs/in")';
const CONSUMER: Participant = { deviceId: EDGE_DEVICE_ID, moduleId: 'bench' };
const PUBLISHERS_MAX = 10;
const PAYLOAD_BYTES = 100;

/** Whatever serves the load: where each client connects, how it authenticates, its processes. */
interface Target {
  /** Publisher i connects to publisherUrls[i % length]. */
  readonly publisherUrls: readonly string[];
  readonly consumerUrl: string;
  readonly tandem: boolean;
  options(who: Participant): IClientOptions;
  pids(): PidGroups;
  /** Replicated appends so far (cluster modes only). */
  logMessages?(): Promise<number>;
  stop(): Promise<void>;
}

interface Result extends RunResult {
  /** Measured messages per JetStream message appended to the log (cluster modes), else NaN. */
  readonly perAppend: number;
  /** Cores busy per process group during the measured phase (1 = one core all the time). */
  readonly cores: Record<string, number>;
  /** CPU microseconds per measured message, per process group. */
  readonly usPerMsg: Record<string, number>;
}

function device(i: number): Participant {
  return { deviceId: `dev${i}` };
}

async function startTarget(mode: Mode): Promise<Target> {
  const setup = {
    routes: { toBench: ROUTE },
    participants: [CONSUMER, ...Array.from({ length: PUBLISHERS_MAX }, (_, i) => device(i))],
  };
  if (mode === 'embedded' || mode === 'mosquitto') {
    const broker = await startBroker(mode === 'embedded' ? 'tandem' : 'mosquitto', setup);
    return {
      publisherUrls: [broker.url],
      consumerUrl: broker.url,
      tandem: mode === 'embedded',
      options: (who) => broker.options(who),
      pids: () => ({ hub: [broker.pid] }),
      stop: () => broker.stop(),
    };
  }
  const hub = await startClusterHub(mode === 'cluster-1' ? 1 : 3, setup);
  return {
    publisherUrls: hub.urls,
    consumerUrl: hub.urls[0]!,
    tandem: true,
    options: (who) => hub.options(who),
    pids: () => hub.pids(),
    logMessages: () => hub.logMessages(),
    stop: () => hub.stop(),
  };
}

async function runOnce(mode: Mode, publishers: number, messages: number): Promise<Result> {
  const target = await startTarget(mode);
  const clients: MqttClient[] = [];
  try {
    const publish = (i: number): string =>
      target.tandem ? `devices/${device(i).deviceId}/messages/events/` : 'bench/in';
    const sub = await connect(target.consumerUrl, target.options(CONSUMER));
    clients.push(sub);
    const consumer = new Consumer(sub);
    await subscribe(sub, target.tandem ? `devices/${EDGE_DEVICE_ID}/modules/bench/inputs/#` : 'bench/in');
    const pubs: MqttClient[] = [];
    for (let i = 0; i < publishers; i++) {
      const url = target.publisherUrls[i % target.publisherUrls.length]!;
      pubs.push(await connect(url, target.options(device(i))));
    }
    clients.push(...pubs);
    await phase(consumer, pubs, publish, Math.ceil(messages / 10), PAYLOAD_BYTES);
    const appendsBefore = await target.logMessages?.();
    const cpuBefore = cpuSnapshot(target.pids());
    const began = performance.now();
    const r = await phase(consumer, pubs, publish, messages, PAYLOAD_BYTES);
    const spent = cpuSpent(cpuBefore, cpuSnapshot(target.pids()));
    const seconds = (performance.now() - began) / 1000;
    const cores = Object.fromEntries(Object.entries(spent).map(([role, s]) => [role, s / seconds]));
    const usPerMsg = Object.fromEntries(
      Object.entries(spent).map(([role, s]) => [role, (s / messages) * 1e6]),
    );
    const appendsAfter = await target.logMessages?.();
    const appends = (appendsAfter ?? Number.NaN) - (appendsBefore ?? Number.NaN);
    return { ...r, perAppend: messages / appends, cores, usPerMsg };
  } finally {
    await closeAll(clients);
    await target.stop();
  }
}

function parseOptions(): { messages: number; reps: number; names: Mode[]; publishers: number[] } {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '30000' },
      reps: { type: 'string', default: '3' },
      modes: { type: 'string', default: modes.join(',') },
      publishers: { type: 'string', default: '10,1' },
    },
  });
  const messages = Number(values.messages);
  const reps = Number(values.reps);
  const names = values.modes.split(',').filter((n): n is Mode => (modes as readonly string[]).includes(n));
  const publishers = values.publishers.split(',').map(Number);
  const publishersOk = publishers.every((p) => Number.isInteger(p) && p >= 1 && p <= PUBLISHERS_MAX);
  if (!(messages > 0 && reps > 0 && names.length > 0 && publishersOk))
    throw new Error('bad --messages, --reps, --modes or --publishers');
  return { messages, reps, names, publishers };
}

function loadLine(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

function describe(r: Result): string {
  const cores = Object.entries(r.cores)
    .map(([role, c]) => `${role} ${fmt(c, 2)}`)
    .join(', ');
  const perAppend = Number.isFinite(r.perAppend) ? `, ${fmt(r.perAppend, 1)} msgs/append` : '';
  return (
    `${fmt(r.msgsPerSec)} msg/s (ingest ${fmt(r.ingestPerSec)}), e2e p50 ${fmt(r.e2eP50, 2)} p99 ${fmt(r.e2eP99, 2)} ms, ` +
    `puback p50 ${fmt(r.ackP50, 2)} p99 ${fmt(r.ackP99, 2)} ms${perAppend}; cores: ${cores}`
  );
}

async function main(): Promise<void> {
  const { messages, reps, names, publishers } = parseOptions();
  watchdog(WHOLE_RUN_TIMEOUT_MS, 'cluster-throughput');
  process.stdout.write(`cluster-throughput: ${machineLine()}\n`);
  // The machine is shared: other work running meanwhile shows here, and in the totals below.
  process.stdout.write(`load average at start: ${loadLine()}\n`);
  process.stdout.write(
    `${messages} messages of ${PAYLOAD_BYTES} B per run after ${Math.ceil(messages / 10)} warm-up, ` +
      `${IN_FLIGHT_PER_PUBLISHER} in flight per publisher, ${reps} reps\n\n`,
  );
  const results = new Map<string, Result[]>();
  const failures: string[] = [];
  const began = Date.now();
  for (let rep = 1; rep <= reps; rep++) {
    for (const p of publishers) {
      for (const mode of names) {
        const label = `rep ${rep} ${mode} x ${p}`;
        try {
          const r = await runOnce(mode, p, messages);
          results.set(`${mode}|${p}`, [...(results.get(`${mode}|${p}`) ?? []), r]);
          process.stderr.write(`${label}: ${describe(r)}\n`);
        } catch (err) {
          failures.push(`${label}: ${err instanceof Error ? err.message : String(err)}`);
          process.stderr.write(`FAILED ${failures.at(-1)}\n`);
        }
      }
    }
  }
  printTables(names, publishers, results);
  process.stdout.write(
    `\ntotal ${((Date.now() - began) / 1000).toFixed(0)} s; load average at end: ${loadLine()}\n`,
  );
  if (failures.length > 0) {
    process.stdout.write(`\nfailed runs:\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

function printTables(
  names: readonly Mode[],
  publishers: readonly number[],
  results: Map<string, Result[]>,
): void {
  const runs = (mode: Mode, p: number): Result[] => results.get(`${mode}|${p}`) ?? [];
  const med = (mode: Mode, p: number, pick: (r: Result) => number): number => median(runs(mode, p).map(pick));
  const rows = publishers.flatMap((p) =>
    names.map((mode) => {
      const ratio = mode.startsWith('cluster')
        ? fmt(med(mode, p, (r) => r.msgsPerSec) / med('embedded', p, (r) => r.msgsPerSec), 2)
        : '-';
      return [
        String(p),
        mode,
        fmt(med(mode, p, (r) => r.msgsPerSec)),
        runs(mode, p)
          .map((r) => fmt(r.msgsPerSec))
          .join(' / '),
        ratio,
        fmt(med(mode, p, (r) => r.ingestPerSec)),
        ...[
          (r: Result) => r.e2eP50,
          (r: Result) => r.e2eP99,
          (r: Result) => r.ackP50,
          (r: Result) => r.ackP99,
        ].map((pick) => fmt(med(mode, p, pick), 2)),
        fmt(
          med(mode, p, (r) => r.perAppend),
          1,
        ),
      ];
    }),
  );
  const headers = [
    'publishers',
    'mode',
    'msg/s (median)',
    'msg/s (each run)',
    'vs embedded',
    'ingest msg/s',
    'e2e p50 ms',
    'e2e p99 ms',
    'PUBACK p50 ms',
    'PUBACK p99 ms',
    'msgs per replicated append',
  ];
  process.stdout.write(`\n${markdownTable(headers, rows, 2)}\n`);
  printCpuTable(names, publishers, med);
}

/** Where the CPU went during the measured phase: cores busy and CPU µs per message, by role (medians). */
function printCpuTable(
  names: readonly Mode[],
  publishers: readonly number[],
  med: (mode: Mode, p: number, pick: (r: Result) => number) => number,
): void {
  const roles = ['hub', 'nats', 'clients'];
  // 'other' is what else ran on the machine meanwhile; it is not in the total.
  const sum = (x: Record<string, number>): number => roles.reduce((s, role) => s + (x[role] ?? 0), 0);
  const rows = publishers.flatMap((p) =>
    names.map((mode) => {
      const cells = roles.flatMap((role) => [
        fmt(
          med(mode, p, (r) => r.cores[role] ?? Number.NaN),
          2,
        ),
        fmt(med(mode, p, (r) => r.usPerMsg[role] ?? Number.NaN)),
      ]);
      const total = [
        fmt(
          med(mode, p, (r) => sum(r.cores)),
          2,
        ),
        fmt(med(mode, p, (r) => sum(r.usPerMsg))),
      ];
      const other = fmt(
        med(mode, p, (r) => r.cores.other ?? Number.NaN),
        2,
      );
      return [String(p), mode, ...cells, ...total, other];
    }),
  );
  const headers = [
    'publishers',
    'mode',
    'broker/hub cores',
    'broker/hub µs/msg',
    'nats-servers cores',
    'nats-servers µs/msg',
    'clients cores',
    'clients µs/msg',
    'total cores',
    'total µs/msg',
    'other processes cores',
  ];
  process.stdout.write(`\n${markdownTable(headers, rows, 2)}\n`);
}

await main();
