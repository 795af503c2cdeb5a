import { TandemError } from '../errors.js';
import { ApiClient } from './api-client.js';
import { DEFAULT_DATA_DIR, dataDirOf, parse, positionals, readJsonArgument } from './options.js';
import { printJson } from './output.js';

const USAGE = `Usage: tandem twin <get|set-desired> <device>[/<module>] [patch] [options]

  get <id>                       Print the twin's desired and reported properties
  set-desired <id> <patch>       Merge a JSON patch into the desired properties (null deletes
                                 a key); <patch> is JSON text or @file. Prints the new version.

Options:
  --data-dir DIR   Data directory of the instance (default ${DEFAULT_DATA_DIR})
  --json           Machine-readable output
  -h, --help       Show this help
`;

/** `device` or `device/module`: the twin's identity, as in connection strings and the API. */
export function twinId(id: string): string {
  if (!/^[^/\s]+(\/[^/\s]+)?$/.test(id))
    throw new TandemError('TANDEM_E_IDENTITY_INVALID', `'${id}' is not <device> or <device>/<module>`);
  return id;
}

/** One twin section for people: its version in the heading, the properties below it. */
function section(name: string, value: unknown): string {
  const { $version, ...properties } = (value ?? {}) as Record<string, unknown>;
  const version = typeof $version === 'number' ? String($version) : '?';
  return `${name} (version ${version}):\n${JSON.stringify(properties, null, 2)}\n`;
}

export async function runTwin(argv: string[]): Promise<number> {
  const args = parse(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  if (!args) return 0;
  const json = args.values.json === true;
  const verb = args.positionals[0];
  if (verb !== 'get' && verb !== 'set-desired')
    throw new TandemError('TANDEM_E_CONFIG', `unknown twin command '${verb ?? ''}'\n\n${USAGE}`);
  const names = verb === 'get' ? ['get', '<id>'] : ['set-desired', '<id>', '<patch>'];
  const [, id, patchArg] = positionals(args, names, 0, USAGE);
  const path = `/api/v1/twins/${encodeURIComponent(twinId(id!))}`;
  const patch = verb === 'set-desired' ? await readJsonArgument(patchArg!, 'the patch') : undefined;
  const client = await ApiClient.open(dataDirOf(args));
  if (verb === 'get') {
    const twin = await client.json<{ desired: unknown; reported: unknown }>('GET', path);
    if (json) printJson(twin);
    else process.stdout.write(`${section('desired', twin.desired)}${section('reported', twin.reported)}`);
    return 0;
  }
  const { version } = await client.json<{ version: number }>('PATCH', `${path}/desired`, patch);
  if (json) printJson({ version });
  else process.stdout.write(`desired properties of ${id} are now version ${version}\n`);
  return 0;
}
