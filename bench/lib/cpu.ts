/**
 * CPU time of processes, from /proc (Linux only), so a benchmark can say which process used
 * the cores during a phase: on a small machine the broker, its storage servers and the load
 * generator all compete for the same CPUs, and a throughput figure alone hides that.
 */
import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SEC = 100;

/** User + system CPU seconds `pid` has used so far; NaN when it cannot be read (gone, not Linux). */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after its ')' are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the state field (3).
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC;
  } catch {
    return Number.NaN;
  }
}

/** This process' user + system CPU seconds. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Groups of processes by role, e.g. { hub: [pid], nats: [pid, pid, pid] }. */
export type PidGroups = Record<string, readonly (number | undefined)[]>;

/**
 * Busy CPU seconds of the whole machine so far (all cores; idle and iowait excluded), from
 * /proc/stat; NaN when it cannot be read.
 */
export function machineCpuSeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [, ...ticks] = line.trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
    return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS_PER_SEC;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds per group, 'clients' for this process and 'other' for everything else on the
 * machine (another job on a shared box shows there), at one moment.
 */
export function cpuSnapshot(groups: PidGroups): Record<string, number> {
  const out: Record<string, number> = { clients: ownCpuSeconds() };
  for (const [role, pids] of Object.entries(groups))
    out[role] = pids.reduce<number>((sum, pid) => sum + cpuSeconds(pid), 0);
  const ours = Object.values(out).reduce((a, b) => a + b, 0);
  out.other = machineCpuSeconds() - ours;
  return out;
}

/** CPU seconds each group used between two snapshots. */
export function cpuSpent(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const role of Object.keys(after)) out[role] = after[role]! - (before[role] ?? 0);
  return out;
}
