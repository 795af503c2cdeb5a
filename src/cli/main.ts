/** `tandem`: the command line. Each command is its own module; this file only dispatches. */
import { isTandemError, type TandemError } from '../errors.js';
import { formatProblem, manifestProblems } from './manifest-file.js';
import { exitWhenStdoutCloses } from './output.js';

const USAGE = `Usage: tandem <command> [options]

Commands:
  up [manifest]                        Start the hub (and its modules) in the foreground
  stop                                 Stop the running instance (its modules first)
  status [--watch] [--json]            Modules, endpoint queues and upstream of the running instance
  deploy <manifest> [--dry-run]        Show the plan for a deployment manifest, then apply it
  validate <manifest>                  Check a manifest locally (no running instance needed)
  logs <module> [-f] [--tail N]        A module's output
  monitor [--module M] [--json]        Every message the hub routes, as it happens
  twin get <id>                        A device or module twin (<device> or <device>/<module>)
  twin set-desired <id> <patch|@file>  Merge a patch into a twin's desired properties
  invoke <id> <method> [--payload J]   Call a direct method on a device or module
  identity create <device>[/<module>]  Create an identity and print its connection string
  identity list                        List identities
  identity show <device>[/<module>]    Show an identity's connection string
  demo                                 Run the hub with a simulated sensor (the quick start)

Cluster (see docs/scheduling.md):
  plan [manifest] [--fail <node>]      Where modules run, the headroom verdict, a node loss simulated
  drain <node>                         Move a node's modules away and place nothing new there
  cordon <node> / uncordon <node>      Place nothing new on a node / let it take work again
  events                               The scheduler's decisions, with their reasons

Commands that talk to a running instance find it through DIR/ports.json (--data-dir DIR,
default .tandem). Run 'tandem <command> --help' for a command's options.
`;

type Command = (argv: string[]) => Promise<number>;

/**
 * Loaded on use: `tandem status` need not load the store, TLS or MQTT code that `up` needs,
 * and a command that fails to load cannot take the others down with it.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./up.js')).runUp,
  stop: async () => (await import('./stop.js')).runStop,
  status: async () => (await import('./status.js')).runStatus,
  deploy: async () => (await import('./deploy.js')).runDeploy,
  validate: async () => (await import('./validate.js')).runValidate,
  logs: async () => (await import('./logs.js')).runLogs,
  monitor: async () => (await import('./monitor.js')).runMonitor,
  twin: async () => (await import('./twin.js')).runTwin,
  invoke: async () => (await import('./invoke.js')).runInvoke,
  identity: async () => (await import('./identity.js')).runIdentity,
  demo: async () => (await import('./demo.js')).runDemo,
  plan: async () => (await import('./cluster.js')).runPlan,
  drain: async () => (await import('./cluster.js')).adminCommand('drain'),
  cordon: async () => (await import('./cluster.js')).adminCommand('cordon'),
  uncordon: async () => (await import('./cluster.js')).adminCommand('uncordon'),
  events: async () => (await import('./cluster.js')).runEvents,
};

/** The error for people: its code and message, and every problem when a manifest has several. */
function reportError(err: TandemError): void {
  process.stderr.write(`tandem: ${err.code}: ${err.message}\n`);
  if (err.code === 'TANDEM_E_HEADROOM') {
    const d = (err.details ?? {}) as { problems?: string[]; placement?: string[] };
    for (const line of [...(d.problems ?? []).slice(1), ...(d.placement ?? [])])
      process.stderr.write(`  ${line}\n`);
    process.stderr.write('  (tandem deploy --accept-degraded applies it anyway)\n');
    return;
  }
  if (err.code !== 'TANDEM_E_MANIFEST') return;
  const problems = manifestProblems(err);
  if (problems.length > 1) for (const p of problems) process.stderr.write(`  ${formatProblem(p)}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    }
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!load) {
      process.stderr.write(`tandem: unknown command '${command}'\n\n${USAGE}`);
      return 2;
    }
    // Commands that only report may end with their reader; up and demo run services.
    if (command !== 'up' && command !== 'demo') exitWhenStdoutCloses();
    return await (await load())(rest);
  } catch (err) {
    if (isTandemError(err)) {
      reportError(err);
      return 1;
    }
    throw err;
  }
}
