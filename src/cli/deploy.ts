/** `tandem deploy <manifest>`: shows what a deployment would change, then applies it. */
import path from 'node:path';
import type { DeployResult, Plan, PlanStep } from '../agent/face.js';
import type { DeployRequest } from '../api/types.js';
import { limits } from '../limits.js';
import { ApiClient } from './api-client.js';
import { readManifest } from './manifest-file.js';
import { DEFAULT_DATA_DIR, dataDirOf, parse, positionals } from './options.js';
import { type Colour, paint, printJson, table, useColor } from './output.js';

const USAGE = `Usage: tandem deploy <manifest.json> [options]

Sends a deployment manifest to the running instance: prints the plan (what starts, stops or
restarts, in startupOrder groups; what stays; whether routes change), then applies it.
Relative module paths in the manifest are resolved against the manifest's directory.

Options:
  --data-dir DIR   Data directory of the instance (default ${DEFAULT_DATA_DIR})
  --dry-run        Validate and print the plan only
  --yes            Apply without asking (deploy never asks; accepted for scripts)
  --accept-degraded  Cluster: apply even if the placement breaks the headroom policy
                   (the cluster could then not absorb the loss of a node)
  --json           The result as JSON: {"plan": {...}, "applied": bool}
  -h, --help       Show this help
`;

const ACTION_COLOUR: Record<PlanStep['action'], Colour> = {
  start: 'green',
  update: 'cyan',
  restart: 'yellow',
  stop: 'red',
  remove: 'red',
};

/** Stops and removals come first (group -1); starts follow in startupOrder, the default last. */
function groupHeading(group: number): string {
  if (group < 0) return 'first, stops and removals';
  if (group === limits.startupOrderDefault) return `startupOrder ${group} (the default: last)`;
  return `startupOrder ${group}`;
}

/** The plan as people read it: one block per group, in the order they run, columns aligned across blocks. */
export function renderPlan(plan: Plan, color: boolean): string {
  const out: string[] = [];
  const steps = [...plan.steps].sort((a, b) => a.group - b.group);
  const rows = steps.map((s) => [
    paint(color, ACTION_COLOUR[s.action] ?? 'bold', s.action),
    s.module,
    s.reason,
  ]);
  const [, ...lines] = table(
    [{ header: 'ACTION' }, { header: 'MODULE' }, { header: 'WHY', flexible: true }],
    rows,
    76,
  );
  if (steps.length === 0) out.push('  no module changes');
  steps.forEach((step, i) => {
    if (i === 0 || steps[i - 1]!.group !== step.group) out.push(`  ${groupHeading(step.group)}:`);
    out.push(`    ${lines[i]}`);
  });
  if (plan.unchanged.length > 0) out.push(`  unchanged: ${plan.unchanged.join(', ')}`);
  out.push(`  routes: ${plan.routesChanged ? 'changed' : 'unchanged'}`);
  return `${out.join('\n')}\n`;
}

export async function runDeploy(argv: string[]): Promise<number> {
  const args = parse(
    argv,
    {
      'data-dir': { type: 'string' },
      'dry-run': { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      json: { type: 'boolean' },
      'accept-degraded': { type: 'boolean' },
    },
    USAGE,
  );
  if (!args) return 0;
  const [file] = positionals(args, ['<manifest>'], 0, USAGE);
  const json = args.values.json === true;
  const dryRunOnly = args.values['dry-run'] === true;
  const color = useColor();
  // Read and parse before contacting anyone: a broken file is reported the same with or without an instance.
  const { file: abs, manifest } = await readManifest(file!);
  const client = await ApiClient.open(dataDirOf(args));
  const acceptDegraded = args.values['accept-degraded'] === true;
  const request = (dryRun: boolean): DeployRequest => ({
    manifest,
    baseDir: path.dirname(abs),
    dryRun,
    ...(acceptDegraded && { acceptDegraded }),
  });
  const planned = await client.json<DeployResult & { placement?: string[] }>(
    'POST',
    '/api/v1/deployment',
    request(true),
  );
  const placement = planned.placement ? `${planned.placement.map((l) => `  ${l}`).join('\n')}\n` : '';
  if (dryRunOnly) {
    if (json) printJson(planned);
    else
      process.stdout.write(
        `plan for ${abs} (dry run, nothing applied):\n${renderPlan(planned.plan, color)}${placement}`,
      );
    return 0;
  }
  if (!json) process.stdout.write(`plan for ${abs}:\n${renderPlan(planned.plan, color)}${placement}`);
  // Applying may stop modules (grace periods) and pull images: no overall time limit.
  const result = await client.json<DeployResult>('POST', '/api/v1/deployment', request(false), {
    timeoutMs: 0,
  });
  if (json) {
    printJson(result);
    return 0;
  }
  // Something else may have deployed between the two calls; then show what was really done.
  if (JSON.stringify(result.plan) !== JSON.stringify(planned.plan))
    process.stdout.write(
      `the plan changed while applying; applied instead:\n${renderPlan(result.plan, color)}`,
    );
  const n = result.plan.steps.length;
  process.stdout.write(
    result.applied
      ? `applied: ${n} step${n === 1 ? '' : 's'}\n`
      : 'nothing applied: the deployment is unchanged\n',
  );
  return 0;
}
