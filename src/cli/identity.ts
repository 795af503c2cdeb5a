/** `tandem identity create|list|show`: the device and module registry. */
import os from 'node:os';
import { TandemError } from '../errors.js';
import { IdentityRegistry } from '../identity/registry.js';
import { loadConfig, readPorts, storeDir } from '../runtime/data-dir.js';
import { openEmbeddedStore } from '../store/embedded/index.js';
import { openJetStreamStore } from '../store/jetstream/index.js';
import { DEFAULT_DATA_DIR, parse } from './options.js';

const USAGE = `Usage: tandem identity <create|list|show> [<device>[/<module>]] [options]

  create <device>[/<module>]   Create a device or module identity; prints its connection string
  list                         List identities (--json for data)
  show <device>[/<module>]     Print an identity's connection string

Options:
  --data-dir DIR          Data directory of the hub (default ${DEFAULT_DATA_DIR})
  --gateway-host HOST     GatewayHostName in connection strings (default: this host's name;
                          ':port' is added when the hub's TLS port is not 8883)
  --cluster URLS          The registry of a cluster: nats://host:port of its JetStream servers
                          (comma-separated); use a replica's --data-dir for the hub name
  --cluster-prefix P      The cluster's JetStream names (default TANDEM)
  --json                  Machine-readable output
  -h, --help              Show this help
`;

function splitId(id: string | undefined): { deviceId: string; moduleId?: string } {
  if (!id) throw new TandemError('TANDEM_E_CONFIG', `an identity is required\n\n${USAGE}`);
  const [deviceId, moduleId, extra] = id.split('/');
  if (!deviceId || extra !== undefined || moduleId === '')
    throw new TandemError('TANDEM_E_IDENTITY_INVALID', `'${id}' is not <device> or <device>/<module>`);
  return moduleId ? { deviceId, moduleId } : { deviceId };
}

export async function runIdentity(argv: string[]): Promise<number> {
  const args = parse(
    argv,
    {
      'data-dir': { type: 'string' },
      'gateway-host': { type: 'string' },
      json: { type: 'boolean' },
      cluster: { type: 'string' },
      'cluster-prefix': { type: 'string' },
    },
    USAGE,
  );
  if (!args) return 0;
  const [verb, id] = args.positionals;
  const dataDir = (args.values['data-dir'] as string | undefined) ?? DEFAULT_DATA_DIR;
  const config = await loadConfig(dataDir, {});
  const ports = await readPorts(dataDir);
  const host = (args.values['gateway-host'] as string | undefined) ?? os.hostname();
  const gatewayHost =
    ports?.mqtts !== undefined && ports.mqtts !== 8883 && !host.includes(':')
      ? `${host}:${ports.mqtts}`
      : host;
  const cluster = args.values.cluster as string | undefined;
  // A cluster's registry is replicated in JetStream: any replica's hub sees a new identity at once.
  const store = cluster
    ? await openJetStreamStore({
        servers: cluster
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean),
        prefix: args.values['cluster-prefix'] as string | undefined,
        name: 'tandem-identity',
        attach: true,
      })
    : await openEmbeddedStore({ dir: storeDir(dataDir) });
  try {
    const registry = new IdentityRegistry(store.kv);
    const json = args.values.json === true;
    switch (verb) {
      case 'create':
      case 'show': {
        const { deviceId, moduleId } = splitId(id);
        if (verb === 'create' && moduleId !== undefined && !(await registry.get(deviceId))) {
          // IoT Hub keeps modules under a device; create the device on the way, and say so.
          await registry.create(deviceId);
          process.stderr.write(`created device ${deviceId} for module ${moduleId}\n`);
        }
        const identity =
          verb === 'create'
            ? await registry.create(deviceId, moduleId)
            : await registry.get(deviceId, moduleId);
        if (!identity) throw new TandemError('TANDEM_E_IDENTITY_NOT_FOUND', `no identity '${id}'`);
        const cs = registry.connectionString(identity, { hubName: config.hubName, gatewayHost });
        process.stdout.write(json ? `${JSON.stringify({ id, connectionString: cs })}\n` : `${cs}\n`);
        return 0;
      }
      case 'list': {
        const all = await registry.list();
        const ids = all.map((i) => (i.moduleId ? `${i.deviceId}/${i.moduleId}` : i.deviceId));
        process.stdout.write(json ? `${JSON.stringify(ids)}\n` : ids.map((i) => `${i}\n`).join(''));
        return 0;
      }
      default:
        throw new TandemError('TANDEM_E_CONFIG', `unknown identity command '${verb ?? ''}'\n\n${USAGE}`);
    }
  } finally {
    await store.close();
  }
}
