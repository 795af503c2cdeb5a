/**
 * Module processes nobody supervises. Every module process carries a marker naming the
 * data directory it belongs to; a restarted agent that finds a marked process it did not
 * adopt (say it was started in the instant before the agent was SIGKILLed, before its record
 * was saved) stops it, so no module ever runs twice.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const MARKER = 'TANDEM_MODULE_INSTANCE';

function dataDirTag(dataDir: string): string {
  return createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
}

/** The environment variable that marks a module process of this data directory. */
export function instanceMarker(dataDir: string, module: string): Record<string, string> {
  return { [MARKER]: `${dataDirTag(dataDir)}:${module}` };
}

export interface Marked {
  readonly module: string;
  /** Process group: a module's own children share it, and are not orphans while it is adopted. */
  readonly pgid: number;
}

/** Process group id: field 5 of /proc/{pid}/stat, after the parenthesised command name. */
async function processGroup(pid: string): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** Marked processes of this data directory, by pid (Linux /proc). */
export async function markedProcesses(dataDir: string): Promise<Map<number, Marked>> {
  const prefix = `${MARKER}=${dataDirTag(dataDir)}:`;
  const found = new Map<number, Marked>();
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return found; // no /proc: nothing to find (not Linux)
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = await readFile(`/proc/${entry}/environ`, 'latin1');
      const hit = environ.split('\0').find((v) => v.startsWith(prefix));
      if (hit)
        found.set(Number(entry), { module: hit.slice(prefix.length), pgid: await processGroup(entry) });
    } catch {
      // gone meanwhile, or another user's process
    }
  }
  return found;
}

/**
 * Stops marked processes outside the process groups in `keepGroups` (the adopted modules'
 * pids: they run detached, so each leads its own group): the whole group of each.
 */
export async function stopOrphans(
  dataDir: string,
  keepGroups: ReadonlySet<number>,
  log: (message: string) => void,
): Promise<number> {
  let stopped = 0;
  for (const [pid, { module, pgid }] of await markedProcesses(dataDir)) {
    if (keepGroups.has(pgid) || pid === process.pid) continue;
    try {
      // Only a group the module leads (it runs detached); never a group Tandem itself is in.
      if (pgid !== pid) throw new Error('not a group leader');
      process.kill(-pgid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        continue;
      }
    }
    log(`stopped an unsupervised instance of module ${module} (pid ${pid})`);
    stopped++;
  }
  return stopped;
}
