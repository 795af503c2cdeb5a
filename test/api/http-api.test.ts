/**
 * The local HTTP API over real HTTP: health, Prometheus metrics with edgeHub's names,
 * status, twins, direct methods answered by a real MQTT client, cloud-to-device messages,
 * and errors as JSON with stable codes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectClient, telemetryTopic } from '../support/clients.js';
import { startTestNode, type TestNode } from '../support/node.js';

let t: TestNode;
let base: string;

before(async () => {
  t = await startTestNode({ routes: { up: 'FROM /messages/* INTO $upstream' } });
  base = `http://127.0.0.1:${t.node.ports.api}`;
});
after(async () => {
  await t.stop();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

test('healthz, status and metrics', async () => {
  const device = await connectClient(t.plain, await t.identity('api-dev'));
  await device.publishAsync(telemetryTopic('api-dev'), 'x', { qos: 1 });
  assert.deepEqual((await call('GET', '/healthz')).json, { status: 'ok' });
  const status = (await call('GET', '/api/v1/status')).json as {
    hubName: string;
    connected: string[];
    endpoints: Array<{ stream: string; queueLength: number }>;
  };
  assert.equal(status.hubName, 'test-hub.local');
  assert.ok(status.connected.includes('api-dev'));
  assert.equal(status.endpoints.find((e) => e.stream === 'upstream')?.queueLength, 1);
  const metrics = (await call('GET', '/metrics')).text;
  assert.match(metrics, /^edgehub_messages_received_total\{id="api-dev"\} 1$/m);
  assert.match(metrics, /^edgehub_queue_length\{endpoint="upstream"\} 1$/m);
  assert.match(metrics, /^edgehub_connected_clients \d+$/m);
  await device.endAsync();
});

test('twin desired patch through the API reaches the device', async () => {
  const device = await connectClient(t.plain, await t.identity('api-twin'));
  await device.subscribeAsync('$iothub/twin/PATCH/properties/desired/#', { qos: 0 });
  const notified = new Promise<string>((resolve) => device.once('message', (_t, p) => resolve(p.toString())));
  const r = await call('PATCH', '/api/v1/twins/api-twin/desired', { mode: 'eco' });
  assert.deepEqual(r.json, { version: 2 });
  assert.deepEqual(JSON.parse(await notified), { mode: 'eco', $version: 2 });
  const twin = (await call('GET', '/api/v1/twins/api-twin')).json as { desired: Record<string, unknown> };
  assert.equal(twin.desired.mode, 'eco');
  const bad = await call('PATCH', '/api/v1/twins/api-twin/desired', ['not', 'an', 'object']);
  assert.equal(bad.status, 400);
  assert.equal((bad.json as { code: string }).code, 'TANDEM_E_TWIN');
  await device.endAsync();
});

test('direct method through the API, and a clear error for an offline target', async () => {
  const device = await connectClient(t.plain, await t.identity('api-method'));
  await device.subscribeAsync('$iothub/methods/POST/#', { qos: 0 });
  device.on('message', (topic, payload) => {
    const rid = new URLSearchParams(topic.split('?')[1]).get('$rid');
    device.publish(
      `$iothub/methods/res/201/?$rid=${rid}`,
      JSON.stringify({ got: JSON.parse(payload.toString()) }),
    );
  });
  const r = await call('POST', '/api/v1/methods/api-method/setLed', {
    payload: { on: true },
    responseTimeoutInSeconds: 10,
  });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 201, payload: { got: { on: true } } });
  await device.endAsync();
  const offline = await call('POST', '/api/v1/methods/api-method/setLed', { payload: {} });
  assert.equal(offline.status, 404);
  assert.equal((offline.json as { code: string }).code, 'TANDEM_E_METHOD_OFFLINE');
});

test('cloud-to-device message through the API', async () => {
  const r = await call('POST', '/api/v1/devices/api-c2d/messages', {
    body: 'open valve',
    properties: { valve: '3' },
  });
  assert.equal(r.status, 201);
  const device = await connectClient(t.plain, await t.identity('api-c2d'));
  const got = new Promise<{ topic: string; body: string }>((resolve) =>
    device.once('message', (topic, p) => resolve({ topic, body: p.toString() })),
  );
  await device.subscribeAsync('devices/api-c2d/messages/devicebound/#', { qos: 1 });
  const m = await got;
  assert.equal(m.body, 'open valve');
  assert.match(m.topic, /valve=3/);
  await device.endAsync();
  const bad = await call('POST', '/api/v1/devices/api-c2d/messages', { nobody: true });
  assert.equal(bad.status, 400);
  assert.equal((await call('GET', '/api/v1/nothing')).status, 404);
});
