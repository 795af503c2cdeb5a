/**
 * One fault in a running HubCluster, measured: from the fault to a reconnecting device's
 * first acknowledged publish, and to the first delivery on each endpoint after it. Then the
 * whole history goes through the checker.
 */
import { limits } from '../../../src/limits.js';
import { assertHolds, check, summarize } from './checker.js';
import type { ClientProcess } from './client-process.js';
import { type HubCluster, moduleEndpoint, upstreamEndpoint } from './hub-cluster.js';
import { waitFor } from './wait.js';

export interface FailoverFigures {
  readonly fault: string;
  /** Fault to the first PUBACK a device got after reconnecting (ms), per device that had to move. */
  readonly deviceMs: Readonly<Record<string, number>>;
  /** Fault to the first arrival at each endpoint after it (ms). */
  readonly endpointMs: Readonly<Record<string, number>>;
}

/** Time from `atMs` to the first ack of a publisher after its first reconnection past `atMs`. */
export async function deviceRecovery(device: ClientProcess, atMs: number): Promise<number> {
  const connect = await device.waitFor('a reconnection', (e) => e.ev === 'connect' && e.t > atMs, 60_000);
  let first: number | undefined;
  const unsubscribe = device.process.onLine((line) => {
    if (first !== undefined || !line.startsWith('{"ev":"ack"')) return;
    const t = (JSON.parse(line) as { t: number }).t;
    if (t >= connect.t) first = t;
  });
  try {
    await waitFor('an acknowledged publish after the reconnection', () => first !== undefined, 60_000);
  } finally {
    unsubscribe();
  }
  return first! - atMs;
}

/** Time from `atMs` to the first arrival at `endpoint` after it. */
export async function endpointRecovery(cluster: HubCluster, endpoint: string, atMs: number): Promise<number> {
  let first: number | undefined;
  await waitFor(
    `a delivery on ${endpoint} after the fault`,
    () => {
      first = cluster.recorder.history().arrivals.find((a) => a.endpoint === endpoint && a.atMs > atMs)?.atMs;
      return first !== undefined;
    },
    60_000,
  );
  return first! - atMs;
}

/** Both endpoints the routes fill, measured after one fault. */
export async function endpointsRecovery(cluster: HubCluster, atMs: number): Promise<Record<string, number>> {
  const [m, u] = await Promise.all([
    endpointRecovery(cluster, moduleEndpoint, atMs),
    endpointRecovery(cluster, upstreamEndpoint, atMs),
  ]);
  return { [moduleEndpoint]: m, [upstreamEndpoint]: u };
}

/** Stops the devices, waits until every acknowledged message arrived everywhere, and checks G1–G3 and leases. */
export async function drainAndCheck(cluster: HubCluster, devices: readonly ClientProcess[]): Promise<string> {
  await Promise.all(devices.map((d) => d.stop()));
  const routing = () => [moduleEndpoint, upstreamEndpoint];
  await waitFor(
    'every acknowledged message at every endpoint',
    () => {
      const report = check({ ...cluster.recorder.history(), leases: [] }, routing);
      return report.totals.missing === 0;
    },
    90_000,
    () => summarize(check({ ...cluster.recorder.history(), leases: [] }, routing)),
  );
  const report = check({ ...cluster.recorder.history(), leases: cluster.leases() }, routing);
  assertHolds(report, { windowMax: limits.inflightWindowMessagesMax });
  return summarize(report);
}

/** One line per fault, printed by the tests and quoted in docs/cluster.md. */
export function formatFigures(f: FailoverFigures): string {
  const parts = [
    ...Object.entries(f.deviceMs).map(([d, ms]) => `device ${d} ${ms} ms`),
    ...Object.entries(f.endpointMs).map(([e, ms]) => `${e} ${ms} ms`),
  ];
  return `failover after ${f.fault}: ${parts.join(', ')}`;
}
