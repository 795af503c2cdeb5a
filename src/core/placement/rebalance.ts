/**
 * Rebalancing: when a placement breaks the headroom policy (or leaves instances unplaced
 * that moving others would make room for), move instances one at a time, each time the move
 * that helps most, until the policy holds; then undo every move that turned out not to be
 * needed. The result is taken only if it is whole (policy kept) or runs more instances:
 * moving things around without reaching either is churn for nothing.
 */
import { limits } from '../../limits.js';
import { Usage, whyNot } from './fit.js';
import { checkHeadroom } from './headroom.js';
import { type Assignment, compare, instancesOf, type PlacementInput } from './model.js';
import { type Placement, place } from './place.js';

/** Lower is better: instances unplaced now weigh most, then instances a simulated loss would strand. */
export function score(input: PlacementInput, p: Placement): number {
  const h = checkHeadroom(input, p);
  const stranded = h.losses.reduce((n, l) => n + l.unplaced.length, 0);
  return p.unplaced.length * 1_000_000 + stranded;
}

function usageWithout(input: PlacementInput, a: Assignment, waiting: Set<string>, skip: string): Usage {
  const usage = new Usage();
  for (const inst of instancesOf(input.workloads)) {
    const node = a[inst.id];
    if (inst.id !== skip && node !== undefined && !waiting.has(inst.id)) usage.add(node, inst.workload);
  }
  return usage;
}

/** The single move that lowers the score most, or undefined when none lowers it. */
function bestMove(
  input: PlacementInput,
  p: Placement,
  current: number,
): { p: Placement; score: number } | undefined {
  const waiting = new Set(p.waiting.map((w) => w.instance));
  const nodes = [...input.nodes].sort((a, b) => compare(a.name, b.name));
  let best: { p: Placement; score: number } | undefined;
  for (const inst of instancesOf(input.workloads)) {
    const from = p.assignment[inst.id];
    if (from === undefined || waiting.has(inst.id) || inst.workload.volume === 'local') continue;
    const usage = usageWithout(input, p.assignment, waiting, inst.id);
    for (const node of nodes) {
      if (node.name === from || whyNot(node, inst.workload, usage, { keeping: false })) continue;
      const candidate = place({ ...input, current: { ...p.assignment, [inst.id]: node.name } });
      const s = score(input, candidate);
      if (s < (best?.score ?? current)) best = { p: candidate, score: s };
    }
  }
  return best;
}

/**
 * Puts back every moved instance whose move the result does not need, until none is left:
 * then each remaining move is needed (undoing any one of them scores worse).
 */
function pruneMoves(input: PlacementInput, start: Placement, p: Placement, target: number): Placement {
  let result = p;
  for (let changed = true; changed; ) {
    changed = false;
    for (const [id, node] of Object.entries(result.assignment).sort(([a], [b]) => compare(a, b))) {
      const before = start.assignment[id];
      if (before === undefined || before === node) continue;
      const candidate = place({ ...input, current: { ...result.assignment, [id]: before } });
      if (candidate.assignment[id] === before && score(input, candidate) <= target) {
        result = candidate;
        changed = true;
      }
    }
  }
  return result;
}

export function rebalance(input: PlacementInput, start: Placement): Placement {
  const initial = score(input, start);
  if (initial === 0) return start;
  let p = start;
  let s = initial;
  for (let i = 0; i < limits.placementRebalanceMovesMax && s > 0; i++) {
    const next = bestMove(input, p, s);
    if (!next) break;
    p = next.p;
    s = next.score;
  }
  const improved = s === 0 || p.unplaced.length < start.unplaced.length;
  return improved ? pruneMoves(input, start, p, s) : start;
}
