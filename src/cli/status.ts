/** `tandem status`: modules, endpoint queues and upstream of the running instance. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StatusResponse } from '../api/types.js';
import { limits } from '../limits.js';
import { ApiClient } from './api-client.js';
import { DEFAULT_DATA_DIR, dataDirOf, parse, positionals, untilInterrupted } from './options.js';
import { printJson, useColor } from './output.js';
import { renderStatus, renderStatusLines } from './render-status.js';

const USAGE = `Usage: tandem status [options]

Shows the running instance: modules (desired and actual state, restarts, exit code, pid,
messages queued on their inputs), endpoint queues and the upstream connection.

Options:
  --data-dir DIR   Data directory of the instance (default ${DEFAULT_DATA_DIR})
  --json           The API's status object as one line of JSON
  --watch          Refresh every ${limits.statusWatchIntervalMs / 1000} s until Ctrl-C (a terminal is redrawn;
                   a pipe gets timestamped key=value lines)
  -h, --help       Show this help
`;

/** Clears a terminal and puts the cursor home; only ever written to a TTY. */
const CLEAR_SCREEN = '\u001b[2J\u001b[H';

function show(status: StatusResponse, json: boolean, watch: boolean): void {
  if (json) {
    printJson(status);
    return;
  }
  const tty = process.stdout.isTTY === true;
  if (watch && !tty) {
    process.stdout.write(`${renderStatusLines(status).join('\n')}\n`);
    return;
  }
  const text = renderStatus(status, { color: useColor(), width: process.stdout.columns || 80 });
  process.stdout.write(watch ? `${CLEAR_SCREEN}${text}` : text);
}

export async function runStatus(argv: string[]): Promise<number> {
  const args = parse(
    argv,
    { 'data-dir': { type: 'string' }, json: { type: 'boolean' }, watch: { type: 'boolean' } },
    USAGE,
  );
  if (!args) return 0;
  positionals(args, [], 0, USAGE);
  const client = await ApiClient.open(dataDirOf(args));
  const json = args.values.json === true;
  const watch = args.values.watch === true;
  if (!watch) {
    show(await client.json<StatusResponse>('GET', '/api/v1/status'), json, false);
    return 0;
  }
  const stop = untilInterrupted();
  while (!stop.aborted) {
    show(await client.json<StatusResponse>('GET', '/api/v1/status'), json, true);
    try {
      await sleep(limits.statusWatchIntervalMs, undefined, { signal: stop });
    } catch {
      break; // Ctrl-C
    }
  }
  return 0;
}
