/**
 * One fault scenario, repeated: a cluster with a cloud, the `filter` module and three
 * devices (each starting on a different replica); each run injects the fault where the
 * module's input is delivered, measures the stalls until devices and endpoints run again,
 * and undoes the fault. At the end every acknowledged message must have reached both
 * endpoints, in order per sender, with bounded repeats and never two owners at once.
 */

import { waitFor } from '../../support/wait.js';
import { drainAndCheck, figuresAfter, formatFigures, waitForRecovery } from './failover.js';
import { HubCluster, moduleEndpoint } from './hub-cluster.js';

export interface Fault {
  /** Injects the fault on the node of replica `victim`; resolves with when it happened. */
  inject(cluster: HubCluster, victim: number): Promise<{ atMs: number; label: string }>;
  /** Undoes it and waits until the cluster is whole again. */
  recover(cluster: HubCluster, victim: number): Promise<void>;
}

export interface ScenarioResult {
  readonly figures: readonly string[];
  readonly summary: string;
  /** Faults after which the Azure SDK device was connected to another replica than before. */
  readonly sdkMoves: number;
}

/** Messages per second per device: enough to see a stall to the millisecond, light on 2 cores. */
const ratePerSec = 40;
/** The SDK device sends one message at a time (its send waits for the PUBACK). */
const sdkRatePerSec = 20;

export async function runScenario(
  fault: Fault,
  options: {
    runs: number;
    clientKeepaliveSec?: number;
    onCluster(c: HubCluster): void;
  },
): Promise<ScenarioResult> {
  const c = await HubCluster.start();
  options.onCluster(c);
  if (options.clientKeepaliveSec !== undefined) c.clientKeepaliveSec = options.clientKeepaliveSec;
  const cloud = c.cloudConsumer();
  await cloud.waitFor('the cloud reader', (e) => e.ev === 'subscribed');
  const filter = await c.filterModule(0);
  await filter.waitFor('the module subscribed', (e) => e.ev === 'subscribed');
  const devices = await Promise.all([0, 1, 2].map((i) => c.device(`d${i}`, i, ratePerSec)));
  // And one written with the Azure IoT SDK, on r0 first, finding the hub by name.
  const sdk = await c.sdkDevice('s0', sdkRatePerSec);
  await sdk.waitFor('the SDK device connected', (e) => e.ev === 'connect');
  devices.push(sdk);
  const figures: string[] = [];
  let sdkMoves = 0;
  for (let run = 0; run < options.runs; run++) {
    const before = c.recorder.arrivalCount(moduleEndpoint);
    await waitFor(
      'messages flowing to both endpoints',
      () => c.recorder.arrivalCount(moduleEndpoint) > before + 50 && c.holderOf(moduleEndpoint) !== undefined,
      undefined,
      () => c.describe(),
    );
    const victim = c.holderOf(moduleEndpoint)!;
    const sdkBefore = await c.connectedAt('s0');
    const { atMs, label } = await fault.inject(c, victim);
    await waitForRecovery(c, atMs);
    const sdkAfter = await c.connectedAt('s0');
    if (sdkBefore !== undefined && sdkAfter !== undefined && sdkAfter !== sdkBefore) sdkMoves++;
    const line = formatFigures(figuresAfter(c.recorder.history(), label, atMs));
    figures.push(line);
    console.log(line);
    await fault.recover(c, victim);
  }
  const summary = await drainAndCheck(c, devices);
  console.log(summary);
  console.log(`SDK device s0: moved to another replica after ${sdkMoves} of ${options.runs} faults`);
  await filter.stop();
  await cloud.stop();
  return { figures, summary, sdkMoves };
}
