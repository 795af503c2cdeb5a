/** `tandem up`: the hub in the foreground until SIGINT/SIGTERM. */
import { TandemError } from '../errors.js';
import { type RunningNode, readManifestFile, startNode } from '../runtime/start-node.js';
import { DEFAULT_DATA_DIR, parse, portOption } from './options.js';

const USAGE = `Usage: tandem up [manifest.json] [options]

Starts the hub in the foreground. On first start it creates its own certificate authority
and writes it to DIR/tls/ca.pem; give that file to devices so they trust the hub.

Options:
  --data-dir DIR       Where the store, identities and certificates live (default ${DEFAULT_DATA_DIR})
  --port N             TLS MQTT port (default 8883; 0 picks a free port)
  --host ADDR          Address the TLS port binds to (default 0.0.0.0)
  --plain-port N       Also serve plain MQTT on this port (off unless given)
  --plain-host ADDR    Address the plain port binds to (default 127.0.0.1: loopback only)
  --api-port N         Local HTTP API port (default 0: a free port, written to DIR/ports.json)
  --hub-name NAME      IoT Hub host name devices use in their connection strings (remembered)
  --device-id ID       This edge device's id; modules are {device-id}/{module} (remembered)
  --tls-name NAME      Extra DNS name or IP for the server certificate (repeatable)
  --store-max-mb N     Cap on the message store; when full, new messages are refused, none dropped
  -h, --help           Show this help
`;

export async function runUp(argv: string[]): Promise<number> {
  const args = parse(
    argv,
    {
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'plain-port': { type: 'string' },
      'plain-host': { type: 'string' },
      'api-port': { type: 'string' },
      'hub-name': { type: 'string' },
      'device-id': { type: 'string' },
      'tls-name': { type: 'string', multiple: true },
      'store-max-mb': { type: 'string' },
    },
    USAGE,
  );
  if (!args) return 0;
  const v = args.values;
  const manifestPath = args.positionals[0];
  const node = await startNode({
    dataDir: (v['data-dir'] as string | undefined) ?? DEFAULT_DATA_DIR,
    manifest: manifestPath ? await readManifestFile(manifestPath) : undefined,
    tlsPort: portOption(v.port as string | undefined, 'port') ?? 8883,
    tlsHost: v.host as string | undefined,
    plainPort: portOption(v['plain-port'] as string | undefined, 'plain-port'),
    plainHost: v['plain-host'] as string | undefined,
    apiPort: portOption(v['api-port'] as string | undefined, 'api-port'),
    hubName: v['hub-name'] as string | undefined,
    edgeDeviceId: v['device-id'] as string | undefined,
    tlsNames: (v['tls-name'] as string[] | undefined) ?? [],
    storeBytesMax: megabytes(v['store-max-mb'] as string | undefined),
    log: (level, message) => process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`),
  });
  printBanner(node);
  await waitForSignal();
  process.stderr.write('tandem: shutting down\n');
  await node.close();
  return 0;
}

function megabytes(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new TandemError('TANDEM_E_CONFIG', `--store-max-mb must be a positive number, got '${value}'`);
  return Math.floor(n * 1024 * 1024);
}

function printBanner(node: RunningNode): void {
  const lines = [
    `tandem hub '${node.hubName}' (edge device ${node.edgeDeviceId}) is up`,
    node.ports.mqtts !== undefined ? `  mqtts  port ${node.ports.mqtts}  (CA: ${node.caPath})` : '',
    node.ports.mqtt !== undefined ? `  mqtt   port ${node.ports.mqtt}  (plain)` : '',
    `  api    http://127.0.0.1:${node.ports.api}`,
  ].filter(Boolean);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
