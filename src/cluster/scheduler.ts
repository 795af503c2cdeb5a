/**
 * The cluster's scheduler. Every node agent runs one; the one holding the scheduler lease
 * (an endpoint lease named `$scheduler`: JetStream's ordering and the lease rules of
 * endpoint-leases.ts, no election protocol of our own) is the leader. The leader judges the
 * nodes (node-conditions.ts), runs the pure placement function over the deployment, and
 * writes its decision to one key, stamped with its lease's take revision, which node agents
 * use as a fencing token (an older leader's late write is ignored).
 */
import { NodeConditions } from '../core/cluster/node-conditions.js';
import type { Deployment } from '../core/manifest/deployment.js';
import { readDeployment } from '../core/manifest/index.js';
import { policyProblems } from '../core/placement/explain.js';
import type { NodeCondition } from '../core/placement/model.js';
import { schedule } from '../core/placement/schedule.js';
import { stableJson } from '../core/reconcile/planner.js';
import { limits } from '../limits.js';
import type { WatchableKeyValue } from '../store/types.js';
import { type Clock, systemClock } from '../util/clock.js';
import type { ClusterView } from './cluster-view.js';
import type { EndpointLeases } from './endpoint-leases.js';
import { assignmentKey, encodeJson } from './keys.js';
import type { Membership } from './membership.js';
import { knownNodes, type NodeFacts, placementInput } from './placement-input.js';
import type { AssignmentRecord, ClusterEvent, ClusterEventKind, DeploymentRecord } from './records.js';
import { decisionEvents } from './scheduler-events.js';

/** The scheduler lease's name among the endpoint leases. */
export const schedulerLease = '$scheduler';

export interface SchedulerOptions {
  readonly kv: WatchableKeyValue;
  readonly membership: Membership;
  readonly leases: EndpointLeases;
  readonly view: ClusterView;
  readonly clock?: Clock;
  readonly nodeDownGraceMs?: number;
  readonly nodeRecoverMs?: number;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #clock: Clock;
  readonly #conditions: NodeConditions;
  readonly #counts = new Map<ClusterEventKind, number>();
  #leading = false;
  #unfencedSinceMs: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  /** A decision written and not yet seen back through the watch. */
  #pending: { generation: number; untilMs: number } | undefined;
  #model: { hash: string; deployment: Deployment | undefined } | undefined;

  constructor(o: SchedulerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#conditions = new NodeConditions({
      graceMs: o.nodeDownGraceMs ?? limits.clusterNodeDownGraceMs,
      recoverMs: o.nodeRecoverMs ?? limits.clusterNodeRecoverMs,
    });
    // Whether a silence is the node's or this replica's own: only heartbeats seen while this
    // replica was itself connected for longer than the grace may declare a node down.
    o.membership.on('unfenced', () => {
      this.#unfencedSinceMs = this.#clock.nowMs();
    });
    o.membership.on('fenced', () => {
      this.#unfencedSinceMs = undefined;
    });
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Events decided by this process while it led, by kind (metrics). */
  eventCounts(): ReadonlyMap<ClusterEventKind, number> {
    return this.#counts;
  }

  start(): void {
    if (!this.#o.membership.fenced) this.#unfencedSinceMs = this.#clock.nowMs();
    this.#o.leases.want(schedulerLease, {
      granted: () => {
        this.#leading = true;
        this.#pending = undefined;
        this.#o.log?.(
          'info',
          `scheduler: leading (lease revision ${this.#o.leases.revisionOf(schedulerLease)})`,
        );
        this.#kick();
      },
      lost: () => {
        this.#leading = false;
        this.#o.log?.('info', 'scheduler: no longer leading');
      },
    });
    this.#o.view.on('changed', () => this.#kick());
    this.#timer = setInterval(() => this.#kick(), limits.clusterHeartbeatIntervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    await this.#o.leases.unwant(schedulerLease, undefined);
  }

  #kick(): void {
    if (!this.#leading) return;
    this.#running = this.#running
      .then(() => this.#decide())
      .catch((err: unknown) => {
        this.#o.log?.('warn', `scheduler: ${(err as Error).message}`);
      });
  }

  #deployment(rec: DeploymentRecord | undefined): Deployment | undefined {
    if (!rec) return undefined;
    if (this.#model?.hash !== rec.hash) {
      let deployment: Deployment | undefined;
      try {
        deployment = readDeployment(rec.manifest);
      } catch (err) {
        // Checked when it was submitted; a newer Tandem may read it differently. Run nothing new.
        this.#o.log?.(
          'warn',
          `scheduler: the stored deployment ${rec.hash} is invalid: ${(err as Error).message}`,
        );
      }
      this.#model = { hash: rec.hash, deployment };
    }
    return this.#model.deployment;
  }

  /** One decision: judge the nodes, place, and write the result if anything changed. */
  async #decide(): Promise<void> {
    const { view, membership, leases } = this.#o;
    const now = this.#clock.nowMs();
    if (!this.#leading || !leases.permits(schedulerLease)) return;
    const prev = view.assignment;
    if (this.#pending && (prev?.generation ?? 0) < this.#pending.generation && now < this.#pending.untilMs)
      return;
    const members = membership.members();
    const nodes = knownNodes(members, view);
    const sightings = [...nodes.keys()].map((node) => ({
      node,
      silentMs: members.find((m) => m.replica === node)?.silentMs,
      appliedGeneration: view.nodeStatus.get(node)?.generation ?? 0,
    }));
    const steadyMs = this.#unfencedSinceMs === undefined ? 0 : now - this.#unfencedSinceMs;
    const conditions = this.#conditions.judge(sightings, prev?.nodes ?? {}, now, steadyMs);
    const deployment = this.#deployment(view.deployment);
    const acceptDegraded = view.deployment?.acceptDegraded ?? false;
    const input = placementInput({ nodes, conditions, view, deployment, acceptDegraded });
    const s = schedule(input);
    const problems = policyProblems(input, s);
    const generation = (prev?.generation ?? 0) + 1;
    const next = {
      deploymentHash: deployment ? (view.deployment?.hash ?? null) : null,
      assignment: s.assignment,
      waiting: s.waiting,
      unplaced: s.unplaced,
      nodes: nodeRecords(conditions, prev, generation),
      facts: factsOf(nodes),
      headroom: { ok: problems.length === 0, problems },
    };
    if (prev && stableJson(pick(prev)) === stableJson(next)) return;
    const drafts = decisionEvents(prev, conditions, s, problems);
    const record: AssignmentRecord = {
      generation,
      leader: membership.me.replica,
      token: leases.revisionOf(schedulerLease) ?? 0,
      ...next,
      events: this.#events(prev, drafts),
    };
    if (!leases.permits(schedulerLease)) return;
    this.#pending = { generation, untilMs: now + limits.clusterDecisionEchoWaitMs };
    await this.#o.kv.put(assignmentKey, encodeJson(record));
    for (const d of drafts) this.#counts.set(d.kind, (this.#counts.get(d.kind) ?? 0) + 1);
    for (const d of drafts) this.#o.log?.('info', `scheduler: ${describeEvent(d)}`);
  }

  #events(prev: AssignmentRecord | undefined, drafts: Omit<ClusterEvent, 'seq' | 'at'>[]): ClusterEvent[] {
    const old = prev?.events ?? [];
    let seq = old.at(-1)?.seq ?? 0;
    const at = new Date(this.#clock.nowMs()).toISOString();
    const fresh = drafts.map((d) => ({ seq: ++seq, at, ...d }));
    return [...old, ...fresh].slice(-limits.clusterEventsKeptCountMax);
  }
}

function pick(r: AssignmentRecord): Omit<AssignmentRecord, 'generation' | 'leader' | 'token' | 'events'> {
  const { generation: _g, leader: _l, token: _t, events: _e, ...rest } = r;
  return rest;
}

function factsOf(nodes: ReadonlyMap<string, NodeFacts | undefined>): Record<string, NodeFacts> {
  return Object.fromEntries([...nodes.entries()].filter((e): e is [string, NodeFacts] => e[1] !== undefined));
}

function nodeRecords(
  conditions: Readonly<Record<string, NodeCondition>>,
  prev: AssignmentRecord | undefined,
  generation: number,
): AssignmentRecord['nodes'] {
  const out: Record<string, AssignmentRecord['nodes'][string]> = {};
  for (const [node, condition] of Object.entries(conditions)) {
    const before = prev?.nodes[node];
    const wasOut = before !== undefined && before.condition !== 'ready';
    // The generation that moved its work away: a returning node must have applied it.
    const downGeneration = wasOut ? before.downGeneration : condition === 'down' ? generation : undefined;
    out[node] = {
      condition,
      ...(condition !== 'ready' && downGeneration !== undefined && { downGeneration }),
    };
  }
  return out;
}

export function describeEvent(e: Omit<ClusterEvent, 'seq' | 'at'>): string {
  const what = e.instance ?? e.node ?? '';
  const where =
    e.from !== undefined || e.to !== undefined ? ` ${e.from ?? '(new)'} -> ${e.to ?? '(none)'}` : '';
  return `${e.kind} ${what}${where}: ${e.reason}`.replace(/\s+:/, ':');
}
