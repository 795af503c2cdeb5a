/**
 * `tandem demo` (what `npm start` runs): the hub on this machine with the example
 * deployment's routes and a simulated temperature sensor publishing over TLS with its own
 * identity, printing what flows. Nothing else to install.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { createSasToken } from '../identity/sas.js';
import { readManifestFile, startNode } from '../runtime/start-node.js';
import { parse, portOption } from './options.js';

const USAGE = `Usage: tandem demo [--data-dir DIR] [--port N] [--interval-ms N]

Starts the hub with examples/demo/manifest.json and a simulated sensor device.
  --data-dir DIR     default .tandem-demo
  --port N           TLS MQTT port (default 0: a free port)
  --interval-ms N    time between sensor readings (default 1000)
`;

const here = path.dirname(fileURLToPath(import.meta.url));
/** src/cli (tsx) or dist/src/cli (compiled): the repository root is two or three levels up. */
const manifestPath = path.resolve(
  here,
  here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..',
  'examples/demo/manifest.json',
);

export async function runDemo(argv: string[]): Promise<number> {
  const args = parse(
    argv,
    { 'data-dir': { type: 'string' }, port: { type: 'string' }, 'interval-ms': { type: 'string' } },
    USAGE,
  );
  if (!args) return 0;
  const intervalMs = Number(args.values['interval-ms'] ?? 1000);
  const node = await startNode({
    dataDir: (args.values['data-dir'] as string | undefined) ?? '.tandem-demo',
    manifest: await readManifestFile(manifestPath),
    tlsPort: portOption(args.values.port as string | undefined, 'port') ?? 0,
    log: (level, message) => process.stderr.write(`${level} ${message}\n`),
  });
  const deviceId = 'sensor-1';
  const identity = (await node.registry.get(deviceId)) ?? (await node.registry.create(deviceId));
  const resource = `${node.hubName}/devices/${deviceId}`;
  const password = createSasToken({
    resourceUri: resource,
    key: identity.primaryKey,
    expirySec: Math.floor(Date.now() / 1000) + 3600,
  });
  const client = mqtt.connect(`mqtts://localhost:${node.ports.mqtts}`, {
    clientId: deviceId,
    username: `${node.hubName}/${deviceId}/?api-version=2021-04-12`,
    password,
    ca: node.caPem,
    protocolVersion: 4,
    reconnectPeriod: 1000,
  });
  process.stdout.write(
    `tandem demo: hub '${node.hubName}' on mqtts port ${node.ports.mqtts}, API http://127.0.0.1:${node.ports.api}\n`,
  );
  process.stdout.write(
    `sensor '${deviceId}' publishes every ${intervalMs} ms; routes: sensor -> $upstream, hot readings -> alerts/hot. Ctrl-C stops.\n`,
  );
  let sent = 0;
  let acked = 0;
  const publish = setInterval(() => {
    const temperature = Math.round((20 + 15 * Math.random()) * 10) / 10;
    const body = JSON.stringify({ temperature, humidity: Math.round(40 + 20 * Math.random()), seq: ++sent });
    client.publish(
      `devices/${deviceId}/messages/events/$.ct=application%2Fjson&$.ce=utf-8`,
      body,
      { qos: 1 },
      (err) => {
        if (!err) acked++;
      },
    );
  }, intervalMs);
  const status = setInterval(async () => {
    const queues = (await node.hub.endpointStatus()).map((e) => `${e.stream}=${e.queueLength}`).join(' ');
    process.stdout.write(`sent ${sent}  acknowledged ${acked}  queues: ${queues || '(none yet)'}\n`);
  }, 5 * intervalMs);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(publish);
  clearInterval(status);
  await client.endAsync();
  await node.close();
  return 0;
}
