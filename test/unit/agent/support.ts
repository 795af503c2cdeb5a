/** Shared by the supervision tests: launch descriptions, temp dirs, process checks, waiting. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readProcStat } from '../../../src/agent/proc-group.js';
import type { ModuleLaunch } from '../../../src/agent/supervisor-types.js';
import type { HealthCheck, RestartPolicy } from '../../../src/core/manifest/deployment.js';
import { repoRoot } from '../../support/paths.js';
import { waitFor } from '../../support/wait.js';

export const fixture = (name: string): string => path.join(repoRoot, 'test/fixtures/modules', name);

/** The environment a process module gets in these tests: PATH only, plus extras. */
export function moduleEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...extra };
}

export function processLaunch(
  module: string,
  logDir: string,
  command: string,
  args: string[],
  more: {
    restartPolicy?: RestartPolicy;
    healthCheck?: HealthCheck;
    env?: Record<string, string>;
    cwd?: string;
  } = {},
): ModuleLaunch {
  return {
    module,
    settings: { kind: 'process', command, args, cwd: more.cwd, env: {} },
    env: moduleEnv(more.env),
    logDir,
    restartPolicy: more.restartPolicy ?? 'always',
    desired: 'running',
    healthCheck: more.healthCheck,
    generationId: `gen-${module}`,
  };
}

export class TempDirs {
  readonly #dirs: string[] = [];
  async make(prefix = 'tandem-sup-'): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    this.#dirs.push(dir);
    return dir;
  }
  async cleanup(): Promise<void> {
    for (const d of this.#dirs.splice(0)) await rm(d, { recursive: true, force: true });
  }
}

/** True while `pid` is a live (not zombie) process. */
export async function isAlive(pid: number): Promise<boolean> {
  const st = await readProcStat(pid);
  return st !== undefined && st.state !== 'Z';
}

export { waitFor } from '../../support/wait.js';

/** Reads a pid a fixture wrote to `file`, waiting for it to appear. */
export async function readPidFile(file: string): Promise<number> {
  let pid = Number.NaN;
  await waitFor(`pid in ${file}`, async () => {
    pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    return Number.isInteger(pid);
  });
  return pid;
}

/** Lines of a file (a start counter), none when it does not exist. */
export async function fileLines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.length > 0);
}
