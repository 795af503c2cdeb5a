/** `tandem logs <module>`: a module's output, across log rotations; `-f` keeps following. */
import { ApiClient } from './api-client.js';
import { DEFAULT_DATA_DIR, dataDirOf, intOption, parse, positionals, untilInterrupted } from './options.js';

const USAGE = `Usage: tandem logs <module> [options]

Prints a module's stdout and stderr as the agent keeps them ({module}.log and its rotations).

Options:
  --data-dir DIR   Data directory of the instance (default ${DEFAULT_DATA_DIR})
  --tail N         Only the last N lines (default: all that is kept)
  -f, --follow     Keep printing what the module writes until Ctrl-C
  -h, --help       Show this help
`;

export async function runLogs(argv: string[]): Promise<number> {
  const args = parse(
    argv,
    { 'data-dir': { type: 'string' }, tail: { type: 'string' }, follow: { type: 'boolean', short: 'f' } },
    USAGE,
  );
  if (!args) return 0;
  const [module] = positionals(args, ['<module>'], 0, USAGE);
  const tail = intOption(args.values.tail as string | undefined, 'tail', 0, Number.MAX_SAFE_INTEGER);
  const follow = args.values.follow === true;
  const client = await ApiClient.open(dataDirOf(args));
  const query = new URLSearchParams();
  if (tail !== undefined) query.set('tail', String(tail));
  if (follow) query.set('follow', '1');
  const qs = query.size > 0 ? `?${query}` : '';
  const url = `/api/v1/modules/${encodeURIComponent(module!)}/logs${qs}`;
  if (!follow) {
    process.stdout.write(await client.text(url));
    return 0;
  }
  await client.stream(url, (text) => process.stdout.write(text), untilInterrupted());
  return 0;
}
