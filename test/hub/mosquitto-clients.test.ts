/**
 * Eclipse Mosquitto's command-line clients (Debian's mosquitto-clients) against the hub,
 * MQTT 3.1.1 and 5, over TLS with the hub's CA and over plain loopback.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sasPassword } from '../support/clients.js';
import { startTestNode, type TestNode } from '../support/node.js';

let t: TestNode;

before(async () => {
  t = await startTestNode({
    routes: {
      r: 'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/mosq/inputs/in")',
    },
  });
});

after(async () => {
  await t.stop();
});

function auth(clientId: string, password: string, version: '311' | '5', tls: boolean): string[] {
  return [
    '-h',
    'localhost',
    '-p',
    String(tls ? t.secure.port : t.plain.port),
    ...(tls ? ['--cafile', path.join(t.dataDir, 'tls', 'ca.pem')] : []),
    '-V',
    version === '5' ? 'mqttv5' : 'mqttv311',
    '-i',
    clientId,
    '-u',
    `${t.plain.hubName}/${clientId}/?api-version=2021-04-12`,
    '-P',
    password,
  ];
}

async function roundTrip(version: '311' | '5', tls: boolean): Promise<void> {
  const device = await t.identity(`mosq-dev-${version}`);
  const mod = await t.identity('edge1', 'mosq');
  // stdbuf: mosquitto_sub block-buffers stdout on a pipe, hiding the SUBACK line we wait for.
  const sub = spawn('stdbuf', [
    '-oL',
    'mosquitto_sub',
    ...auth('edge1/mosq', sasPassword(t.plain.hubName, mod), version, tls),
    '-t',
    'devices/edge1/modules/mosq/inputs/#',
    '-q',
    '1',
    '-C',
    '3',
    '-v',
    '-d',
  ]);
  // Listen for the exit now: the subscriber may exit (after its 3rd message) before we await it.
  const subExit = once(sub, 'exit') as Promise<[number]>;
  let out = '';
  sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // -d prints the SUBACK; only then is the subscription in place.
  await new Promise<void>((resolve, reject) => {
    sub.stdout.on('data', () => out.includes('SUBACK') && resolve());
    sub.once('exit', (code) => reject(new Error(`mosquitto_sub exited ${code}: ${out}`)));
  });
  for (let i = 1; i <= 3; i++) {
    const pub = spawn('mosquitto_pub', [
      ...auth(device.deviceId, sasPassword(t.plain.hubName, device), version, tls),
      '-t',
      `devices/${device.deviceId}/messages/events/n=${i}`,
      '-q',
      '1',
      '-m',
      `reading ${i}`,
    ]);
    let err = '';
    pub.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(pub, 'exit')) as [number];
    assert.equal(code, 0, `mosquitto_pub failed: ${err}`);
  }
  const [code] = await subExit;
  assert.equal(code, 0);
  const lines = out.split('\n').filter((l) => l.startsWith('devices/'));
  assert.equal(lines.length, 3, out);
  lines.forEach((line, i) => {
    assert.match(
      line,
      new RegExp(`^devices/edge1/modules/mosq/inputs/in/\\S*n=${i + 1}\\S* reading ${i + 1}$`),
    );
    assert.ok(
      line.includes(`%24.cdid=mosq-dev-${version}`) || line.includes(`$.cdid=mosq-dev-${version}`),
      line,
    );
  });
}

test('mosquitto_pub -> route -> mosquitto_sub, MQTT 3.1.1 over TLS', async () => {
  await roundTrip('311', true);
});

test('mosquitto_pub -> route -> mosquitto_sub, MQTT 5 over plain loopback', async () => {
  await roundTrip('5', false);
});

test('mosquitto_pub with a bad token is refused', async () => {
  const device = await t.identity('mosq-bad');
  const pub = spawn('mosquitto_pub', [
    ...auth(device.deviceId, 'SharedAccessSignature sr=a&sig=b&se=1', '311', false),
    '-t',
    'devices/mosq-bad/messages/events/',
    '-q',
    '1',
    '-m',
    'x',
  ]);
  let err = '';
  pub.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(pub, 'exit')) as [number];
  assert.notEqual(code, 0);
  assert.match(err, /not authori[sz]ed|bad user name or password/i);
});
