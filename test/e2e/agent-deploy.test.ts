/**
 * Deployments on a running agent: both identity paths of `ModuleClient.fromEnvironment()`,
 * a redeploy that changes one module's env (only it restarts, nothing queued is lost), a
 * route change that restarts nothing, bad manifests that change nothing, and a docker
 * module on a machine without a container engine (a clear failed state, others unaffected).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { ModuleStatus } from '../../src/agent/face.js';
import type { HubMessage } from '../../src/hub/message.js';
import { type AgentTestNode, demoDir, demoManifest, startAgentNode } from '../support/demo.js';
import { runTandem } from '../support/process-node.js';
import { waitFor } from '../support/wait.js';

// biome-ignore lint/suspicious/noExplicitAny: tests edit manifests freely, as JSON
type Json = Record<string, any>;
let edge: AgentTestNode;
let dir: string;

/** The demo plus `filterc`: the same filter code, given its identity by connection string. */
function twoFilters(sensorEnv: Record<string, string> = {}, extra?: (m: Json) => void): Json {
  return demoManifest({
    intervalMs: 30,
    threshold: -1000,
    edit: (m) => {
      const agent = m.modulesContent.$edgeAgent['properties.desired'];
      agent.modules.filterc = {
        ...agent.modules.filter,
        settings: { ...agent.modules.filter.settings, auth: 'connection-string' },
      };
      for (const [k, v] of Object.entries(sensorEnv)) agent.modules.sensor.env[k] = { value: v };
      const routes = m.modulesContent.$edgeHub['properties.desired'].routes;
      routes.sensorToFilterC =
        'FROM /messages/modules/sensor/outputs/temperatureOutput INTO BrokeredEndpoint("/modules/filterc/inputs/input1")';
      routes.filterCToUpstream = 'FROM /messages/modules/filterc/outputs/* INTO $upstream';
      m.modulesContent.filterc = { 'properties.desired': { TemperatureThreshold: -1000 } };
      extra?.(m);
    },
  });
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-deploy-'));
  edge = await startAgentNode({ manifest: twoFilters() });
});

after(async () => {
  await edge?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function modules(): Promise<Record<string, ModuleStatus>> {
  const s = await edge.node.agent!.status();
  return Object.fromEntries(s.modules.map((m) => [m.name, m]));
}

const pids = async () => Object.fromEntries(Object.entries(await modules()).map(([n, m]) => [n, m.pid]));
const queue = () => edge.node.hub.queueLength('upstream');

test('both fromEnvironment paths work under the agent: workload API and connection string', async () => {
  await waitFor('all three modules running', async () =>
    Object.values(await modules()).every((m) => m.state === 'running'),
  );
  // Each filter received from its input and sent on its output: both connected and worked.
  const sent = (m: string) => edge.node.hub.metrics.received.get(`edge1/${m}`) ?? 0;
  await waitFor('both filters to forward messages', () => sent('filter') >= 10 && sent('filterc') >= 10);
  const inputs = await edge.node.hub.endpointStatus();
  for (const m of ['filter', 'filterc']) {
    const input = inputs.find((e) => e.stream === `module/${m}/input1`);
    assert.ok(input && input.delivered >= 10 && input.attached, `${m} consumes its input`);
  }
});

test('redeploy with one env changed restarts only that module and loses nothing queued', async () => {
  const before = await pids();
  const plan = await edge.node.agent!.deploy(twoFilters({ Marker: 'v2' }), {
    baseDir: demoDir,
    dryRun: true,
  });
  assert.deepEqual(
    plan.plan.steps.map((s) => `${s.action} ${s.module}: ${s.reason}`),
    ['restart sensor: env changed'],
  );
  assert.equal(plan.applied, false);
  assert.deepEqual(await pids(), before, 'a dry run changes nothing');

  const queuedBefore = await queue();
  await edge.node.agent!.deploy(twoFilters({ Marker: 'v2' }), { baseDir: demoDir, dryRun: false });
  await waitFor('the sensor to run again', async () => (await modules()).sensor?.state === 'running');
  const after = await pids();
  assert.equal(after.filter, before.filter, 'filter kept running');
  assert.equal(after.filterc, before.filterc, 'filterc kept running');
  assert.notEqual(after.sensor, before.sensor, 'sensor restarted');
  assert.ok((await queue()) >= queuedBefore, 'nothing queued was dropped');
  await waitFor('the new sensor to send', async () => (await queue()) >= queuedBefore + 20);

  // Drain $upstream: per filter, the sensor's first run then its second, each gap-free.
  const got = new Map<string, number[]>();
  const consumer = edge.node.hub.consumeEndpoint('upstream', {
    ready: true,
    deliver(msg: HubMessage, _r, done) {
      const from = msg.systemProperties.connectionModuleId!;
      const { seq } = JSON.parse(Buffer.from(msg.body).toString()) as { seq: number };
      got.set(from, [...(got.get(from) ?? []), seq]);
      done();
    },
  });
  await waitFor('the drain', async () => (await queue()) === 0);
  consumer.detach();
  for (const from of ['filter', 'filterc']) {
    const seqs = got.get(from) ?? [];
    const restartAt = seqs.findIndex((s, i) => i > 0 && s < seqs[i - 1]!);
    assert.ok(restartAt > 0, `${from}: both sensor runs are there`);
    const run1 = firstArrivals(seqs.slice(0, restartAt));
    const run2 = firstArrivals(seqs.slice(restartAt));
    assert.deepEqual(run1, range(run1.length), `${from}: first run gap-free`);
    assert.deepEqual(run2, range(run2.length), `${from}: second run gap-free`);
  }
});

test('a route change restarts no module and keeps queued messages', async () => {
  const before = await pids();
  await waitFor('something queued', async () => (await queue()) >= 5);
  const queuedBefore = await queue();
  const withRaw = twoFilters({ Marker: 'v2' }, (m) => {
    m.modulesContent.$edgeHub['properties.desired'].routes.raw =
      'FROM /messages/modules/sensor/outputs/* INTO $upstream';
  });
  const r = await edge.node.agent!.deploy(withRaw, { baseDir: demoDir, dryRun: false });
  assert.deepEqual(r.plan.steps, []);
  assert.equal(r.plan.routesChanged, true);
  assert.deepEqual(await pids(), before);
  assert.ok((await queue()) >= queuedBefore);
});

const BAD: Array<[string, (m: Json) => void, RegExp]> = [
  [
    'unknown field',
    (m) => (m.modulesContent.$edgeAgent['properties.desired'].modules.sensor.colour = 'red'),
    /modules\.sensor\.colour/,
  ],
  [
    'wrong type',
    (m) => (m.modulesContent.$edgeAgent['properties.desired'].modules.sensor.startupOrder = 'first'),
    /modules\.sensor\.startupOrder/,
  ],
  [
    'route to an unknown module',
    (m) =>
      (m.modulesContent.$edgeHub['properties.desired'].routes.x =
        'FROM /messages/* INTO BrokeredEndpoint("/modules/nope/inputs/a")'),
    /routes\.x.*nope/,
  ],
  [
    'bad createOptions JSON',
    (m) =>
      (m.modulesContent.$edgeAgent['properties.desired'].modules.box = {
        type: 'docker',
        settings: { image: 'busybox', createOptions: '{"HostConfig": ' },
      }),
    /modules\.box\.settings\.createOptions/,
  ],
];

test('bad manifests are refused with their JSON path and leave the deployment untouched', async () => {
  const before = await pids();
  const hashBefore = (await edge.node.agent!.status()).deployment?.hash;
  for (const [what, edit, path_] of BAD) {
    const file = path.join(dir, `${what.replaceAll(' ', '-')}.json`);
    await writeFile(file, JSON.stringify(twoFilters({ Marker: 'v2' }, edit)));
    const r = await runTandem(['deploy', file, '--data-dir', edge.dataDir]);
    assert.equal(r.code, 1, `${what}: exit 1`);
    assert.match(r.err + r.out, path_, `${what}: names the path`);
  }
  // Duplicate module names only exist in the text: JSON.stringify cannot even write them.
  const text = JSON.stringify(twoFilters({ Marker: 'v2' }), null, 1).replace(
    '"filterc": {',
    '"filter": {"type": "process", "settings": {"command": "true"}},\n"filterc": {',
  );
  const dup = path.join(dir, 'duplicate.json');
  await writeFile(dup, text);
  const r = await runTandem(['deploy', dup, '--data-dir', edge.dataDir]);
  assert.equal(r.code, 1);
  assert.match(r.err + r.out, /modules\.filter.*duplicate/);
  assert.deepEqual(await pids(), before, 'no module was touched');
  assert.equal((await edge.node.agent!.status()).deployment?.hash, hashBefore, 'the deployment is the same');
});

test('a docker module without a container engine fails clearly; the others keep running', async () => {
  const before = await pids();
  const withDocker = twoFilters({ Marker: 'v2' }, (m) => {
    m.modulesContent.$edgeAgent['properties.desired'].modules.box = {
      type: 'docker',
      settings: { image: 'busybox:latest', createOptions: '{"Cmd": ["sleep", "3600"]}' },
    };
  });
  const r = await edge.node.agent!.deploy(withDocker, { baseDir: demoDir, dryRun: false });
  assert.deepEqual(
    r.plan.steps.map((s) => `${s.action} ${s.module}`),
    ['start box'],
  );
  await waitFor('box to fail', async () => (await modules()).box?.state === 'failed');
  const box = (await modules()).box!;
  assert.match(box.error ?? '', /container runtime/);
  const after = await pids();
  for (const m of ['filter', 'filterc', 'sensor']) assert.equal(after[m], before[m], `${m} untouched`);
});

function firstArrivals(xs: number[]): number[] {
  const seen = new Set<number>();
  return xs.filter((x) => !seen.has(x) && seen.add(x));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}
