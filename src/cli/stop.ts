/** `tandem stop`: ends the instance running on a data directory (SIGTERM; it stops its modules first). */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TandemError } from '../errors.js';
import { dataDirOf, parse } from './options.js';

const USAGE = `Usage: tandem stop [--data-dir DIR] [--timeout S]

Stops the Tandem instance of DIR (default .tandem): its modules are stopped, then the hub.
  --timeout S   Seconds to wait for it to exit (default 60)
`;

export async function runStop(argv: string[]): Promise<number> {
  const args = parse(argv, { 'data-dir': { type: 'string' }, timeout: { type: 'string' } }, USAGE);
  if (!args) return 0;
  const dataDir = dataDirOf(args);
  const timeoutMs = Number(args.values.timeout ?? 60) * 1000;
  let pid: number;
  try {
    pid = (JSON.parse(await readFile(path.join(dataDir, 'ports.json'), 'utf8')) as { pid: number }).pid;
    // The ports file outlives a crashed instance; never signal a pid that is not Tandem now.
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (!/tandem|cli[/\\]run/.test(cmdline)) throw new Error('not tandem');
    process.kill(pid, 'SIGTERM');
  } catch {
    throw new TandemError('TANDEM_E_NOT_RUNNING', `no running Tandem instance for data directory ${dataDir}`);
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) {
      process.stdout.write(`stopped (pid ${pid})\n`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write(`tandem: pid ${pid} did not exit within ${timeoutMs / 1000} s\n`);
  return 1;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
