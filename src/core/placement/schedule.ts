/**
 * The scheduler's one decision, as a pure function: from the nodes as they are, the
 * deployment's workloads and where instances are now, where every instance should run, what
 * moves and why, and whether the result keeps the headroom policy. Same input, same output:
 * every node can recompute the leader's decision, and `tandem plan` shows exactly it.
 */
import { Usage, whyNot } from './fit.js';
import { checkHeadroom, type Headroom } from './headroom.js';
import { type Assignment, compare, moduleOf, type PlacementInput, type Workload } from './model.js';
import { type Placement, place } from './place.js';
import { rebalance } from './rebalance.js';

export interface Move {
  readonly instance: string;
  /** Absent for a new instance. */
  readonly from?: string;
  /** Absent when the instance stops (removed from the deployment, or nowhere to go). */
  readonly to?: string;
  readonly reason: string;
}

export interface Schedule extends Placement {
  readonly headroom: Headroom;
  readonly moves: readonly Move[];
}

function moveReason(
  input: PlacementInput,
  from: string | undefined,
  to: string | undefined,
  w: Workload | undefined,
  rebalanced: boolean,
): string {
  if (!w) return 'removed from the deployment';
  if (from === undefined) return to === undefined ? 'fits nowhere' : 'new instance';
  const node = input.nodes.find((n) => n.name === from);
  const gone = node ? whyNot(node, w, new Usage(), { keeping: true }) : 'not a member of the cluster';
  const why = gone
    ? `node ${from} is ${gone}`
    : rebalanced
      ? 'rebalanced to keep the headroom policy'
      : `no longer fits on ${from}`;
  return to === undefined ? `${why}; fits nowhere else` : why;
}

function movesBetween(input: PlacementInput, before: Assignment, p: Placement, rebalanced: boolean): Move[] {
  const workloads = new Map(input.workloads.map((w) => [w.module, w]));
  const ids = [...new Set([...Object.keys(before), ...Object.keys(p.assignment)])].sort(compare);
  const moves: Move[] = [];
  for (const id of ids) {
    const from = before[id];
    const to = p.assignment[id];
    if (from === to) continue;
    const reason = moveReason(input, from, to, workloads.get(moduleOf(id)), rebalanced);
    moves.push({
      instance: id,
      ...(from !== undefined && { from }),
      ...(to !== undefined && { to }),
      reason,
    });
  }
  return moves;
}

export function schedule(input: PlacementInput): Schedule {
  const first = place(input);
  const firstRoom = checkHeadroom(input, first);
  const balanced = firstRoom.ok ? first : rebalance(input, first);
  const headroom = balanced === first ? firstRoom : checkHeadroom(input, balanced);
  // Instances of modules still in the deployment that lost their place also count as moves.
  return { ...balanced, headroom, moves: movesBetween(input, input.current, balanced, balanced !== first) };
}
