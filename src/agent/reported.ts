/**
 * The `$edgeAgent` twin's reported properties, shaped as IoT Edge's edgeAgent reports them
 * (schemaVersion, lastDesiredStatus, runtime, systemModules, modules with runtimeStatus,
 * exitCode, restartCount, lastStartTimeUtc...), so tools that read them keep working.
 * Pure: statuses in, a document out; the agent sends the difference as a patch.
 */
import type { ModuleSpec } from '../core/manifest/deployment.js';
import type { SupervisorStatus } from './module-supervisor.js';

export interface ReportedInput {
  readonly modules: readonly SupervisorStatus[];
  readonly specs: Readonly<Record<string, ModuleSpec>>;
  readonly lastDesiredVersion?: number;
  readonly lastDesiredStatus: { readonly code: number; readonly description: string };
  readonly platform: { readonly os: string; readonly architecture: string; readonly version: string };
  readonly startedAt: string;
}

type Json = Record<string, unknown>;

function moduleReport(m: SupervisorStatus, spec: ModuleSpec | undefined): Json {
  const settings =
    spec?.settings.kind === 'docker'
      ? { image: spec.settings.image, createOptions: JSON.stringify(spec.settings.createOptions) }
      : spec?.settings.kind === 'process'
        ? { command: spec.settings.command, args: JSON.stringify(spec.settings.args) }
        : {};
  return {
    runtimeStatus: m.state,
    status: m.desired,
    restartPolicy: m.restartPolicy,
    type: m.type,
    version: spec?.version ?? '',
    settings,
    exitCode: m.exitCode ?? null,
    statusDescription: m.error ?? (m.signal ? `killed by ${m.signal}` : ''),
    lastStartTimeUtc: m.lastStartTime ?? null,
    lastExitTimeUtc: m.lastExitTime ?? null,
    restartCount: m.restartCount,
    lastRestartTimeUtc: m.restartCount > 0 ? (m.lastStartTime ?? null) : null,
  };
}

export function edgeAgentReported(input: ReportedInput): Json {
  const modules: Json = {};
  for (const m of input.modules) modules[m.name] = moduleReport(m, input.specs[m.name]);
  const self = { runtimeStatus: 'running', lastStartTimeUtc: input.startedAt, type: 'process' };
  return {
    schemaVersion: '1.1',
    ...(input.lastDesiredVersion !== undefined ? { lastDesiredVersion: input.lastDesiredVersion } : {}),
    lastDesiredStatus: input.lastDesiredStatus,
    runtime: { type: 'tandem', platform: input.platform },
    // Tandem is both system modules in one process: they run exactly when this report is sent.
    systemModules: { edgeAgent: self, edgeHub: { ...self, restartPolicy: 'always', status: 'running' } },
    modules,
  };
}
