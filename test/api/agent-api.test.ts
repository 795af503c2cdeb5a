/**
 * The API routes around the agent and the monitor, over real HTTP and a real hub with real
 * MQTT clients: status with modules (queues from the hub), module metrics, deployments with
 * manifest errors as 400 + JSON path, and the monitor stream. The agent is StandInAgent until
 * the real one lands.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MonitorEvent, StatusResponse } from '../../src/api/types.js';
import { connectClient, telemetryTopic } from '../support/clients.js';
import { startAgentApi, startTestNode, type TestApi, type TestNode } from '../support/node.js';
import { waitFor } from '../support/wait.js';
import { processModule, testManifest } from './manifests.js';
import { moduleStatus, StandInAgent } from './stand-in-agent.js';

let t: TestNode;
let api: TestApi;
let agent: StandInAgent;
let logDir: string;

before(async () => {
  t = await startTestNode({
    routes: {
      toFilter: 'FROM /messages/* WHERE kind = "reading" INTO BrokeredEndpoint("/modules/filter/inputs/in1")',
      up: 'FROM /messages/* INTO $upstream',
    },
  });
  logDir = await mkdtemp(path.join(os.tmpdir(), 'tandem-logs-'));
  agent = new StandInAgent(logDir, [
    moduleStatus('filter', { pid: 4242 }),
    moduleStatus('sensor', { state: 'backoff', restartCount: 3, exitCode: 1, error: 'exited with 1' }),
  ]);
  api = await startAgentApi(t, { agent, upstreamStatus: () => ({ state: 'backoff', lastError: 'refused' }) });
});
after(async () => {
  await api.close();
  await t.stop();
  await rm(logDir, { recursive: true, force: true });
});

async function call(
  method: string,
  urlPath: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${api.base}${urlPath}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

test('status: modules with queue lengths from the hub, deployment and upstream', async () => {
  const device = await connectClient(t.plain, await t.identity('agent-api-dev'));
  for (let i = 0; i < 2; i++)
    await device.publishAsync(telemetryTopic('agent-api-dev', 'kind=reading'), `r${i}`, { qos: 1 });
  await device.endAsync();
  const { status, json } = await call('GET', '/api/v1/status');
  assert.equal(status, 200);
  const s = json as StatusResponse;
  assert.equal(s.hubName, 'test-hub.local');
  const byName = new Map(s.modules?.map((m) => [m.name, m]));
  assert.equal(byName.get('filter')?.queueLength, 2, "queued on module/filter/in1, not the agent's number");
  assert.equal(byName.get('sensor')?.queueLength, 0);
  assert.equal(byName.get('sensor')?.restartCount, 3);
  assert.deepEqual(s.upstream, { state: 'backoff', lastError: 'refused' });
  assert.equal(s.endpoints.find((e) => e.stream === 'module/filter/in1')?.queueLength, 2);
  // The plain node API has no agent: no modules, and deployments are refused as unavailable.
  const plain = (await (
    await fetch(`http://127.0.0.1:${t.node.ports.api}/api/v1/status`)
  ).json()) as StatusResponse;
  assert.equal(plain.modules, undefined);
  const refused = await fetch(`http://127.0.0.1:${t.node.ports.api}/api/v1/deployment`, {
    method: 'POST',
    body: JSON.stringify({ manifest: {}, baseDir: '/' }),
  });
  assert.equal(refused.status, 503);
});

test('metrics: module state and restarts as gauges, ttl_expiry always present', async () => {
  const text = await (await fetch(`${api.base}/metrics`)).text();
  assert.match(text, /^tandem_module_state\{module_name="sensor",state="backoff"\} 1$/m);
  assert.match(text, /^tandem_module_state\{module_name="sensor",state="running"\} 0$/m);
  assert.match(text, /^tandem_module_restart_count\{module_name="sensor"\} 3$/m);
  assert.match(text, /^tandem_module_expected_running\{module_name="filter"\} 1$/m);
  assert.match(text, /^tandem_module_exit_code\{module_name="sensor"\} 1$/m);
  assert.match(text, /^edgehub_messages_dropped_total\{reason="ttl_expiry"\} 0$/m);
  assert.match(text, /^# TYPE tandem_messages_expired_total counter$/m);
  assert.match(text, /^edgehub_connected_clients \d+$/m);
});

test('deployment: invalid manifest is 400 with path and problems; dry run plans; apply applies', async () => {
  const before = agent.modules.map((m) => m.name);
  const bad = await call('POST', '/api/v1/deployment', {
    manifest: testManifest({ filter: processModule('node', { status: 'sometimes' }) }),
    baseDir: '/opt/site',
  });
  assert.equal(bad.status, 400);
  const err = bad.json as { code: string; message: string; details: { path: string; errors: unknown[] } };
  assert.equal(err.code, 'TANDEM_E_MANIFEST');
  assert.match(err.details.path, /modules\.filter\.status$/);
  assert.ok(Array.isArray(err.details.errors) && err.details.errors.length >= 1);
  assert.deepEqual(
    agent.modules.map((m) => m.name),
    before,
  );

  const good = {
    manifest: testManifest({ filter: processModule('node'), alerts: processModule('alerts') }),
    baseDir: '/opt/site',
  };
  const dry = await call('POST', '/api/v1/deployment', { ...good, dryRun: true });
  assert.equal(dry.status, 200);
  const planned = dry.json as {
    plan: { steps: Array<{ action: string; module: string }> };
    applied: boolean;
  };
  assert.equal(planned.applied, false);
  assert.deepEqual(planned.plan.steps.map((s) => `${s.action} ${s.module}`).sort(), [
    'start alerts',
    'stop sensor',
  ]);
  assert.deepEqual(agent.calls.at(-1)?.options, { baseDir: '/opt/site', dryRun: true });
  const applied = await call('POST', '/api/v1/deployment', good);
  assert.equal((applied.json as { applied: boolean }).applied, true);
  const s = (await call('GET', '/api/v1/status')).json as StatusResponse;
  assert.deepEqual(
    s.modules?.map((m) => m.name),
    ['filter', 'alerts'],
  );
  assert.match(s.deployment?.hash ?? '', /^[0-9a-f]{12}$/);

  assert.equal((await call('POST', '/api/v1/deployment', { ...good, baseDir: 'relative/dir' })).status, 400);
  assert.equal((await call('POST', '/api/v1/deployment', { baseDir: '/x' })).status, 400);
  assert.equal((await call('POST', '/api/v1/deployment', { ...good, dryRun: 'yes' })).status, 400);
  agent.modules = [
    moduleStatus('filter', { pid: 4242 }),
    moduleStatus('sensor', { state: 'backoff', restartCount: 3 }),
  ];
});

async function readLines(
  res: Response,
  enough: (lines: string[]) => boolean,
  timeoutMs = 10_000,
): Promise<string[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const lines = text.split('\n').filter((l) => l !== '');
      if (enough(lines)) return lines;
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(text)}`);
      const { value, done } = await reader.read();
      if (done) return text.split('\n').filter((l) => l !== '');
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
}

test('monitor: NDJSON per routed message, text or base64 bodies, filter, listener removed on disconnect', async () => {
  const listenersBefore = t.node.hub.events.listenerCount('routed');
  const all = new AbortController();
  const filtered = new AbortController();
  const res = await fetch(`${api.base}/api/v1/monitor`, { signal: all.signal });
  const onlyOther = await fetch(`${api.base}/api/v1/monitor?filter=someone-else`, {
    signal: filtered.signal,
  });
  let otherText = '';
  const otherDone = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of onlyOther.body!)
        otherText += decoder.decode(chunk as Uint8Array, { stream: true });
    } catch {
      // aborted below
    }
  })();
  assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
  assert.equal(t.node.hub.events.listenerCount('routed'), listenersBefore + 2);
  const device = await connectClient(t.plain, await t.identity('monitor-dev'));
  await device.publishAsync(telemetryTopic('monitor-dev', 'kind=reading&site=north'), '{"t":21.5}', {
    qos: 1,
  });
  await device.publishAsync(telemetryTopic('monitor-dev'), Buffer.from([0xff, 0x00, 0xfe]), { qos: 1 });
  await device.publishAsync(telemetryTopic('monitor-dev'), 'x'.repeat(10_000), { qos: 1 });
  await device.endAsync();
  const lines = await readLines(res, (l) => l.length >= 3);
  const [text, binary, big] = lines.map((l) => JSON.parse(l) as MonitorEvent);
  assert.equal(text!.source, 'monitor-dev');
  assert.deepEqual([...text!.to].sort(), ['module/filter/in1', 'upstream']);
  assert.deepEqual(text!.properties, { kind: 'reading', site: 'north' });
  assert.equal(text!.body, '{"t":21.5}');
  assert.equal(text!.bodyEncoding, 'utf8');
  assert.ok(!Number.isNaN(Date.parse(text!.time)));
  assert.equal(binary!.bodyEncoding, 'base64');
  assert.equal(binary!.body, Buffer.from([0xff, 0x00, 0xfe]).toString('base64'));
  assert.deepEqual(binary!.to, ['upstream']);
  assert.equal(big!.bodyTruncated, true);
  assert.equal(big!.bodyBytes, 10_000);
  assert.equal(big!.body.length, 4096);
  all.abort();
  filtered.abort();
  await otherDone;
  assert.equal(otherText, '', 'a filter for someone else sees none of these');
  await waitFor(
    'the monitor to stop listening',
    () => t.node.hub.events.listenerCount('routed') === listenersBefore,
  );
});

test('monitor filter: messages from a device or to a module', async () => {
  const byModule = new AbortController();
  const res = await fetch(`${api.base}/api/v1/monitor?filter=filter`, { signal: byModule.signal });
  const device = await connectClient(t.plain, await t.identity('filter-dev'));
  await device.publishAsync(telemetryTopic('filter-dev'), 'not for filter', { qos: 1 });
  await device.publishAsync(telemetryTopic('filter-dev', 'kind=reading'), 'for filter', { qos: 1 });
  await device.endAsync();
  const [first] = await readLines(res, (l) => l.length >= 1);
  assert.equal((JSON.parse(first!) as MonitorEvent).body, 'for filter');
  byModule.abort();
});

test('closing the API ends open streams', async () => {
  const extra = await startAgentApi(t, { agent });
  const res = await fetch(`${extra.base}/api/v1/monitor`);
  assert.equal(res.status, 200);
  const started = Date.now();
  await extra.close();
  assert.ok(Date.now() - started < 2000, 'close did not wait for the stream');
  await readLines(res, () => false).catch(() => []);
});
