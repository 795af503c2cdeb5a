/**
 * `tandem up --detach`: the same command again as a background process of its own session,
 * its output in DIR/tandem.log; returns once it listens (its ports file names its pid).
 */
import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { TandemError } from '../errors.js';

/** How long a detached instance may take to listen: first start creates a CA and the store. */
const DETACH_READY_MS = 60_000;
const POLL_MS = 100;

export async function detach(argv: string[], dataDir: string): Promise<number> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(dataDir, 'tandem.log');
  const out = await open(logFile, 'a');
  const args = [...process.execArgv, process.argv[1] ?? '', ...argv.filter((a) => a !== '--detach')];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out.fd, out.fd] });
  await out.close();
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  const deadline = Date.now() + DETACH_READY_MS;
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new TandemError('TANDEM_E_CONFIG', `tandem up exited with ${exited}; see ${logFile}`);
    }
    const ports = await readPorts(dataDir);
    if (ports && ports.pid === child.pid) {
      child.unref();
      process.stdout.write(
        `tandem is running in the background (pid ${child.pid}); API http://${ports.host}:${ports.api}\n` +
          `  output: ${logFile}\n  stop it with: tandem stop --data-dir ${dataDir}\n`,
      );
      return 0;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  child.kill('SIGTERM');
  throw new TandemError(
    'TANDEM_E_CONFIG',
    `tandem up did not start within ${DETACH_READY_MS / 1000} s; see ${logFile}`,
  );
}

async function readPorts(dataDir: string): Promise<{ pid: number; host: string; api: number } | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dataDir, 'ports.json'), 'utf8'));
  } catch {
    return undefined;
  }
}
