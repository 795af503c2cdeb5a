/**
 * The headroom policy (G5): the placement must absorb the loss of any `nodeLossesTolerated`
 * nodes, checked the only honest way, by simulating each loss with the same placement
 * function the scheduler runs when it happens. On two equal nodes this is the seed's "no
 * more than 50% of each node", generalised to N nodes, to labels and to devices.
 * Nodes already down, recovering or drained have spent the budget: a cluster that lost one
 * node is not asked to survive another before it is whole again.
 */
import { type Assignment, compare, type PlacementInput } from './model.js';
import { type Placement, place, type Unplaced } from './place.js';

/** What would happen if `nodes` failed, starting from an assignment. */
export interface LossOutcome {
  readonly nodes: readonly string[];
  /** Instances that would start elsewhere. */
  readonly moves: readonly { readonly instance: string; readonly from: string; readonly to: string }[];
  /** Local-volume instances that would wait for their node. */
  readonly waiting: readonly string[];
  /** Instances that would run nowhere, and why on each node. */
  readonly unplaced: readonly Unplaced[];
}

export interface Headroom {
  /** Losses the placement must still absorb now (the policy's, less nodes already out). */
  readonly budget: number;
  /** Nodes out now (down, recovering or drained): they spent the budget. */
  readonly out: readonly string[];
  readonly ok: boolean;
  /** Every simulated loss, in node order. */
  readonly losses: readonly LossOutcome[];
}

export function simulateLoss(
  input: PlacementInput,
  assignment: Assignment,
  lost: readonly string[],
): LossOutcome {
  const gone = new Set(lost);
  const nodes = input.nodes.map((n) => (gone.has(n.name) ? { ...n, condition: 'down' as const } : n));
  const after = place({ ...input, nodes, current: assignment });
  const waiting = new Set(after.waiting.map((w) => w.instance));
  const moves = Object.entries(after.assignment)
    .filter(([id, node]) => assignment[id] !== undefined && assignment[id] !== node && !waiting.has(id))
    .map(([instance, to]) => ({ instance, from: assignment[instance] as string, to }))
    .sort((a, b) => compare(a.instance, b.instance));
  const newlyWaiting = after.waiting.filter((w) => gone.has(w.node)).map((w) => w.instance);
  return { nodes: [...lost], moves, waiting: newlyWaiting, unplaced: after.unplaced };
}

function combinations(items: readonly string[], k: number): string[][] {
  if (k === 0) return [[]];
  const out: string[][] = [];
  items.forEach((first, i) => {
    for (const rest of combinations(items.slice(i + 1), k - 1)) out.push([first, ...rest]);
  });
  return out;
}

export function checkHeadroom(input: PlacementInput, p: Placement): Headroom {
  const out = input.nodes
    .filter((n) => n.condition !== 'ready' || n.admin === 'drained')
    .map((n) => n.name)
    .sort(compare);
  const inService = input.nodes
    .filter((n) => !out.includes(n.name))
    .map((n) => n.name)
    .sort(compare);
  const budget = Math.max(0, input.policy.nodeLossesTolerated - out.length);
  const k = Math.min(budget, inService.length);
  const losses =
    budget === 0 ? [] : combinations(inService, k).map((lost) => simulateLoss(input, p.assignment, lost));
  // With fewer nodes in service than the budget, losing all of them loses everything placed.
  const tooFew = budget > inService.length && Object.keys(p.assignment).length > 0;
  const ok = p.unplaced.length === 0 && !tooFew && losses.every((l) => l.unplaced.length === 0);
  return { budget, out, ok, losses };
}
