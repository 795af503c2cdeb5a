/** `tandem validate <manifest>`: checks a deployment manifest locally; no running instance needed. */
import { readDeployment } from '../core/manifest/index.js';
import { isTandemError } from '../errors.js';
import { formatProblem, manifestProblems, readManifest } from './manifest-file.js';
import { parse, positionals } from './options.js';
import { printJson } from './output.js';

const USAGE = `Usage: tandem validate <manifest.json> [options]

Checks a deployment manifest (IoT Edge schema 1.0/1.1 plus Tandem's extensions) the way
'tandem deploy' would, without a running instance. Prints every problem with its JSON path.
Exit status: 0 valid, 1 invalid.

Options:
  --json       {"valid": true, "modules": N, "routes": M} or {"valid": false, "errors": [{path, message}]}
  -h, --help   Show this help
`;

export async function runValidate(argv: string[]): Promise<number> {
  const args = parse(argv, { json: { type: 'boolean' } }, USAGE);
  if (!args) return 0;
  const [file] = positionals(args, ['<manifest>'], 0, USAGE);
  const json = args.values.json === true;
  try {
    const { manifest } = await readManifest(file!);
    const deployment = readDeployment(manifest);
    const modules = Object.keys(deployment.modules).length;
    const routes = Object.keys(deployment.edgeHub.routes).length;
    if (json) printJson({ valid: true, modules, routes });
    else
      process.stdout.write(
        `valid: ${modules} module${modules === 1 ? '' : 's'}, ${routes} route${routes === 1 ? '' : 's'}\n`,
      );
    return 0;
  } catch (err) {
    if (!isTandemError(err, 'TANDEM_E_MANIFEST')) throw err;
    const problems = manifestProblems(err);
    if (json) printJson({ valid: false, errors: problems });
    else {
      const n = problems.length;
      process.stderr.write(`${file}: invalid (${n} problem${n === 1 ? '' : 's'})\n`);
      for (const p of problems) process.stderr.write(`  ${formatProblem(p)}\n`);
    }
    return 1;
  }
}
