/**
 * The cluster's scheduling commands: `tandem plan [manifest] [--fail NODE]`, `tandem drain|
 * cordon|uncordon <node>` and `tandem events`. They ask any node of the cluster (the one of
 * --data-dir) through its local API; every node sees the same leader decisions.
 */
import type { ClusterEvent } from '../cluster/records.js';
import { describeEvent } from '../cluster/scheduler.js';
import type { PlanResult } from '../cluster/workloads.js';
import { ApiClient } from './api-client.js';
import { readManifest } from './manifest-file.js';
import { DEFAULT_DATA_DIR, dataDirOf, parse, positionals } from './options.js';
import { printJson } from './output.js';

const PLAN_USAGE = `Usage: tandem plan [manifest.json] [--fail NODE] [--json]

Shows where every module runs on the cluster (or would run, with a manifest), how full each
node is, whether the placement can absorb the loss of a node (the headroom policy), and with
--fail what the loss of NODE would do: which modules move where, which wait, which fit nowhere.
Nothing is applied. Exits 3 when the placement breaks the headroom policy.

Options:
  --fail NODE      Simulate the loss of NODE (repeatable: several at once)
  --data-dir DIR   Data directory of a node of the cluster (default ${DEFAULT_DATA_DIR})
  --json           The result as JSON: {"ok": bool, "lines": [...], "problems": [...]}
`;

export async function runPlan(argv: string[]): Promise<number> {
  const args = parse(
    argv,
    { 'data-dir': { type: 'string' }, fail: { type: 'string', multiple: true }, json: { type: 'boolean' } },
    PLAN_USAGE,
  );
  if (!args) return 0;
  const [file] = positionals(args, ['[manifest]'], 1, PLAN_USAGE);
  const manifest = file === undefined ? undefined : (await readManifest(file)).manifest;
  const client = await ApiClient.open(dataDirOf(args));
  const fail = (args.values.fail as string[] | undefined) ?? [];
  const result = await client.json<PlanResult>('POST', '/api/v1/cluster/plan', {
    ...(manifest !== undefined && { manifest }),
    fail,
  });
  if (args.values.json) printJson(result);
  else process.stdout.write(`${result.lines.join('\n')}\n`);
  return result.ok ? 0 : 3;
}

const ADMIN_USAGE = (verb: string, what: string): string => `Usage: tandem ${verb} <node> [--data-dir DIR]

${what}
`;

const ADMIN_TEXT: Record<string, string> = {
  drain:
    'Cordons NODE and moves its modules to other nodes (for maintenance, rolling updates).\nModules with a local volume stop and wait for the node. Undo with tandem uncordon.',
  cordon: 'Keeps what NODE runs but places nothing new there. Undo with tandem uncordon.',
  uncordon: 'Lets NODE take work again after a cordon or drain.',
};

export function adminCommand(verb: 'drain' | 'cordon' | 'uncordon') {
  return async (argv: string[]): Promise<number> => {
    const usage = ADMIN_USAGE(verb, ADMIN_TEXT[verb] ?? '');
    const args = parse(argv, { 'data-dir': { type: 'string' } }, usage);
    if (!args) return 0;
    const [node] = positionals(args, ['<node>'], 0, usage);
    const client = await ApiClient.open(dataDirOf(args));
    await client.json('POST', `/api/v1/cluster/nodes/${encodeURIComponent(node!)}/${verb}`, {});
    process.stdout.write(
      `${node}: ${verb === 'uncordon' ? 'takes work again' : `${verb}ed`}; see tandem events\n`,
    );
    return 0;
  };
}

const EVENTS_USAGE = `Usage: tandem events [--data-dir DIR] [--json]

The scheduler's latest decisions, oldest first: placements, failovers, rebalances, drains,
nodes going down and coming back, and the headroom policy turning good or bad, each with why.
`;

export async function runEvents(argv: string[]): Promise<number> {
  const args = parse(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } }, EVENTS_USAGE);
  if (!args) return 0;
  positionals(args, [], 0, EVENTS_USAGE);
  const client = await ApiClient.open(dataDirOf(args));
  const { events } = await client.json<{ events: ClusterEvent[] }>('GET', '/api/v1/cluster/events');
  if (args.values.json) printJson(events);
  else for (const e of events) process.stdout.write(`${e.at}  ${describeEvent(e)}\n`);
  return 0;
}
