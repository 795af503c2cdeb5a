/**
 * The cluster's workloads as faces (HTTP API, CLI) see them: deploying with the headroom
 * check (refused with what does not fit where, unless the user accepts a degraded
 * placement), plans with simulated node losses, maintenance (cordon, drain, uncordon),
 * events and where everything runs. Implements the agent's face, so `tandem deploy` works
 * the same on one node and on a cluster.
 */
import { createHash } from 'node:crypto';
import type { Agent } from '../agent/agent.js';
import type { AgentFace, AgentStatus, DeployOptions, DeployResult, PlanStep } from '../agent/face.js';
import type { Deployment } from '../core/manifest/deployment.js';
import { readDeployment } from '../core/manifest/index.js';
import { policyProblems, renderSchedule } from '../core/placement/explain.js';
import { simulateLoss } from '../core/placement/headroom.js';
import type { NodeAdmin, NodeCondition, PlacementInput } from '../core/placement/model.js';
import { type Schedule, schedule } from '../core/placement/schedule.js';
import { stableJson } from '../core/reconcile/planner.js';
import { TandemError } from '../errors.js';
import { limits } from '../limits.js';
import type { WatchableKeyValue } from '../store/types.js';
import type { ClusterView } from './cluster-view.js';
import { adminKey, deploymentKey, encodeJson } from './keys.js';
import type { Membership } from './membership.js';
import { knownNodes, placementInput } from './placement-input.js';
import type { ClusterEvent, DeploymentRecord } from './records.js';
import type { Scheduler } from './scheduler.js';

export interface PlanResult {
  readonly ok: boolean;
  readonly lines: readonly string[];
  readonly problems: readonly string[];
}

export interface ClusterDeployResult extends DeployResult {
  /** Where everything would run, and the headroom verdict, as lines for people. */
  readonly placement: readonly string[];
}

export interface WorkloadsOptions {
  readonly kv: WatchableKeyValue;
  readonly membership: Membership;
  readonly view: ClusterView;
  readonly agent: Agent;
  readonly scheduler: Scheduler;
  readonly nodeDownGraceMs?: number;
}

export class ClusterWorkloads implements AgentFace {
  readonly #o: WorkloadsOptions;

  constructor(o: WorkloadsOptions) {
    this.#o = o;
  }

  get logDir(): string {
    return this.#o.agent.logDir;
  }

  hasModule(name: string): boolean {
    return this.#o.agent.hasModule(name);
  }

  /** This node's modules; the deployment is the cluster's. */
  async status(): Promise<AgentStatus> {
    const local = await this.#o.agent.status();
    const d = this.#o.view.deployment;
    return { modules: local.modules, ...(d && { deployment: { appliedAt: d.submittedAt, hash: d.hash } }) };
  }

  async deploy(manifest: unknown, options: DeployOptions): Promise<ClusterDeployResult> {
    const model = readDeployment(manifest);
    const scaled = Object.values(model.modules).filter((m) => m.replicas > 1);
    if (scaled.length > 0) {
      throw new TandemError(
        'TANDEM_E_UNSUPPORTED',
        `module ${scaled[0]?.name} asks for ${scaled[0]?.replicas} replicas: a cluster runs one instance per module until partitioned delivery is built`,
      );
    }
    const acceptDegraded = options.acceptDegraded === true;
    const input = this.#input(model, acceptDegraded);
    const s = schedule(input);
    const problems = policyProblems(input, s);
    const placement = renderSchedule(input, s);
    const plan = {
      steps: stepsOf(s),
      unchanged: unchangedOf(input, s),
      routesChanged: this.#routesChanged(model),
    };
    if (problems.length > 0 && !acceptDegraded) {
      throw new TandemError(
        'TANDEM_E_HEADROOM',
        `the deployment breaks the headroom policy (the cluster could not absorb the loss of a node): ${problems[0]}`,
        { details: { problems, placement } },
      );
    }
    const hash = createHash('sha256').update(stableJson(manifest)).digest('hex').slice(0, 12);
    const current = this.#o.view.deployment;
    const same =
      current?.hash === hash &&
      current.acceptDegraded === acceptDegraded &&
      current.baseDir === options.baseDir;
    if (options.dryRun || same) return { plan, applied: false, placement };
    await this.#write({
      manifest,
      baseDir: options.baseDir,
      hash,
      submittedAt: new Date().toISOString(),
      acceptDegraded,
    });
    return { plan, applied: true, placement };
  }

  /**
   * `tandem up <manifest> --cluster`: the first node to start gives the cluster its
   * deployment; later ones leave an existing one alone. The leader reports its headroom.
   */
  async bootstrap(manifest: unknown, baseDir: string): Promise<boolean> {
    if (this.#o.view.deployment) return false;
    readDeployment(manifest);
    const hash = createHash('sha256').update(stableJson(manifest)).digest('hex').slice(0, 12);
    await this.#write({
      manifest,
      baseDir,
      hash,
      submittedAt: new Date().toISOString(),
      acceptDegraded: false,
    });
    return true;
  }

  /** Where everything runs (or would, with `manifest`), and what the loss of `fail` would do. */
  plan(o: { manifest?: unknown; fail?: readonly string[] }): PlanResult {
    const model = o.manifest === undefined ? this.#currentModel() : readDeployment(o.manifest);
    const acceptDegraded =
      o.manifest === undefined ? (this.#o.view.deployment?.acceptDegraded ?? false) : false;
    const input = this.#input(model, acceptDegraded);
    for (const node of o.fail ?? []) this.#requireNode(node, input);
    const s = schedule(input);
    const losses = o.fail && o.fail.length > 0 ? [simulateLoss(input, s.assignment, o.fail)] : [];
    const problems = policyProblems(input, s);
    return { ok: problems.length === 0, lines: renderSchedule(input, s, losses), problems };
  }

  /** cordon: no new work; drain: cordon and move everything away; active: undo both. */
  async setAdmin(node: string, admin: NodeAdmin): Promise<void> {
    this.#requireNode(node, this.#input(undefined, true));
    if (admin === 'active') await this.#o.kv.delete(adminKey(node));
    else await this.#o.kv.put(adminKey(node), encodeJson({ admin, at: new Date().toISOString() }));
  }

  events(): readonly ClusterEvent[] {
    return this.#o.view.assignment?.events ?? [];
  }

  /** The cluster part of `tandem status`: the leader's last decision, as this replica has seen it. */
  clusterStatus(): Record<string, unknown> {
    const rec = this.#o.view.assignment;
    const nodes = knownNodes(this.#o.membership.members(), this.#o.view);
    return {
      leader: rec?.leader ?? null,
      leading: this.#o.scheduler.leading,
      generation: rec?.generation ?? 0,
      headroom: rec?.headroom ?? { ok: true, problems: [] },
      nodes: [...nodes.keys()].sort().map((name) => ({
        name,
        condition: rec?.nodes[name]?.condition ?? 'ready',
        admin: this.#o.view.admin.get(name)?.admin ?? 'active',
        facts: nodes.get(name) ?? null,
        instances: Object.entries(rec?.assignment ?? {})
          .filter(([, n]) => n === name)
          .map(([id]) => id)
          .sort(),
        modules: this.#o.view.nodeStatus.get(name)?.modules ?? [],
        appliedGeneration: this.#o.view.nodeStatus.get(name)?.generation ?? 0,
      })),
      waiting: rec?.waiting ?? [],
      unplaced: rec?.unplaced ?? [],
      events: (rec?.events ?? []).slice(-limits.clusterStatusEventsCountMax),
    };
  }

  /** Counts for Prometheus: nodes by condition, headroom, leadership, events decided here. */
  metrics(): {
    nodes: Record<NodeCondition, number>;
    headroomOk: boolean;
    leading: boolean;
    events: ReadonlyMap<string, number>;
  } {
    const rec = this.#o.view.assignment;
    const nodes: Record<NodeCondition, number> = { ready: 0, recovering: 0, down: 0 };
    for (const n of Object.values(rec?.nodes ?? {})) nodes[n.condition] += 1;
    return {
      nodes,
      headroomOk: rec?.headroom.ok ?? true,
      leading: this.#o.scheduler.leading,
      events: this.#o.scheduler.eventCounts(),
    };
  }

  async #write(record: DeploymentRecord): Promise<void> {
    await this.#o.kv.put(deploymentKey, encodeJson(record));
  }

  #currentModel(): Deployment | undefined {
    const d = this.#o.view.deployment;
    return d ? readDeployment(d.manifest) : undefined;
  }

  #routesChanged(model: Deployment): boolean {
    const current = this.#currentModel();
    return stableJson(current?.edgeHub ?? null) !== stableJson(model.edgeHub);
  }

  /** The leader's input, as this replica knows it (conditions are the leader's last judgement). */
  #input(model: Deployment | undefined, acceptDegraded: boolean): PlacementInput {
    const members = this.#o.membership.members();
    const nodes = knownNodes(members, this.#o.view);
    const grace = this.#o.nodeDownGraceMs ?? limits.clusterNodeDownGraceMs;
    const conditions: Record<string, NodeCondition> = {};
    for (const name of nodes.keys()) {
      const judged = this.#o.view.assignment?.nodes[name]?.condition;
      const silent = members.find((m) => m.replica === name)?.silentMs;
      conditions[name] = judged ?? (silent !== undefined && silent <= grace ? 'ready' : 'down');
    }
    return placementInput({ nodes, conditions, view: this.#o.view, deployment: model, acceptDegraded });
  }

  #requireNode(node: string, input: PlacementInput): void {
    if (!input.nodes.some((n) => n.name === node)) {
      const known = input.nodes.map((n) => n.name).sort();
      throw new TandemError(
        'TANDEM_E_NODE_NOT_FOUND',
        `no node '${node}' in the cluster (nodes: ${known.join(', ') || 'none'})`,
      );
    }
  }
}

function stepsOf(s: Schedule): PlanStep[] {
  return s.moves.map((m) => ({
    action: m.from === undefined ? 'start' : m.to === undefined ? 'stop' : 'restart',
    module: `${m.instance} ${m.from ?? ''}${m.from && m.to ? ' -> ' : ''}${m.to ?? ''}`.trim(),
    reason: m.reason,
    group: m.to === undefined ? -1 : 0,
  }));
}

function unchangedOf(input: PlacementInput, s: Schedule): string[] {
  return Object.entries(s.assignment)
    .filter(([id, node]) => input.current[id] === node)
    .map(([id]) => id)
    .sort();
}
