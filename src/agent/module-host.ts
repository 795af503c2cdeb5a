/**
 * One deployed module on this node: its identity (created by the agent, G6), its generation
 * id, its own workload API socket, and the supervisor that runs it. Persists what a
 * restarted agent needs to adopt the running instance instead of starting a second one.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ModuleSpec } from '../core/manifest/deployment.js';
import { isTandemError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import type { Identity, IdentityRegistry } from '../identity/registry.js';
import { type AgentState, type ModuleRecord, newGenerationId } from './agent-state.js';
import { buildLaunch } from './module-launch.js';
import { ModuleSupervisor, type SupervisorOptions, type SupervisorStatus } from './module-supervisor.js';
import { instanceMarker } from './orphans.js';
import type { InstanceRecord } from './supervisor-types.js';
import { startWorkloadApi, type WorkloadApi, workloadSocketPath, workloadUri } from './workload-api.js';

export interface HostContext {
  readonly hub: Hub;
  readonly registry: IdentityRegistry;
  readonly state: AgentState;
  readonly dataDir: string;
  readonly logDir: string;
  readonly hubName: string;
  readonly edgeDeviceId: string;
  readonly gatewayHost: string;
  readonly caPath: string;
  readonly caPem: string;
  readonly supervisor?: SupervisorOptions;
  /** Set on a cluster node: its name, given to modules as TANDEM_NODE. */
  readonly node?: string;
  /** A module's status or record changed (for reported properties and the status view). */
  onChange(): void;
  log(level: 'info' | 'warn', message: string): void;
}

export class ModuleHost {
  readonly name: string;
  /** Set by the agent when the instance a previous agent ran is gone (see AppliedModule.lost). */
  lost = false;
  #spec: ModuleSpec;
  #baseDir: string;
  readonly #generationId: string;
  readonly #primaryKey: string;
  readonly #ctx: HostContext;
  readonly #workload: WorkloadApi;
  #supervisor: ModuleSupervisor;
  /** Record writes in order, so an older record never overwrites a newer one. */
  #saving: Promise<void> = Promise.resolve();

  private constructor(
    ctx: HostContext,
    spec: ModuleSpec,
    baseDir: string,
    identity: { generationId: string; primaryKey: string },
    wl: WorkloadApi,
  ) {
    this.name = spec.name;
    this.#ctx = ctx;
    this.#spec = spec;
    this.#baseDir = baseDir;
    this.#generationId = identity.generationId;
    this.#primaryKey = identity.primaryKey;
    this.#workload = wl;
    this.#supervisor = this.#newSupervisor();
  }

  /** Prepares a module: identity (kept if it exists), generation id, workload socket. Runs nothing. */
  static async create(
    ctx: HostContext,
    spec: ModuleSpec,
    baseDir: string,
    previous?: ModuleRecord,
  ): Promise<ModuleHost> {
    await ensureIdentity(ctx.registry, ctx.edgeDeviceId);
    const existing = await ctx.registry.get(ctx.edgeDeviceId, spec.name);
    const identity = existing ?? (await ensureIdentity(ctx.registry, ctx.edgeDeviceId, spec.name));
    // A new identity is a new generation, as in IoT Hub; otherwise keep the one modules hold.
    const generationId = existing && previous ? previous.generationId : newGenerationId();
    const workload = await startWorkloadApi({
      socketPath: workloadSocketPath(ctx.dataDir, spec.name),
      moduleId: spec.name,
      generationId: () => generationId,
      key: async () => (await ctx.registry.get(ctx.edgeDeviceId, spec.name))?.primaryKey ?? '',
      trustBundlePem: () => ctx.caPem,
      log: ctx.log,
    });
    return new ModuleHost(ctx, spec, baseDir, { generationId, primaryKey: identity.primaryKey }, workload);
  }

  get spec(): ModuleSpec {
    return this.#spec;
  }

  get baseDir(): string {
    return this.#baseDir;
  }

  /** True while an instance runs or is being kept running (backoff, unhealthy). */
  get active(): boolean {
    const s = this.#supervisor.status();
    return s.desired === 'running' && s.state !== 'stopped' && s.state !== 'failed';
  }

  status(): SupervisorStatus {
    return this.#supervisor.status();
  }

  /** Re-attaches to an instance a previous agent started; false when it is gone. */
  adopt(instance: InstanceRecord): Promise<boolean> {
    return this.#supervisor.adopt(instance);
  }

  async start(): Promise<void> {
    this.lost = false;
    const dir = volumeDir(this.#spec, this.#ctx.dataDir);
    if (dir !== undefined && this.#spec.volume?.kind === 'local')
      await mkdir(dir, { recursive: true, mode: 0o750 });
    await this.#supervisor.start();
  }

  async stop(): Promise<void> {
    await this.#supervisor.stop();
    this.#save();
    await this.#saving;
  }

  /** A new spec that needs a new process: stop the old instance, start with the new launch. */
  async restartWith(spec: ModuleSpec, baseDir: string): Promise<void> {
    this.lost = false;
    await this.#supervisor.stop();
    this.#supervisor.detach();
    this.#spec = spec;
    this.#baseDir = baseDir;
    this.#supervisor = this.#newSupervisor();
    this.#save();
    if (spec.status === 'running') await this.#supervisor.start();
  }

  /** A change the running process does not need to see (restart policy, startup order...): no restart. */
  update(spec: ModuleSpec): void {
    this.#spec = spec;
    this.#supervisor.setRestartPolicy(spec.restartPolicy);
    this.#save();
  }

  /** Removed from the deployment: stop it, and drop its identity and records (G6: no stale keys). */
  async remove(): Promise<void> {
    await this.#supervisor.stop();
    this.#supervisor.detach();
    await this.#workload.close();
    await this.#saving;
    await this.#ctx.state.removeModule(this.name);
    await this.#ctx.registry.remove(this.#ctx.edgeDeviceId, this.name);
  }

  /**
   * Moved to another cluster node: stop it here and forget it here, but keep its identity
   * (the instance on the other node authenticates with it).
   */
  async release(): Promise<void> {
    await this.#supervisor.stop();
    this.#supervisor.detach();
    await this.#workload.close();
    await this.#saving;
    await this.#ctx.state.removeModule(this.name);
  }

  /** Agent shutdown: stop the module (as `iotedge` stopping does) and close the socket. */
  async shutdown(): Promise<void> {
    await this.stop();
    this.#supervisor.detach();
    await this.#workload.close();
  }

  /** Agent going away without stopping modules (tests of adoption): leave the instance running. */
  async detach(): Promise<void> {
    this.#supervisor.detach();
    await this.#workload.close();
    await this.#saving;
  }

  #newSupervisor(): ModuleSupervisor {
    const ctx = this.#ctx;
    const launch = buildLaunch(this.#spec, {
      baseDir: this.#baseDir,
      logDir: ctx.logDir,
      hubName: ctx.hubName,
      edgeDeviceId: ctx.edgeDeviceId,
      gatewayHost: ctx.gatewayHost,
      caPath: ctx.caPath,
      primaryKey: this.#primaryKey,
      generationId: this.#generationId,
      workloadUri: workloadUri(this.#workload.socketPath),
      node: ctx.node,
      volumeDir: volumeDir(this.#spec, ctx.dataDir),
    });
    const env = { ...launch.env, ...instanceMarker(ctx.dataDir, this.name) };
    return new ModuleSupervisor(
      { ...launch, env },
      {
        ...ctx.supervisor,
        onChange: () => {
          this.#save();
          ctx.onChange();
        },
      },
    );
  }

  #save(): void {
    const record: ModuleRecord = {
      spec: this.#spec,
      baseDir: this.#baseDir,
      generationId: this.#generationId,
      instance: this.#supervisor.record(),
    };
    this.#saving = this.#saving
      .then(() => this.#ctx.state.saveModule(this.name, record))
      .catch((err: unknown) => this.#ctx.log('warn', `saving module ${this.name}: ${String(err)}`));
  }
}

/** The identity, created when missing; modules of one group start together and share the device. */
async function ensureIdentity(
  registry: IdentityRegistry,
  deviceId: string,
  moduleId?: string,
): Promise<Identity> {
  const found = await registry.get(deviceId, moduleId);
  if (found) return found;
  try {
    return await registry.create(deviceId, moduleId);
  } catch (err) {
    if (!isTandemError(err, 'TANDEM_E_IDENTITY_EXISTS')) throw err;
    const raced = await registry.get(deviceId, moduleId);
    if (!raced) throw err;
    return raced;
  }
}

/** A local volume lives in the node's data directory; a replicated one where the user's storage is. */
function volumeDir(spec: ModuleSpec, dataDir: string): string | undefined {
  if (!spec.volume) return undefined;
  return spec.volume.kind === 'replicated' ? spec.volume.path : path.join(dataDir, 'volumes', spec.name);
}
