/**
 * The scheduler leader's judgement of each node: ready, down (no heartbeat seen for the
 * grace), or recovering (heartbeating again after being down; trusted with work once it has
 * heartbeated for `recoverMs` and reported that it applied the assignment that moved its
 * modules away, so its stale instances are stopped before it takes new work).
 * Pure: times come in as arguments; the leader keeps one of these per term.
 */
import type { NodeCondition } from '../placement/model.js';

export interface NodeSighting {
  readonly node: string;
  /** Since its last heartbeat was seen here; undefined when its member key is gone (it left). */
  readonly silentMs: number | undefined;
  /** The assignment generation the node last reported as applied. */
  readonly appliedGeneration: number;
}

export interface ConditionRecord {
  readonly condition: NodeCondition;
  /** For a node that went down: the generation that moved its work away. */
  readonly downGeneration?: number;
}

export interface ConditionTiming {
  readonly graceMs: number;
  readonly recoverMs: number;
}

export class NodeConditions {
  readonly #t: ConditionTiming;
  /** node -> when this leader first saw it heartbeat again after being down. */
  readonly #backSinceMs = new Map<string, number>();

  constructor(timing: ConditionTiming) {
    this.#t = timing;
  }

  /**
   * The next condition of every node. `steadyMs` is how long this observer has itself been
   * connected and leading: until it exceeds the grace, a silence may be its own and no node
   * is declared down on it.
   */
  judge(
    sightings: readonly NodeSighting[],
    previous: Readonly<Record<string, ConditionRecord>>,
    nowMs: number,
    steadyMs: number,
  ): Record<string, NodeCondition> {
    const out: Record<string, NodeCondition> = {};
    for (const s of sightings) {
      const before = previous[s.node];
      const silent = s.silentMs === undefined || s.silentMs > this.#t.graceMs;
      if (silent) {
        this.#backSinceMs.delete(s.node);
        const trusted = steadyMs > this.#t.graceMs || s.silentMs === undefined;
        out[s.node] = trusted ? 'down' : (before?.condition ?? 'ready');
        continue;
      }
      if (before === undefined || before.condition === 'ready') {
        out[s.node] = 'ready';
        continue;
      }
      const since = this.#backSinceMs.get(s.node) ?? nowMs;
      this.#backSinceMs.set(s.node, since);
      const caughtUp = s.appliedGeneration >= (before.downGeneration ?? 0);
      out[s.node] = caughtUp && nowMs - since >= this.#t.recoverMs ? 'ready' : 'recovering';
      if (out[s.node] === 'ready') this.#backSinceMs.delete(s.node);
    }
    return out;
  }
}
