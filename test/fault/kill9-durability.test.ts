/**
 * G1–G3 under SIGKILL: a device publishes numbered messages at full speed (QoS 1) while the
 * hub process is killed with SIGKILL and restarted, three times. Every message that got a
 * PUBACK must reach the routed module input, in order, none missing; repeats only within
 * the in-flight window per crash.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { limits } from '../../src/limits.js';
import { check, HistoryRecorder, summarize } from '../support/checker.js';
import { clientOptions, type HubAddress } from '../support/clients.js';
import { manifestWithRoutes } from '../support/node.js';
import { type HubPorts, HubProcess, keyFromConnectionString } from '../support/process-node.js';
import { waitFor } from '../support/wait.js';

const CRASHES = 3;
const ACKS_PER_ROUND = 2500;
const PUBLISH_INFLIGHT_MAX = 100;
const ENDPOINT = 'sink/in';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Publishes seq 1, 2, 3... with up to PUBLISH_INFLIGHT_MAX unacknowledged; a new client per connection. */
class Publisher {
  #seq = 0;
  #client: MqttClient | undefined;
  #stopped = false;
  constructor(
    readonly hub: () => HubAddress,
    readonly key: string,
    readonly recorder: HistoryRecorder,
  ) {}

  start(): void {
    this.#connect();
  }

  #connect(): void {
    if (this.#stopped) return;
    const client = mqtt.connect(
      `mqtt://127.0.0.1:${this.hub().port}`,
      clientOptions(this.hub(), { deviceId: 'dev1', primaryKey: this.key }),
    );
    this.#client = client;
    let inflight = 0;
    const pump = (): void => {
      while (!this.#stopped && client.connected && inflight < PUBLISH_INFLIGHT_MAX) {
        const seq = ++this.#seq;
        inflight++;
        client.publish('devices/dev1/messages/events/', JSON.stringify({ seq }), { qos: 1 }, (err) => {
          inflight--;
          if (!err && client === this.#client) {
            this.recorder.acked('dev1', seq);
          }
          pump();
        });
      }
    };
    client.on('connect', pump);
    client.on('error', () => {});
    client.once('close', () => {
      client.end(true);
      // Reconnect with a fresh client: messages not acknowledged are simply not counted.
      setTimeout(() => this.#connect(), 100);
    });
  }

  /** Resolves once the total acknowledged count reaches `n`. */
  waitForAcks(n: number): Promise<void> {
    return waitFor(`${n} acknowledged messages`, () => this.recorder.ackedCount() >= n, 120_000);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#client?.endAsync();
  }
}

test('every acknowledged message survives SIGKILL of the hub, in order', { timeout: 240_000 }, async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tandem-kill9-'));
  dirs.push(dataDir);
  const hub = new HubProcess(dataDir);
  const common = ['--data-dir', dataDir, '--gateway-host', 'localhost'];
  const devKey = keyFromConnectionString(await HubProcess.cli(['identity', 'create', 'dev1', ...common]));
  const sinkKey = keyFromConnectionString(
    await HubProcess.cli(['identity', 'create', 'edge1/sink', ...common]),
  );
  const manifest = await hub.writeManifest(
    manifestWithRoutes({
      r: 'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/sink/inputs/in")',
    }),
  );
  let ports: HubPorts = await hub.start(manifest);
  const address = (): HubAddress => ({ hubName: 'test-hub.local', port: ports.mqtt });
  const recorder = new HistoryRecorder();
  const routing = { dev1: [ENDPOINT] };

  const consumer = mqtt.connect(`mqtt://127.0.0.1:${ports.mqtt}`, {
    ...clientOptions(address(), { deviceId: 'edge1', moduleId: 'sink', primaryKey: sinkKey }),
    clean: false,
    reconnectPeriod: 100,
  });
  consumer.on('error', () => {});
  consumer.on('connect', () => consumer.subscribe('devices/edge1/modules/sink/inputs/#', { qos: 1 }));
  consumer.on('message', (_topic, payload) =>
    recorder.arrived(ENDPOINT, 'dev1', (JSON.parse(payload.toString()) as { seq: number }).seq),
  );

  const publisher = new Publisher(address, devKey, recorder);
  publisher.start();
  try {
    for (let round = 1; round <= CRASHES; round++) {
      await publisher.waitForAcks(round * ACKS_PER_ROUND);
      await hub.kill9();
      ports = await hub.start(manifest, ports);
    }
    await publisher.waitForAcks((CRASHES + 1) * ACKS_PER_ROUND);
    await publisher.stop();
    await waitFor(
      'every acknowledged message at the endpoint',
      () => check(recorder.history(), routing).totals.missing === 0,
      60_000,
      () => summarize(check(recorder.history(), routing)),
    );
    const report = check(recorder.history(), routing);
    const at = report.endpoints[0]!;
    console.log(
      `kill -9 x${CRASHES}: acked ${report.totals.acked}, received ${at.arrivals}, repeats ${at.repeats}`,
    );
    assert.deepEqual(at.missing, []);
    assert.deepEqual(at.orderViolations, []);
    assert.ok(report.totals.acked >= (CRASHES + 1) * ACKS_PER_ROUND);
    assert.ok(
      at.repeats <= CRASHES * limits.inflightWindowMessagesMax,
      `${at.repeats} repeats exceed ${CRASHES} crashes x window ${limits.inflightWindowMessagesMax}`,
    );
  } finally {
    await publisher.stop();
    await consumer.endAsync(true);
    await hub.stop();
  }
});
