/**
 * The demo modules as real child processes (`node examples/demo/modules/*.mjs`) against an
 * in-process hub over TLS, with the environment module-env.ts builds, no agent in between:
 *
 * - workload path: only IOTEDGE_* variables; the module's own unix socket serves the trust
 *   bundle and signs its SAS tokens;
 * - connection-string path: EdgeHubConnectionString + EdgeModuleCACertificateFile.
 *
 * A `feeder` test module sends to the filters' inputs and a `sink` test module receives what
 * the modules send, both through the hub's routes.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { type ModuleAuth, moduleEnv } from '../../src/agent/module-env.js';
import {
  startWorkloadApi,
  type WorkloadApi,
  type WorkloadRequestEvent,
  workloadSocketPath,
  workloadUri,
} from '../../src/agent/workload-api.js';
import type { SubscribedEvent } from '../../src/hub/hub.js';
import { startTestNode, type TestNode } from '../support/node.js';
import { repoRoot } from '../support/paths.js';

const { ModuleClient, Message } = deviceSdk;
const { Mqtt } = mqttTransport;
type SdkModuleClient = InstanceType<typeof ModuleClient>;
type SdkMessage = InstanceType<typeof Message>;

const device = 'edge1';
const generationId = 'gen-1';
/** Generous: a child process starts Node, loads the SDK and does a TLS handshake first. */
const deadlineMs = 30_000;

interface Received {
  readonly body: Record<string, unknown>;
  readonly properties: Record<string, string>;
  readonly contentType: string | undefined;
}

interface RunningModule {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly workloadEvents: WorkloadRequestEvent[];
  output(): string;
}

let t: TestNode;
let feeder: SdkModuleClient;
let sink: SdkModuleClient;
const inbox = new Map<string, Received[]>();
const children: RunningModule[] = [];
const apis: WorkloadApi[] = [];

function route(from: string, output: string, to: string, input: string): string {
  return `FROM /messages/modules/${from}/outputs/${output} INTO BrokeredEndpoint("/modules/${to}/inputs/${input}")`;
}

function propertiesOf(msg: SdkMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < msg.properties.count(); i++) {
    const item = msg.properties.getItem(i);
    out[item.key] = item.value;
  }
  return out;
}

async function openTestModule(moduleId: string): Promise<SdkModuleClient> {
  await t.identity(device, moduleId);
  const identity = (await t.node.registry.get(device, moduleId))!;
  const cs = t.node.registry.connectionString(identity, {
    hubName: t.node.hubName,
    gatewayHost: `localhost:${t.secure.port}`,
  });
  const client = ModuleClient.fromConnectionString(cs, Mqtt);
  await client.setOptions({ ca: t.node.caPem });
  await client.open();
  return client;
}

before(async () => {
  t = await startTestNode({
    edgeDeviceId: device,
    routes: {
      toFilter: route('feeder', 'toFilter', 'filter', 'input1'),
      toFilterCs: route('feeder', 'toFilterCs', 'filtercs', 'input1'),
      filterAlerts: route('filter', 'output1', 'sink', 'alerts'),
      filterCsAlerts: route('filtercs', 'output1', 'sink', 'alertsCs'),
      temperatures: route('sensor', 'temperatureOutput', 'sink', 'temperatures'),
    },
  });
  feeder = await openTestModule('feeder');
  sink = await openTestModule('sink');
  sink.on('inputMessage', (inputName: string, msg: SdkMessage) => {
    const list = inbox.get(inputName) ?? [];
    list.push({
      body: JSON.parse(msg.getData().toString()),
      properties: propertiesOf(msg),
      contentType: msg.contentType,
    });
    inbox.set(inputName, list);
    sink.complete(msg, () => {});
  });
});

after(async () => {
  for (const m of children)
    if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
  await Promise.all(children.map((m) => m.exited));
  await Promise.all(apis.map((a) => a.close()));
  await feeder?.close();
  await sink?.close();
  await t?.stop();
});

/** Resolves on the hub's 'subscribed' event; listen before the module starts. */
function subscribed(identity: string, kind: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (e: SubscribedEvent): void => {
      if (e.identity !== identity || e.kind !== kind) return;
      t.node.hub.events.off('subscribed', on);
      resolve();
    };
    t.node.hub.events.on('subscribed', on);
  });
}

async function within<T>(work: Promise<T>, what: string, m?: RunningModule): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const failed = (why: string): Error =>
    new Error(`${what}: ${why}\n--- module output ---\n${m?.output() ?? ''}`);
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(failed(`not within ${deadlineMs} ms`)), deadlineMs);
  });
  const died = m?.exited.then((code) => Promise.reject(failed(`module exited with ${code}`))) ?? late;
  try {
    return await Promise.race([work, late, died]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true; fails with the module's output past the deadline. */
async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  m?: RunningModule,
): Promise<void> {
  const poll = async (): Promise<void> => {
    while (!(await check())) await new Promise((r) => setTimeout(r, 50));
  };
  await within(poll(), what, m);
}

async function startModule(
  moduleId: string,
  script: string,
  auth: ModuleAuth,
  extraEnv: Record<string, string> = {},
): Promise<RunningModule> {
  const { primaryKey } = await t.identity(device, moduleId);
  const socketPath = workloadSocketPath(t.dataDir, moduleId);
  const workloadEvents: WorkloadRequestEvent[] = [];
  if (auth === 'workload') {
    apis.push(
      await startWorkloadApi({
        socketPath,
        moduleId,
        generationId: () => generationId,
        key: async () => (await t.node.registry.get(device, moduleId))!.primaryKey,
        trustBundlePem: () => t.node.caPem,
        onRequest: (e) => workloadEvents.push(e),
      }),
    );
  }
  const env = moduleEnv({
    hubName: t.node.hubName,
    edgeDeviceId: device,
    moduleId,
    gatewayHost: `localhost:${t.secure.port}`,
    auth,
    primaryKey,
    caFile: t.node.caPath,
    workloadUri: workloadUri(socketPath),
    generationId,
  });
  // Nothing inherited but PATH: no stray EdgeHubConnectionString can pick the path for the SDK.
  const child = spawn(process.execPath, [path.join(repoRoot, 'examples/demo/modules', script)], {
    env: { PATH: process.env.PATH ?? '', ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (c: Buffer) => chunks.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => chunks.push(c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const m = { child, exited, workloadEvents, output: () => chunks.join('') };
  children.push(m);
  return m;
}

async function feed(output: string, n: number, temperature: number): Promise<void> {
  const msg = new Message(JSON.stringify({ machine: { temperature }, n }));
  msg.contentType = 'application/json';
  msg.contentEncoding = 'utf-8';
  msg.properties.add('source', 'feeder');
  await feeder.sendOutputEvent(output, msg);
}

function received(input: string): Received[] {
  return inbox.get(input) ?? [];
}

async function invoke(identity: string, methodName: string): Promise<Record<string, unknown>> {
  const result = await t.node.hub.invokeMethod({ identity, methodName, payload: {} });
  assert.equal(result.status, 200);
  return result.payload as Record<string, unknown>;
}

async function reportedThreshold(identity: string): Promise<unknown> {
  return (await t.node.hub.getTwin(identity)).reported.TemperatureThreshold;
}

/** Starts a filter, feeds it one cold and one hot reading, checks the one alert that comes out. */
async function filterForwardsHotReadings(
  moduleId: string,
  auth: ModuleAuth,
  feedOutput: string,
  alerts: string,
) {
  const identity = `${device}/${moduleId}`;
  const ready = Promise.all(
    ['moduleInputs', 'methods', 'desiredPatches'].map((kind) => subscribed(identity, kind)),
  );
  const m = await startModule(moduleId, 'filter.mjs', auth);
  await within(ready, `${moduleId} subscribed`, m);
  await feed(feedOutput, 1, 20);
  await feed(feedOutput, 2, 30);
  await until(() => received(alerts).length >= 1, `an alert from ${moduleId}`, m);
  const [alert] = received(alerts);
  assert.deepEqual(alert?.body, { machine: { temperature: 30 }, n: 2 });
  assert.equal(alert?.properties.MessageType, 'Alert');
  assert.equal(alert?.properties.source, 'feeder');
  assert.equal(alert?.properties['$.cmid'], moduleId);
  assert.equal(alert?.contentType, 'application/json');
  // Every input is completed and counted; the cold one was not forwarded.
  await until(async () => (await invoke(identity, 'getStats')).forwarded === 1, `${moduleId} stats`, m);
  const stats = await invoke(identity, 'getStats');
  assert.equal(stats.received, 2);
  assert.equal(stats.threshold, 25);
  // The default threshold is reported at start.
  await until(async () => (await reportedThreshold(identity)) === 25, `${moduleId} reported`, m);
  return m;
}

test('filter.mjs on the workload path: trust bundle and tokens from its socket, alerts routed on', {
  timeout: 120_000,
}, async () => {
  const m = await filterForwardsHotReadings('filter', 'workload', 'toFilter', 'alerts');
  const ok = (operation: string): boolean =>
    m.workloadEvents.some((e) => e.operation === operation && e.status === 200);
  assert.ok(ok('TrustBundle'), JSON.stringify(m.workloadEvents));
  assert.ok(ok('Sign'), JSON.stringify(m.workloadEvents));
  assert.deepEqual(
    m.workloadEvents.filter((e) => e.status !== 200),
    [],
  );
  assert.match(m.output(), /connected \(workload API\)/);
});

test('filter.mjs follows the twin: desired TemperatureThreshold applies live and is reported', {
  timeout: 120_000,
}, async () => {
  const m = children.find((c) => c.workloadEvents.length > 0)!;
  const identity = `${device}/filter`;
  const before = received('alerts').length;
  await t.node.hub.patchDesired(identity, { TemperatureThreshold: 50 });
  await until(async () => (await reportedThreshold(identity)) === 50, 'reported threshold 50', m);
  await feed('toFilter', 3, 40);
  await feed('toFilter', 4, 60);
  await until(() => received('alerts').length >= before + 1, 'the alert above 50', m);
  // Alerts keep input order, so the first one after the patch is n=4: n=3 (40 < 50) was dropped.
  assert.equal(received('alerts')[before]?.body.n, 4);

  // Removing the desired property (null) restores the default of 25.
  await t.node.hub.patchDesired(identity, { TemperatureThreshold: null });
  await until(async () => (await reportedThreshold(identity)) === 25, 'reported threshold back to 25', m);
  await feed('toFilter', 5, 40);
  await until(() => received('alerts').length >= before + 2, 'the alert above 25', m);
  assert.equal(received('alerts')[before + 1]?.body.n, 5);
  const stats = await invoke(identity, 'getStats');
  assert.equal(stats.received, 5);
});

test('filter.mjs on the connection-string path; SIGTERM closes it with exit code 0', {
  timeout: 120_000,
}, async () => {
  const m = await filterForwardsHotReadings('filtercs', 'connection-string', 'toFilterCs', 'alertsCs');
  assert.equal(m.workloadEvents.length, 0);
  assert.match(m.output(), /connected \(connection string\)/);
  m.child.kill('SIGTERM');
  assert.equal(await within(m.exited, 'exit after SIGTERM'), 0);
  await until(
    () => !t.node.hub.connectedIdentities().includes(`${device}/filtercs`),
    'filtercs disconnected',
  );
});

test('sensor.mjs on the workload path: readings with seq 1, 2, 3... reach a module input', {
  timeout: 120_000,
}, async () => {
  const identity = `${device}/sensor`;
  const methods = subscribed(identity, 'methods');
  const m = await startModule('sensor', 'sensor.mjs', 'workload', {
    MessageIntervalMs: '20',
    MessageCount: '5',
  });
  await until(() => received('temperatures').length >= 5, 'five readings', m);
  const readings = received('temperatures');
  assert.deepEqual(
    readings.map((r) => r.body.seq),
    [1, 2, 3, 4, 5],
  );
  for (const { body, contentType, properties } of readings) {
    assert.equal(contentType, 'application/json');
    assert.equal(properties['$.cmid'], 'sensor');
    const { machine, ambient, timeCreated } = body as {
      machine: { temperature: number; pressure: number };
      ambient: { temperature: number; humidity: number };
      timeCreated: string;
    };
    for (const v of [machine.temperature, machine.pressure, ambient.temperature, ambient.humidity]) {
      assert.equal(typeof v, 'number');
    }
    assert.ok(!Number.isNaN(Date.parse(timeCreated)));
  }
  assert.ok(m.workloadEvents.some((e) => e.operation === 'Sign' && e.status === 200));
  await within(methods, 'sensor methods subscribed', m);
  const stats = await invoke(identity, 'getStats');
  assert.equal(stats.sent, 5);
  assert.equal(stats.seq, 5);
  assert.deepEqual(await invoke(identity, 'reset'), { reset: true, machineTemperature: 20 });
  // MessageCount reached: the sensor idles instead of exiting (an exit would be a restart).
  assert.equal(m.child.exitCode, null);
});
