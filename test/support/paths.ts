/**
 * Tests run both from TypeScript sources (node --import tsx, while developing) and compiled
 * (dist/, in CI). Child processes must be started the same way as the test itself.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.split(path.sep).includes('dist');

export const repoRoot = path.resolve(here, compiled ? '../../..' : '../..');

/** Node arguments that run the module at `relative` (e.g. 'src/cli/run'), compiled or not. */
export function nodeArgs(relative: string): string[] {
  return compiled
    ? [path.join(repoRoot, 'dist', `${relative}.js`)]
    : ['--import', 'tsx', path.join(repoRoot, `${relative}.ts`)];
}
