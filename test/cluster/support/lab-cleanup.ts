/**
 * Leaving nothing behind. A lab registers what it created here before creating it, so the
 * synchronous clean-up can run from a process 'exit' handler (or on SIGINT/SIGTERM) when a test
 * crashes or is killed by the runner. Namespaces of a test process that died by SIGKILL, which
 * no handler sees, are swept by the next lab created on the machine: their names carry the pid,
 * as do the lab's temporary directories.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ipPath } from './lab-process.js';

/** Every lab namespace is named `tdm<pid>-<lab>-<role>`; the pid says whether its owner lives. */
export const nsPrefix = 'tdm';
export const etcNetns = '/etc/netns';

/**
 * While any lab exists the root namespace carries this `unreachable` route, below the labs' own
 * /24 routes: a socket still aiming at a lab address after its lab is gone fails at once instead
 * of following the default route off the machine.
 */
export const guardPrefix = '10.213.0.0/16';
const guardMetric = '4213';
export const guardRouteArgs = ['route', 'replace', 'unreachable', guardPrefix, 'metric', guardMetric];
const rootLinkPattern = new RegExp(`^${nsPrefix}\\d+h$`);

export interface LabResources {
  readonly namespaces: readonly string[];
  /** The lab's veth end in the root namespace, once created. */
  readonly rootLink: () => string | undefined;
  /** Processes started through the lab, by pid (they are also found via `ip netns pids`). */
  readonly pids: () => readonly number[];
  /** Directories to remove (stores, configurations, logs), named `tdm<pid>-…` under the tmpdir. */
  readonly dirs: () => readonly string[];
}

const live = new Set<LabResources>();
let handlersInstalled = false;

function ipSync(args: readonly string[]): string {
  try {
    return execFileSync(ipPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

/** Pids of every process inside a namespace (empty when the namespace does not exist). */
export function namespacePidsSync(ns: string): number[] {
  return ipSync(['netns', 'pids', ns])
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number);
}

/** SIGKILLs everything in the namespaces, deletes them, their /etc/netns files and the lab's directories. */
export function destroySync(resources: LabResources): void {
  for (const pid of resources.pids()) killQuietly(pid);
  const link = resources.rootLink();
  // Deleted here, not left to the namespace's (asynchronous) teardown, so the guard check sees it gone.
  if (link) ipSync(['link', 'del', 'dev', link]);
  for (const ns of resources.namespaces) {
    for (const pid of namespacePidsSync(ns)) killQuietly(pid);
    // A namespace with a process still dying in it lingers until that process is gone, but its
    // name and mount are released at once; deleting the switch also removes every veth pair.
    ipSync(['netns', 'del', ns]);
    rmSync(path.join(etcNetns, ns), { recursive: true, force: true });
  }
  for (const dir of resources.dirs()) rmSync(dir, { recursive: true, force: true });
  removeEtcNetnsIfEmpty();
  removeGuardIfLast();
  live.delete(resources);
}

/** Drops the guard route once no lab (of any test process) has a root link any more. */
function removeGuardIfLast(): void {
  const links = ipSync(['-o', 'link', 'show'])
    .split('\n')
    .map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '');
  if (links.some((l) => rootLinkPattern.test(l))) return;
  ipSync(['route', 'del', 'unreachable', guardPrefix, 'metric', guardMetric]);
}

/** /etc/netns exists only for labs' hosts files; an empty one is left from us, not the system. */
export function removeEtcNetnsIfEmpty(): void {
  try {
    rmdirSync(etcNetns);
  } catch {
    // Not empty (another lab's files) or absent.
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces (and their processes) left by lab owners that no longer run. */
export function sweepStale(): void {
  const names = ipSync(['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '');
  const pattern = new RegExp(`^${nsPrefix}(\\d+)-`);
  const isStale = (n: string): boolean => {
    const m = pattern.exec(n);
    return m !== null && !pidAlive(Number(m[1]));
  };
  const stale = [...new Set([...names, ...listDir(etcNetns)])].filter(isStale);
  const dirs = listDir(os.tmpdir())
    .filter(isStale)
    .map((d) => path.join(os.tmpdir(), d));
  if (stale.length + dirs.length === 0) return;
  destroySync({ namespaces: stale, pids: () => [], rootLink: () => undefined, dirs: () => dirs });
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function onExit(): void {
  for (const r of [...live]) destroySync(r);
}

function onSignal(signal: NodeJS.Signals): void {
  onExit();
  // Our listener kept the default action from happening; take it now that the lab is gone.
  process.removeListener(signal, onSignal);
  process.kill(process.pid, signal);
}

/** Registers a lab's resources for clean-up at exit; returns the unregistration. */
export function register(resources: LabResources): () => void {
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.on('exit', onExit);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  live.add(resources);
  return () => {
    live.delete(resources);
  };
}
