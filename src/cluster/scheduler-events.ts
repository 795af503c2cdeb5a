/**
 * The events of one scheduling decision: node conditions that changed, every instance that
 * was placed, failed over, moved or stopped, and headroom turning good or bad. Pure.
 */
import type { NodeCondition } from '../core/placement/model.js';
import type { Move, Schedule } from '../core/placement/schedule.js';
import type { AssignmentRecord, ClusterEvent, ClusterEventKind } from './records.js';

type Draft = Omit<ClusterEvent, 'seq' | 'at'>;

function moveKind(m: Move): ClusterEventKind {
  if (m.to === undefined) return m.reason === 'removed from the deployment' ? 'stopped' : 'unplaced';
  if (m.from === undefined) return 'placed';
  if (/ is down|not a member/.test(m.reason)) return 'failover';
  return 'rebalance';
}

const conditionKind: Record<NodeCondition, ClusterEventKind> = {
  down: 'node-down',
  recovering: 'node-recovering',
  ready: 'node-ready',
};

const conditionReason: Record<NodeCondition, string> = {
  down: 'no heartbeat within the grace (or it left the cluster): its modules move',
  recovering: 'heartbeats again: its stale instances stop before it takes new work',
  ready: 'healthy again: it takes work',
};

export function decisionEvents(
  prev: AssignmentRecord | undefined,
  conditions: Readonly<Record<string, NodeCondition>>,
  s: Schedule,
  problems: readonly string[],
): Draft[] {
  const out: Draft[] = [];
  for (const [node, c] of Object.entries(conditions).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const before = prev?.nodes[node]?.condition;
    if (before !== c && !(before === undefined && c === 'ready')) {
      out.push({ kind: conditionKind[c], node, reason: conditionReason[c] });
    }
  }
  for (const m of s.moves) {
    out.push({
      kind: moveKind(m),
      instance: m.instance,
      ...(m.from !== undefined && { from: m.from }),
      ...(m.to !== undefined && { to: m.to }),
      reason: m.reason,
    });
  }
  const wasWaiting = new Set(prev?.waiting.map((w) => w.instance) ?? []);
  for (const w of s.waiting) {
    if (!wasWaiting.has(w.instance))
      out.push({ kind: 'waiting', instance: w.instance, node: w.node, reason: w.reason });
  }
  const wasOk = prev?.headroom.ok;
  const ok = problems.length === 0;
  if (wasOk !== ok && !(wasOk === undefined && ok)) {
    out.push({
      kind: 'headroom',
      reason: ok ? 'the cluster can absorb a node loss again' : `headroom policy broken: ${problems[0]}`,
    });
  }
  return out;
}
