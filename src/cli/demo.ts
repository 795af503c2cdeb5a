/**
 * `tandem demo` (what `npm start` runs): `tandem up` with the example deployment in
 * examples/demo: a simulated temperature sensor and a filter module, both written with the
 * Azure IoT SDK and run as processes by the agent, routed sensor -> filter -> $upstream.
 * Nothing else to install; without --upstream the upstream queue simply grows (within its TTL).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from './options.js';
import { runUp } from './up.js';

const USAGE = `Usage: tandem demo [options]

Runs examples/demo/manifest.json with 'tandem up': a sensor module and a filter module
(Azure IoT SDK, ModuleClient.fromEnvironment) routed sensor -> filter -> $upstream.
  --data-dir DIR      default .tandem-demo
  --port N            TLS MQTT port (default 0: a free port)
  --upstream TARGET   send $upstream somewhere, e.g. mqtt://localhost:1883 (see tandem up --help)
Other 'tandem up' options are passed through.
`;

const here = path.dirname(fileURLToPath(import.meta.url));
/** src/cli (tsx) or dist/src/cli (compiled): the repository root is two or three levels up. */
export const demoManifestPath = path.resolve(
  here,
  here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..',
  'examples/demo/manifest.json',
);

export async function runDemo(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    parse(['--help'], {}, USAGE);
    return 0;
  }
  const has = (name: string): boolean => argv.some((a) => a === name || a.startsWith(`${name}=`));
  const defaults = [
    ...(has('--data-dir') ? [] : ['--data-dir', '.tandem-demo']),
    ...(has('--port') ? [] : ['--port', '0']),
  ];
  return runUp([demoManifestPath, ...defaults, ...argv]);
}
