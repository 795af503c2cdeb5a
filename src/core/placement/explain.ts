/**
 * Words for people: what does not fit where, and what a node's loss would do. Used by the
 * refusal of a deployment, by `tandem plan [--fail <node>]` and by events.
 */
import type { Headroom, LossOutcome } from './headroom.js';
import {
  addAmounts,
  compare,
  formatAmounts,
  moduleOf,
  noAmounts,
  type PlacementInput,
  type Workload,
} from './model.js';
import type { Unplaced } from './place.js';
import type { Schedule } from './schedule.js';

function workloadOf(input: PlacementInput, instance: string): Workload | undefined {
  return input.workloads.find((w) => w.module === moduleOf(instance));
}

export function describeUnplaced(input: PlacementInput, u: Unplaced): string {
  const w = workloadOf(input, u.instance);
  const need = w ? ` (needs ${formatAmounts(w.demand)})` : '';
  const where = Object.entries(u.why).sort(([a], [b]) => compare(a, b));
  const why = where.length === 0 ? 'the cluster has no node' : where.map(([n, r]) => `${n}: ${r}`).join('; ');
  return `${u.instance}${need} fits nowhere: ${why}`;
}

export function describeLoss(input: PlacementInput, loss: LossOutcome): string[] {
  const head = `if ${loss.nodes.join(' and ')} failed:`;
  const lines = [
    ...loss.moves.map((m) => `  ${m.instance} would move ${m.from} -> ${m.to}`),
    ...loss.waiting.map((id) => `  ${id} would wait for its node (local volume)`),
    ...loss.unplaced.map((u) => `  ${describeUnplaced(input, u)}`),
  ];
  return [head, ...(lines.length > 0 ? lines : ['  nothing runs there; nothing moves'])];
}

/** Why a schedule breaks the policy, one line per problem (empty when it keeps it). */
export function policyProblems(
  input: PlacementInput,
  s: { unplaced: readonly Unplaced[]; headroom: Headroom },
): string[] {
  const out = s.unplaced.map((u) => describeUnplaced(input, u));
  for (const loss of s.headroom.losses) {
    for (const u of loss.unplaced)
      out.push(`if ${loss.nodes.join(' and ')} failed, ${describeUnplaced(input, u)}`);
  }
  const inService = input.nodes.length - s.headroom.out.length;
  if (s.headroom.budget > inService)
    out.push(`${inService} node(s) in service cannot absorb the loss of ${s.headroom.budget}`);
  return out;
}

/** The plan as a table of nodes, then the moves, the policy, and (optionally) a simulated loss. */
export function renderSchedule(
  input: PlacementInput,
  s: Schedule,
  losses: readonly LossOutcome[] = [],
): string[] {
  const lines: string[] = [];
  const waiting = new Set(s.waiting.map((w) => w.instance));
  for (const node of [...input.nodes].sort((a, b) => compare(a.name, b.name))) {
    const here = Object.entries(s.assignment)
      .filter(([id, n]) => n === node.name && !waiting.has(id))
      .map(([id]) => id)
      .sort(compare);
    const used = here.reduce(
      (sum, id) => addAmounts(sum, workloadOf(input, id)?.demand ?? noAmounts),
      noAmounts,
    );
    const state = node.admin === 'active' ? node.condition : `${node.condition}, ${node.admin}`;
    lines.push(`node ${node.name} (${state}): ${formatAmounts(used)} of ${formatAmounts(node.capacity)}`);
    lines.push(`  runs: ${here.length > 0 ? here.join(', ') : '-'}`);
  }
  for (const w of s.waiting) lines.push(`waiting: ${w.instance} on ${w.node}: ${w.reason}`);
  for (const m of s.moves)
    lines.push(`move: ${m.instance} ${m.from ?? '(new)'} -> ${m.to ?? '(none)'}: ${m.reason}`);
  const problems = policyProblems(input, s);
  const policy = `headroom: absorbs the loss of ${input.policy.nodeLossesTolerated} node(s)`;
  const spent = s.headroom.out.length > 0 ? ` (out now: ${s.headroom.out.join(', ')})` : '';
  lines.push(problems.length === 0 ? `${policy}: yes${spent}` : `${policy}: NO${spent}`);
  for (const p of problems) lines.push(`  ${p}`);
  for (const loss of losses) lines.push(...describeLoss(input, loss));
  return lines;
}
