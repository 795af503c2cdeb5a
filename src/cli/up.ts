/** `tandem up`: hub + agent in the foreground with a live status view until SIGINT/SIGTERM, or --detach. */
import path from 'node:path';
import { TandemError } from '../errors.js';
import { limits } from '../limits.js';
import { type RunningNode, readManifestFile, startNode } from '../runtime/start-node.js';
import { clusterOption, NODE_OPTIONS } from './cluster-options.js';
import { detach } from './detach.js';
import { DEFAULT_DATA_DIR, parse, portOption } from './options.js';
import { useColor } from './output.js';
import { StatusView } from './status-view.js';
import { upstreamOption } from './upstream-options.js';

const USAGE = `Usage: tandem up [manifest.json] [options]

Starts the hub and the agent: the manifest's modules run, its routes apply, and a live
status view shows modules, queues and upstream. Without a manifest, the last deployment
applied to this data directory is started again. On first start Tandem creates its own
certificate authority in DIR/tls/ca.pem; give that file to devices so they trust the hub.

Options:
  --data-dir DIR       Where the store, identities, logs and certificates live (default ${DEFAULT_DATA_DIR})
  --detach             Run in the background (output to DIR/tandem.log); stop with 'tandem stop'
  --port N             TLS MQTT port (default 8883; 0 picks a free port)
  --host ADDR          Address the TLS port binds to (default 0.0.0.0)
  --plain-port N       Also serve plain MQTT on this port (off unless given)
  --plain-host ADDR    Address the plain port binds to (default 127.0.0.1: loopback only)
  --api-port N         Local HTTP API port (default 0: a free port, written to DIR/ports.json)
  --api-host ADDR      Address the API binds to (default 127.0.0.1)
  --hub-name NAME      IoT Hub host name devices use in their connection strings (remembered)
  --device-id ID       This edge device's id; modules are {device-id}/{module} (remembered)
  --tls-name NAME      Extra DNS name or IP for the server certificate (repeatable)
  --store-max-mb N     Cap on the message store; when full, new messages are refused, none dropped
  --upstream TARGET    Where $upstream goes: mqtt[s]://host:port (a cloud broker) or an IoT Hub
                       device connection string "HostName=..;DeviceId=..;SharedAccessKey=..[;GatewayHostName=..]"
                       (a parent hub). Without it, $upstream messages queue within their TTL.
  --upstream-ca FILE   CA (PEM) to trust for the upstream connection
  --upstream-topic T   Topic for a broker upstream (default tandem/{edgeDeviceId}/messages)
  --upstream-plain     Parent hub over plain MQTT (tests and loopback only: the token is not encrypted)
  --status-interval S  Seconds between status lines when the output is not a terminal (default 10; 0: none)
  --no-agent           Hub only: apply the manifest's routes, run no modules

Cluster (one hub replica per edge node; see docs/cluster.md):
  --cluster URLS       Join a cluster whose store is NATS JetStream: comma-separated
                       nats://host:port of the servers, this node's own first. The node's
                       agent runs what the cluster's scheduler assigns it; with a manifest,
                       the first node to start gives the cluster its deployment.
  --replica ID         This replica's id, unique in the cluster (default: the host name)
  --replicas N         JetStream replicas of messages and state (default 3)
  --nats-monitor URL   This node's nats-server monitoring URL (http://host:8222): lets the
                       start-up check read the peer count and fsync settings exactly
  --cluster-prefix P   Names of Tandem's JetStream stream and buckets (default TANDEM)
  --node-cpu N         Cores this node offers the scheduler (default: the machine's)
  --node-memory-mb N   Memory this node offers, MiB (default: the machine's)
  --node-label K=V     A label node selectors match (repeatable)
  --node-device D=N    N devices named D (gpu=1) this node offers (repeatable)
  --node-down-grace-ms N  Silence after which a node is declared down and its modules move
                       (default ${limits.clusterNodeDownGraceMs})
  -h, --help           Show this help
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  detach: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  'plain-port': { type: 'string' },
  'plain-host': { type: 'string' },
  'api-port': { type: 'string' },
  'api-host': { type: 'string' },
  'hub-name': { type: 'string' },
  'device-id': { type: 'string' },
  'tls-name': { type: 'string', multiple: true },
  'store-max-mb': { type: 'string' },
  upstream: { type: 'string' },
  'upstream-ca': { type: 'string' },
  'upstream-topic': { type: 'string' },
  'upstream-plain': { type: 'boolean' },
  'status-interval': { type: 'string' },
  'no-agent': { type: 'boolean' },
  cluster: { type: 'string' },
  replica: { type: 'string' },
  replicas: { type: 'string' },
  'nats-monitor': { type: 'string' },
  'cluster-prefix': { type: 'string' },
  ...NODE_OPTIONS,
} as const;

export async function runUp(argv: string[]): Promise<number> {
  const args = parse(argv, OPTIONS, USAGE);
  if (!args) return 0;
  const v = args.values;
  const dataDir = (v['data-dir'] as string | undefined) ?? DEFAULT_DATA_DIR;
  const manifestPath = args.positionals[0];
  if (args.positionals.length > 1)
    throw new TandemError('TANDEM_E_CONFIG', `one manifest at most\n\n${USAGE}`);
  // Read and validate before detaching, so a bad manifest fails where the user can see it.
  const manifest = manifestPath ? await readManifestFile(manifestPath) : undefined;
  const upstream = await upstreamOption(v);
  const cluster = clusterOption(v);
  if (v.detach) return detach(argv, dataDir);
  const view = new StatusView({
    tty: process.stdout.isTTY === true,
    color: useColor(),
    intervalSecs: Number(v['status-interval'] ?? 10),
  });
  const node = await startNode({
    dataDir,
    manifest,
    manifestBaseDir: manifestPath ? path.dirname(path.resolve(manifestPath)) : undefined,
    agent: !v['no-agent'],
    cluster,
    upstream,
    tlsPort: portOption(v.port as string | undefined, 'port') ?? 8883,
    tlsHost: v.host as string | undefined,
    plainPort: portOption(v['plain-port'] as string | undefined, 'plain-port'),
    plainHost: v['plain-host'] as string | undefined,
    apiPort: portOption(v['api-port'] as string | undefined, 'api-port'),
    apiHost: v['api-host'] as string | undefined,
    hubName: v['hub-name'] as string | undefined,
    edgeDeviceId: v['device-id'] as string | undefined,
    tlsNames: (v['tls-name'] as string[] | undefined) ?? [],
    storeBytesMax: megabytes(v['store-max-mb'] as string | undefined),
    onModuleChange: () => view.changed(),
    log: (level, message) => view.log(level, message),
  });
  printBanner(node);
  view.start(() => node.status());
  await waitForSignal();
  view.stop();
  process.stderr.write('tandem: shutting down (stopping modules)\n');
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
