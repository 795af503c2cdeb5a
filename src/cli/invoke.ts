import { limits } from '../limits.js';
import { ApiClient } from './api-client.js';
import { DEFAULT_DATA_DIR, dataDirOf, intOption, parse, positionals, readJsonArgument } from './options.js';
import { printJson } from './output.js';
import { twinId } from './twin.js';

const USAGE = `Usage: tandem invoke <device>[/<module>] <method> [options]

Calls a direct method, as IoT Hub's "invoke device method" does, and prints the status the
device answered with and its payload. Exit status: 0 when the status is below 400; 1 when it
is 400 or more, the target is offline, or it did not answer in time.

Options:
  --data-dir DIR   Data directory of the instance (default ${DEFAULT_DATA_DIR})
  --payload JSON   Request payload: JSON text or @file (default null)
  --timeout S      Seconds to wait for the answer, ${limits.methodTimeoutSecondsMin} to ${limits.methodTimeoutSecondsMax} (default ${limits.methodTimeoutSecondsDefault})
  --json           {"status": N, "payload": ...}
  -h, --help       Show this help
`;

/** Slack beyond the method's own timeout for the HTTP answer: the hub reports the timeout itself. */
const ANSWER_SLACK_MS = 10_000;

export async function runInvoke(argv: string[]): Promise<number> {
  const args = parse(
    argv,
    {
      'data-dir': { type: 'string' },
      payload: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
    },
    USAGE,
  );
  if (!args) return 0;
  const [id, method] = positionals(args, ['<id>', '<method>'], 0, USAGE);
  const timeoutSec =
    intOption(
      args.values.timeout as string | undefined,
      'timeout',
      limits.methodTimeoutSecondsMin,
      limits.methodTimeoutSecondsMax,
    ) ?? limits.methodTimeoutSecondsDefault;
  const payload =
    args.values.payload === undefined
      ? null
      : await readJsonArgument(args.values.payload as string, '--payload');
  const client = await ApiClient.open(dataDirOf(args));
  const result = await client.json<{ status: number; payload: unknown }>(
    'POST',
    `/api/v1/methods/${encodeURIComponent(twinId(id!))}/${encodeURIComponent(method!)}`,
    { payload, responseTimeoutInSeconds: timeoutSec },
    { timeoutMs: timeoutSec * 1000 + ANSWER_SLACK_MS },
  );
  if (args.values.json === true) printJson(result);
  else process.stdout.write(`status ${result.status}\n${JSON.stringify(result.payload, null, 2)}\n`);
  return result.status >= 400 ? 1 : 0;
}
