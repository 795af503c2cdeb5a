/**
 * Faults in a running HubCluster, measured and checked.
 *
 * The failover figure of a device is its stall: the longest wait for a PUBACK after the
 * fault (from the fault, or from the previous PUBACK), so a device that never noticed the
 * fault shows its normal pace and one that had to reconnect shows fault-to-first-PUBACK.
 * The figure of an endpoint is the same over its arrivals: fault to the first delivery once
 * delivery resumed. Then the whole history goes through the checker (G1-G3, leases).
 */
import { limits } from '../../../src/limits.js';
import { assertHolds, check, type History, summarize } from '../../support/checker.js';
import { waitFor } from '../../support/wait.js';
import type { ClientProcess } from './client-process.js';
import { type HubCluster, moduleEndpoint, upstreamEndpoint } from './hub-cluster.js';

/** How long after a fault the stall is looked for: the slowest failover (a nats leader election) fits. */
const stallWindowMs = 30_000;

export interface FailoverFigures {
  readonly fault: string;
  /** Longest wait for a PUBACK after the fault, per device (ms). */
  readonly deviceMs: Readonly<Record<string, number>>;
  /** Longest wait for a delivery after the fault, per endpoint (ms). */
  readonly endpointMs: Readonly<Record<string, number>>;
}

/** Longest gap in `times` (ascending) after `atMs`, counting the first gap from `atMs`. */
export function stallAfter(times: readonly number[], atMs: number, untilMs = atMs + stallWindowMs): number {
  let previous = atMs;
  let longest = 0;
  for (const t of times) {
    if (t <= atMs) continue;
    if (previous > untilMs) break;
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return longest;
}

export function figuresAfter(history: History, fault: string, atMs: number): FailoverFigures {
  const acks = new Map<string, number[]>();
  for (const m of history.sent) {
    if (m.ackedMs === undefined) continue;
    const list = acks.get(m.sender) ?? [];
    list.push(m.ackedMs);
    acks.set(m.sender, list);
  }
  const deviceMs = Object.fromEntries(
    [...acks.entries()].sort().map(([d, ts]) => [
      d,
      stallAfter(
        ts.sort((a, b) => a - b),
        atMs,
      ),
    ]),
  );
  const endpointMs = Object.fromEntries(
    [moduleEndpoint, upstreamEndpoint].map((e) => [
      e,
      stallAfter(
        history.arrivals.filter((a) => a.endpoint === e).map((a) => a.atMs),
        atMs,
      ),
    ]),
  );
  return { fault, deviceMs, endpointMs };
}

/** Waits until every device got PUBACKs and both endpoints got deliveries for a while after `atMs`. */
export async function waitForRecovery(cluster: HubCluster, atMs: number, steadyMs = 2_000): Promise<void> {
  await waitFor(
    'devices and endpoints to run again for a while after the fault',
    () => {
      const h = cluster.recorder.history();
      const lastAck = new Map<string, number>();
      for (const m of h.sent)
        if (m.ackedMs !== undefined) lastAck.set(m.sender, Math.max(lastAck.get(m.sender) ?? 0, m.ackedMs));
      const firstAfter = (e: string) => h.arrivals.find((a) => a.endpoint === e && a.atMs > atMs)?.atMs;
      const now = Date.now();
      return (
        [...lastAck.values()].every((t) => t > atMs && now - t < 1_000) &&
        [moduleEndpoint, upstreamEndpoint].every((e) => {
          const first = firstAfter(e);
          return first !== undefined && now - first > steadyMs;
        })
      );
    },
    60_000,
    () => cluster.describe(),
  );
}

/**
 * Stops the devices, waits until every acknowledged message arrived everywhere, and checks
 * G1–G3 and that no endpoint had two holders at once.
 */
export async function drainAndCheck(cluster: HubCluster, devices: readonly ClientProcess[]): Promise<string> {
  await Promise.all(devices.map((d) => d.stop()));
  const routing = () => [moduleEndpoint, upstreamEndpoint];
  await waitFor(
    'every acknowledged message at every endpoint',
    () => check({ ...cluster.recorder.history(), leases: [] }, routing).totals.missing === 0,
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
    ...Object.entries(f.deviceMs).map(([d, ms]) => `${d} ${ms} ms`),
    ...Object.entries(f.endpointMs).map(([e, ms]) => `${e} ${ms} ms`),
  ];
  return `failover after ${f.fault}: ${parts.join(', ')}`;
}
