/**
 * StandInAgent: a stand-in for the real agent (src/agent) behind the AgentFace interface,
 * so the API and CLI routes that need an agent can be tested before the agent lands. It
 * validates manifests with the real readDeployment and plans by module names only; it
 * starts nothing. To be replaced by tests against the real agent.
 */
import { createHash } from 'node:crypto';
import type {
  AgentFace,
  AgentStatus,
  DeployOptions,
  DeployResult,
  ModuleStatus,
  PlanStep,
} from '../../src/agent/face.js';
import { readDeployment } from '../../src/core/manifest/index.js';

export function moduleStatus(name: string, extra: Partial<ModuleStatus> = {}): ModuleStatus {
  return {
    name,
    type: 'process',
    desired: 'running',
    state: 'running',
    restartPolicy: 'always',
    restartCount: 0,
    queueLength: 0,
    ...extra,
  };
}

export class StandInAgent implements AgentFace {
  readonly logDir: string;
  modules: ModuleStatus[];
  deployment: AgentStatus['deployment'];
  /** Every deploy call, so tests can check what the API passed on. */
  readonly calls: Array<{ manifest: unknown; options: DeployOptions }> = [];
  #routes = '{}';

  constructor(logDir: string, modules: ModuleStatus[] = []) {
    this.logDir = logDir;
    this.modules = modules;
  }

  async status(): Promise<AgentStatus> {
    // A stale queueLength on purpose: the API must replace it with the hub's numbers.
    const modules = this.modules.map((m) => ({ ...m, queueLength: 999 }));
    return this.deployment ? { modules, deployment: this.deployment } : { modules };
  }

  async deploy(manifest: unknown, options: DeployOptions): Promise<DeployResult> {
    this.calls.push({ manifest, options });
    const d = readDeployment(manifest);
    const current = new Set(this.modules.map((m) => m.name));
    const wanted = Object.values(d.modules);
    const steps: PlanStep[] = [
      ...[...current]
        .filter((n) => !(n in d.modules))
        .map((n) => ({
          action: 'stop' as const,
          module: n,
          reason: 'removed from the deployment',
          group: -1,
        })),
      ...wanted
        .filter((m) => !current.has(m.name))
        .map((m) => ({
          action: 'start' as const,
          module: m.name,
          reason: 'new module',
          group: m.startupOrder,
        })),
    ];
    const routes = JSON.stringify(d.edgeHub.routes);
    const plan = {
      steps,
      unchanged: wanted.filter((m) => current.has(m.name)).map((m) => m.name),
      routesChanged: routes !== this.#routes,
    };
    if (options.dryRun) return { plan, applied: false };
    this.modules = wanted.map((m) => this.modules.find((x) => x.name === m.name) ?? moduleStatus(m.name));
    this.#routes = routes;
    const hash = createHash('sha256').update(JSON.stringify(manifest)).digest('hex').slice(0, 12);
    this.deployment = { appliedAt: new Date().toISOString(), hash };
    return { plan, applied: true };
  }

  hasModule(name: string): boolean {
    return this.modules.some((m) => m.name === name);
  }
}
