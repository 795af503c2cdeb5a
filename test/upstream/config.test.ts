/** Upstream configuration: what is accepted, the defaults, and clear refusals (TANDEM_E_UPSTREAM). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTandemError } from '../../src/errors.js';
import { parseSasToken } from '../../src/identity/sas.js';
import { limits } from '../../src/limits.js';
import { attemptOptions } from '../../src/upstream/client-options.js';
import { describeTarget, parseUpstreamTarget } from '../../src/upstream/config.js';
import { parseDeviceConnectionString } from '../../src/upstream/connection-string.js';

const key = Buffer.alloc(32, 9).toString('base64');
const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function refused(input: unknown, why: RegExp): void {
  assert.throws(
    () => parseUpstreamTarget(input),
    (err) => isTandemError(err, 'TANDEM_E_UPSTREAM') && why.test(err.message) && !err.message.includes(key),
    JSON.stringify(input),
  );
}

test('mqtt: defaults (MQTT 5, default topic and client id, ports by scheme)', () => {
  const t = parseUpstreamTarget({ kind: 'mqtt', url: 'mqtt://cloud.example' });
  assert.equal(t.kind, 'mqtt');
  assert.deepEqual(t.endpoint, { host: 'cloud.example', port: 1883, tls: false, caPem: undefined });
  assert.equal(t.mqttVersion, 5);
  assert.deepEqual(describeTarget(t, 'edge1'), {
    kind: 'mqtt',
    url: 'mqtt://cloud.example:1883',
    mqttVersion: '5',
    clientId: 'tandem-edge1',
    topic: 'tandem/{edgeDeviceId}/messages',
  });
  const s = parseUpstreamTarget({ kind: 'mqtt', url: 'mqtts://[::1]', caPem: pem, mqttVersion: '3.1.1' });
  assert.deepEqual(s.endpoint, { host: '::1', port: 8883, tls: true, caPem: pem });
  assert.equal(describeTarget(s, 'e').url, 'mqtts://[::1]:8883');
});

test('mqtt: options for one attempt (reconnect off, clean session, credentials)', () => {
  const t = parseUpstreamTarget({
    kind: 'mqtt',
    url: 'mqtts://h:9999',
    username: 'u',
    password: 'p',
    clientId: 'c',
  });
  const { options, tokenExpiresAtMs } = attemptOptions(t, 'edge', 0);
  assert.equal(options.reconnectPeriod, 0);
  assert.equal(options.clean, true);
  assert.equal(options.queueQoSZero, false);
  assert.equal(options.protocol, 'mqtts');
  assert.equal(options.port, 9999);
  assert.equal(options.clientId, 'c');
  assert.equal(options.username, 'u');
  assert.equal(options.password, 'p');
  assert.equal(tokenExpiresAtMs, undefined);
  assert.ok(!JSON.stringify(describeTarget(t, 'edge')).includes('"p"'), 'no password in the description');
});

test('mqtt: refusals name the field', () => {
  refused(null, /expected an object/);
  refused({ kind: 'amqp' }, /upstream\.kind/);
  refused({ kind: 'mqtt' }, /upstream\.url: is required/);
  refused({ kind: 'mqtt', url: 'http://x' }, /mqtt:\/\/ or mqtts:\/\//);
  refused({ kind: 'mqtt', url: 'not a url' }, /not a URL/);
  refused({ kind: 'mqtt', url: 'mqtt://u:secret@x' }, /credentials/);
  refused({ kind: 'mqtt', url: 'mqtt://x/topic' }, /no path/);
  refused({ kind: 'mqtt', url: 'mqtt://x', caPem: pem }, /only used with mqtts/);
  refused({ kind: 'mqtt', url: 'mqtts://x', caPem: '/etc/ca.pem' }, /not a file name/);
  refused({ kind: 'mqtt', url: 'mqtt://x', mqttVersion: '3.1' }, /mqttVersion/);
  refused({ kind: 'mqtt', url: 'mqtt://x', mqttVersion: '3.1.1', password: 'p' }, /needs a username/);
  refused({ kind: 'mqtt', url: 'mqtt://x', topic: 'a/#' }, /wildcard/);
  refused({ kind: 'mqtt', url: 'mqtt://x', topik: 'a' }, /upstream\.topik: unknown field/);
  refused({ kind: 'mqtt', url: 'mqtt://x', clientId: '' }, /non-empty/);
});

test('iothub: connection string, gateway, TLS by default, MQTT 3.1.1 by default', () => {
  const t = parseUpstreamTarget({
    kind: 'iothub',
    connectionString: `HostName=hub.example;DeviceId=child;SharedAccessKey=${key};GatewayHostName=parent.local:8884`,
    caPem: pem,
  });
  assert.equal(t.kind, 'iothub');
  assert.deepEqual(t.endpoint, { host: 'parent.local', port: 8884, tls: true, caPem: pem });
  assert.equal(t.mqttVersion, 4);
  const direct = parseUpstreamTarget({
    kind: 'iothub',
    connectionString: `HostName=hub.example;DeviceId=child;SharedAccessKey=${key}`,
  });
  assert.deepEqual(direct.endpoint, { host: 'hub.example', port: 8883, tls: true, caPem: undefined });
  const plain = parseUpstreamTarget({
    kind: 'iothub',
    connectionString: `HostName=hub.example;DeviceId=child;SharedAccessKey=${key};GatewayHostName=127.0.0.1`,
    tls: false,
    mqttVersion: '5',
  });
  assert.deepEqual(plain.endpoint, { host: '127.0.0.1', port: 1883, tls: false, caPem: undefined });
  assert.ok(!JSON.stringify(describeTarget(t, 'x')).includes(key));
});

test('iothub: client id, username and a fresh SAS token per attempt', () => {
  const t = parseUpstreamTarget({
    kind: 'iothub',
    connectionString: `HostName=hub.example;DeviceId=child;SharedAccessKey=${key}`,
  });
  const now = 1_700_000_000_000;
  const { options, tokenExpiresAtMs } = attemptOptions(t, 'ignored', now);
  assert.equal(options.clientId, 'child');
  assert.equal(options.username, 'hub.example/child/?api-version=2021-04-12');
  const token = parseSasToken(String(options.password));
  assert.equal(token.resourceUri, 'hub.example/devices/child');
  assert.equal(token.expirySec, now / 1000 + limits.upstreamSasTokenLifetimeSeconds);
  assert.equal(tokenExpiresAtMs, token.expirySec * 1000);
});

test('connection strings: parts, gateway forms, and refusals that never echo the key', () => {
  const cs = parseDeviceConnectionString(
    `HostName=h;DeviceId=d;SharedAccessKey=${key};GatewayHostName=[::1]:1883`,
  );
  assert.equal(cs.gatewayHost, '::1');
  assert.equal(cs.gatewayPort, 1883);
  const base = `HostName=h;DeviceId=d;SharedAccessKey=${key}`;
  const cases: Array<[string, RegExp]> = [
    [`HostName=h;SharedAccessKey=${key}`, /DeviceId is missing/],
    [`${base};ModuleId=m`, /module connection string/],
    [`${base};SharedAccessKeyName=p`, /policy/],
    [`HostName=h;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=x`, /cannot be renewed/],
    [`${base};x509=true`, /X\.509/],
    [`${base};Hostname=h`, /unknown part "Hostname"/],
    [`${base};HostName=h2`, /appears twice/],
    [`HostName=h;DeviceId=d;SharedAccessKey=not base64!`, /not base64/],
    [`HostName=h;DeviceId=d+x;SharedAccessKey=${key}`, /not a valid device id/],
    [`${base};GatewayHostName=host:99999`, /outside 1-65535/],
    [`${base};GatewayHostName=a/b`, /not host or host:port/],
    [`HostName=;DeviceId=d;SharedAccessKey=${key}`, /HostName is empty/],
  ];
  for (const [text, why] of cases) {
    assert.throws(
      () => parseDeviceConnectionString(text),
      (err) => isTandemError(err, 'TANDEM_E_UPSTREAM') && why.test(err.message) && !err.message.includes(key),
      text,
    );
  }
  refused({ kind: 'iothub' }, /connectionString: is required/);
  refused({ kind: 'iothub', connectionString: base, tls: 'no' }, /tls: expected true or false/);
  refused({ kind: 'iothub', connectionString: base, tls: false, caPem: pem }, /only used with tls/);
});
