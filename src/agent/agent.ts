/**
 * The edge agent of one node: holds the deployment, reconciles what runs against it with the
 * pure planner, carries plans out group by group, and reports what is true as `$edgeAgent`
 * reported properties. Deployments are applied one at a time; an invalid one applies nothing.
 */
import { createHash } from 'node:crypto';
import type { Deployment } from '../core/manifest/deployment.js';
import { readDeployment } from '../core/manifest/index.js';
import { type AppliedModule, planDeployment, planGroups, stableJson } from '../core/reconcile/planner.js';
import { parseRoutes } from '../core/routes/index.js';
import { isTandemError } from '../errors.js';
import { moduleQueueLengths } from '../hub/context.js';
import type { Hub } from '../hub/hub.js';
import { AgentState, type DeploymentRecord } from './agent-state.js';
import type { AgentFace, AgentStatus, DeployOptions, DeployResult, PlanStep } from './face.js';
import { type HostContext, ModuleHost } from './module-host.js';
import type { SupervisorStatus } from './module-supervisor.js';
import { stopOrphans } from './orphans.js';
import { ReportedPublisher } from './reported-publisher.js';

export type AgentOptions = Omit<HostContext, 'state' | 'onChange' | 'node'> & {
  /** Called after any module's status changed (the live status view). */
  readonly onChange?: () => void;
  /**
   * The agent of one cluster node: its records are its own (`agent/<node>/` in the shared
   * store), and a module that leaves its deployment moved to another node, so its identity
   * stays. The node agent (cluster/node-agent.ts) gives it the modules assigned here.
   */
  readonly clusterNode?: string;
};

export class Agent implements AgentFace {
  readonly logDir: string;
  readonly #o: AgentOptions;
  readonly #state: AgentState;
  readonly #hosts = new Map<string, ModuleHost>();
  readonly #reporter: ReportedPublisher;
  #deployment: { record: DeploymentRecord; model: Deployment } | undefined;
  /** Deployments run one after another. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: AgentOptions) {
    this.#o = options;
    this.logDir = options.logDir;
    const node = options.clusterNode;
    this.#state = new AgentState(options.hub.context.kv, node === undefined ? 'agent/' : `agent/${node}/`);
    this.#reporter = new ReportedPublisher({
      hub: options.hub,
      identity: `${options.edgeDeviceId}/$edgeAgent`,
      modules: () => this.#moduleStatuses(),
      specs: () => this.#deployment?.model.modules ?? {},
      log: options.log,
    });
  }

  /**
   * Adopts the modules a previous agent left running, stops unsupervised leftovers, then
   * applies `initial` (a manifest given on the command line) or else the last deployment.
   */
  async start(initial?: { manifest: unknown; baseDir: string }): Promise<DeployResult | undefined> {
    // Validate a given manifest before touching anything: a bad one must change nothing.
    if (initial) readDeployment(initial.manifest);
    await this.#adoptAll();
    // A cluster node runs what the scheduler assigns it, not what it ran before it stopped.
    if (this.#o.clusterNode !== undefined) return undefined;
    const previous = await this.#state.deployment();
    if (initial) return this.deploy(initial.manifest, { baseDir: initial.baseDir, dryRun: false });
    if (previous) return this.deploy(previous.manifest, { baseDir: previous.baseDir, dryRun: false });
    return undefined;
  }

  hasModule(name: string): boolean {
    return this.#hosts.has(name);
  }

  deploy(manifest: unknown, options: DeployOptions): Promise<DeployResult> {
    return this.deployPart(manifest, undefined, options);
  }

  /**
   * A cluster node's share of a deployment: the whole manifest (its routes apply everywhere),
   * but only the modules in `modules` run here; the others run on other nodes.
   */
  deployPart(
    manifest: unknown,
    modules: ReadonlySet<string> | undefined,
    options: DeployOptions,
  ): Promise<DeployResult> {
    const run = this.#queue.then(() => this.#deploy(manifest, options, modules));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async status(): Promise<AgentStatus> {
    const record = this.#deployment?.record;
    const queues = moduleQueueLengths(await this.#o.hub.endpointStatus());
    return {
      modules: this.#moduleStatuses().map((m) => ({ ...m, queueLength: queues.get(m.name) ?? 0 })),
      ...(record ? { deployment: { appliedAt: record.appliedAt, hash: record.hash } } : {}),
    };
  }

  /** Stops every module (or leaves them running for a later agent to adopt, with `leaveRunning`). */
  async close(options: { leaveRunning?: boolean } = {}): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await Promise.all(
      [...this.#hosts.values()].map((h) => (options.leaveRunning ? h.detach() : h.shutdown())),
    );
    await this.#reporter.close();
  }

  async #deploy(
    manifest: unknown,
    options: DeployOptions,
    only?: ReadonlySet<string>,
  ): Promise<DeployResult> {
    let model: Deployment;
    try {
      model = share(readDeployment(manifest), only);
    } catch (err) {
      if (isTandemError(err)) this.#reporter.setDesiredStatus(400, err.message);
      throw err;
    }
    const routes = parseRoutes(model.edgeHub.routes);
    const current: Record<string, AppliedModule> = {};
    for (const [name, h] of this.#hosts)
      current[name] = { spec: h.spec, baseDir: h.baseDir, active: h.active, lost: h.lost };
    const routesChanged = stableJson(this.#deployment?.model.edgeHub ?? null) !== stableJson(model.edgeHub);
    const plan = planDeployment({ desired: model.modules, current, baseDir: options.baseDir, routesChanged });
    if (options.dryRun || this.#closed) return { plan, applied: false };
    const record: DeploymentRecord = {
      manifest,
      baseDir: options.baseDir,
      appliedAt: new Date().toISOString(),
      hash: createHash('sha256').update(stableJson(manifest)).digest('hex').slice(0, 12),
    };
    // Saved first: an agent killed half-way re-plans from it on restart and converges.
    await this.#state.saveDeployment(record);
    this.#deployment = { record, model };
    // Routes change as a whole; queued messages stay in their endpoint queues.
    this.#o.hub.setRoutes(routes, model.edgeHub.timeToLiveSecs);
    await this.#applyTwins(model);
    for (const group of planGroups(plan)) {
      await Promise.all(group.map((step) => this.#execute(step, model, options.baseDir)));
    }
    this.#reporter.setDesiredStatus(200, '');
    this.#o.log('info', `deployment ${record.hash} applied: ${describePlan(plan.steps)}`);
    return { plan, applied: true };
  }

  /** Module twins as the manifest sets them, before modules start so they read them at once. */
  async #applyTwins(model: Deployment): Promise<void> {
    for (const [name, desired] of Object.entries(model.moduleTwins)) {
      await this.#o.hub.replaceDesired(
        `${this.#o.edgeDeviceId}/${name}`,
        desired as Parameters<Hub['replaceDesired']>[1],
      );
    }
  }

  async #execute(step: PlanStep, model: Deployment, baseDir: string): Promise<void> {
    const spec = model.modules[step.module];
    const host = this.#hosts.get(step.module);
    switch (step.action) {
      case 'remove':
        this.#hosts.delete(step.module);
        await (this.#o.clusterNode === undefined ? host?.remove() : host?.release());
        break;
      case 'stop':
        // Recorded as stopped, so that a later deployment asking for it running starts it again.
        if (host && spec) host.update(spec);
        await host?.stop();
        break;
      case 'update':
        if (host && spec) host.update(spec);
        break;
      case 'start':
      case 'restart': {
        if (!spec) return;
        if (host) {
          await host.restartWith(spec, baseDir);
        } else {
          const created = await ModuleHost.create(this.#hostContext(), spec, baseDir);
          this.#hosts.set(step.module, created);
          await created.start();
        }
        break;
      }
    }
    this.#changed();
  }

  async #adoptAll(): Promise<void> {
    const keep = new Set<number>();
    for (const [name, record] of await this.#state.modules()) {
      const host = await ModuleHost.create(this.#hostContext(), record.spec, record.baseDir, record);
      this.#hosts.set(name, host);
      if (record.instance && (await host.adopt(record.instance))) {
        const pid = host.status().pid;
        if (pid !== undefined) keep.add(pid);
        this.#o.log('info', `adopted module ${name} (pid ${pid ?? 'n/a'})`);
      } else if (record.spec.status === 'running') {
        host.lost = true;
        this.#o.log('info', `module ${name} is not running; its restart policy decides`);
      }
    }
    await stopOrphans(this.#o.dataDir, keep, (m) => this.#o.log('warn', m));
  }

  #hostContext(): HostContext {
    return { ...this.#o, node: this.#o.clusterNode, state: this.#state, onChange: () => this.#changed() };
  }

  #changed(): void {
    this.#reporter.schedule();
    this.#o.onChange?.();
  }

  /** What the supervisors know, without queue lengths (those are the hub's; see status()). */
  #moduleStatuses(): SupervisorStatus[] {
    return [...this.#hosts.values()].map((h) => h.status()).sort((a, b) => a.name.localeCompare(b.name));
  }
}

function describePlan(steps: readonly PlanStep[]): string {
  return steps.length === 0 ? 'no module changes' : steps.map((s) => `${s.action} ${s.module}`).join(', ');
}

/** The part of a deployment one cluster node runs: its modules and their twins. */
function share(model: Deployment, only: ReadonlySet<string> | undefined): Deployment {
  if (!only) return model;
  const pick = <T>(r: Readonly<Record<string, T>>) =>
    Object.fromEntries(Object.entries(r).filter(([k]) => only.has(k)));
  return { ...model, modules: pick(model.modules), moduleTwins: pick(model.moduleTwins) };
}
