/**
 * A cluster node's agent: runs what the scheduler assigned to this node and reports back.
 * It hands the local Agent (agent/agent.ts: supervise, adopt, reconcile) the deployment cut
 * down to the modules assigned here, so stops come before starts (a node that comes back
 * stops its stale instances before it runs anything new), and it writes the generation it
 * applied to its status key, which the leader waits for before trusting the node again.
 */
import type { Agent } from '../agent/agent.js';
import { moduleOf } from '../core/placement/model.js';
import { limits } from '../limits.js';
import type { WatchableKeyValue } from '../store/types.js';
import type { ClusterView } from './cluster-view.js';
import { encodeJson, nodeStatusKey } from './keys.js';
import type { AssignmentRecord, NodeStatusRecord } from './records.js';

export interface NodeAgentOptions {
  readonly node: string;
  readonly kv: WatchableKeyValue;
  readonly view: ClusterView;
  readonly agent: Agent;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

export class NodeAgent {
  readonly #o: NodeAgentOptions;
  #applied = 0;
  #queue: Promise<void> = Promise.resolve();
  #queuedGeneration = 0;
  #stopped = false;
  #reportTimer: NodeJS.Timeout | undefined;

  constructor(o: NodeAgentOptions) {
    this.#o = o;
  }

  start(): void {
    this.#o.view.on('changed', () => this.#sync());
    this.#sync();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#reportTimer);
    await this.#queue;
  }

  /** Modules with an instance running on this node under `rec` (waiting ones run nowhere). */
  #modulesHere(rec: AssignmentRecord): Set<string> {
    const waiting = new Set(rec.waiting.map((w) => w.instance));
    return new Set(
      Object.entries(rec.assignment)
        .filter(([id, node]) => node === this.#o.node && !waiting.has(id))
        .map(([id]) => moduleOf(id)),
    );
  }

  #sync(): void {
    const rec = this.#o.view.assignment;
    if (!rec || this.#stopped || rec.generation <= this.#queuedGeneration) return;
    const dep = this.#o.view.deployment;
    // The leader decided on another deployment than this replica has seen: wait for it.
    if (rec.deploymentHash !== null && dep?.hash !== rec.deploymentHash) return;
    this.#queuedGeneration = rec.generation;
    this.#queue = this.#queue
      .then(() => this.#apply(rec))
      .catch((err: unknown) =>
        this.#o.log?.('warn', `node agent: generation ${rec.generation}: ${(err as Error).message}`),
      );
  }

  async #apply(rec: AssignmentRecord): Promise<void> {
    // Only the newest decision matters: a later one is queued behind this one.
    if (this.#stopped || this.#queuedGeneration > rec.generation) return;
    const dep = this.#o.view.deployment;
    if (rec.deploymentHash !== null && dep && dep.hash === rec.deploymentHash) {
      const keep = this.#modulesHere(rec);
      await this.#o.agent.deployPart(dep.manifest, keep, {
        baseDir: dep.baseDir,
        dryRun: false,
      });
    }
    this.#applied = rec.generation;
    await this.report();
  }

  /** A module's state changed: report it soon, at most once per limits.clusterNodeReportMinIntervalMs. */
  moduleChanged(): void {
    if (this.#reportTimer || this.#stopped) return;
    this.#reportTimer = setTimeout(() => {
      this.#reportTimer = undefined;
      this.#queue = this.#queue.then(() => this.report()).catch(() => undefined);
    }, limits.clusterNodeReportMinIntervalMs);
  }

  /** Writes this node's status: the generation applied and its modules' states. */
  async report(): Promise<void> {
    const status = await this.#o.agent.status();
    const value: NodeStatusRecord = {
      generation: this.#applied,
      at: new Date().toISOString(),
      modules: status.modules.map((m) => ({
        name: m.name,
        state: m.state,
        ...(m.pid !== undefined && { pid: m.pid }),
      })),
    };
    await this.#o.kv.put(nodeStatusKey(this.#o.node), encodeJson(value));
  }
}
