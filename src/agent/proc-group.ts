/**
 * Linux process facts and process-group signalling for process modules. A module is started
 * detached, so it leads its own process group (pgid = pid) and everything it spawns stays in
 * that group unless it leaves on purpose: stopping the module signals the whole group.
 *
 * Zombies: an orphan whose new parent does not reap (pid 1 in some containers does not) stays
 * a zombie; it is dead, so zombies never count as running members.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { Clock } from '../util/clock.js';
import type { Scheduler } from './supervisor-timers.js';

export interface ProcStat {
  readonly pid: number;
  /** R, S, D, Z (zombie), T... */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /** Field 22: start time in clock ticks after boot; with the pid, names one process for ever. */
  readonly startTimeTicks: number;
}

/** Parses /proc/{pid}/stat. The command name (field 2) may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number.parseInt(text, 10);
  // After ") " come fields 3 (state), 4 (ppid), 5 (pgrp) ... 22 (starttime).
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgrp = Number(rest[2]);
  const startTimeTicks = Number(rest[19]);
  if (state === undefined || !Number.isInteger(pid) || !Number.isFinite(startTimeTicks)) return undefined;
  return { pid, state, ppid, pgrp, startTimeTicks };
}

function missing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** Synchronous on purpose: right after spawn, before the event loop can reap a quick exit. */
export function readProcStatSync(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (err) {
    if (missing(err)) return undefined;
    throw err;
  }
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch (err) {
    if (missing(err)) return undefined;
    throw err;
  }
}

/** True when `pid` is the live (not zombie) process that started at `startTimeTicks`. */
export async function isSameLiveProcess(pid: number, startTimeTicks: number): Promise<boolean> {
  const st = await readProcStat(pid);
  return st !== undefined && st.startTimeTicks === startTimeTicks && st.state !== 'Z';
}

/** Sends `signal` to every process of group `pgid`; false when the group has no process. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if (missing(err)) return false;
    throw err;
  }
}

/** Live (non-zombie) processes of group `pgid`. */
export async function groupMembers(pgid: number): Promise<number[]> {
  // Cheap answer first: no process at all (zombies included) in the group.
  if (!signalGroup(pgid, 0)) return [];
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = await readProcStat(pid);
    if (st !== undefined && st.pgrp === pgid && st.state !== 'Z') out.push(pid);
  }
  return out;
}

/** How often a group that is being stopped is checked for emptiness. */
const GROUP_POLL_MS = 50;
/** After SIGKILL the kernel frees a group within milliseconds; this only bounds a stuck D-state wait. */
const AFTER_KILL_WAIT_MS = 5_000;

export interface GroupTiming {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
}

function sleep(scheduler: Scheduler, ms: number): Promise<void> {
  return new Promise((resolve) => scheduler.after(ms, resolve));
}

/** Waits until group `pgid` has no live process or `deadlineMs` passes; true when empty. */
export async function waitGroupEmpty(
  pgid: number,
  deadlineMs: number,
  timing: GroupTiming,
): Promise<boolean> {
  for (;;) {
    if ((await groupMembers(pgid)).length === 0) return true;
    const left = deadlineMs - timing.clock.nowMs();
    if (left <= 0) return false;
    await sleep(timing.scheduler, Math.min(GROUP_POLL_MS, left));
  }
}

/**
 * Ends group `pgid`: SIGTERM (unless already sent), then SIGKILL at `killAtMs` if anything is
 * left. Resolves when the group is empty (or, at worst, AFTER_KILL_WAIT_MS after the SIGKILL).
 */
export async function endGroup(
  pgid: number,
  killAtMs: number,
  timing: GroupTiming,
  options: { termSent?: boolean } = {},
): Promise<void> {
  if ((await groupMembers(pgid)).length === 0) return;
  if (!options.termSent) signalGroup(pgid, 'SIGTERM');
  if (await waitGroupEmpty(pgid, killAtMs, timing)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitGroupEmpty(pgid, timing.clock.nowMs() + AFTER_KILL_WAIT_MS, timing);
}
