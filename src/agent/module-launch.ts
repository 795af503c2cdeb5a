/**
 * From a module spec to a fully resolved launch: absolute command and working directory,
 * and the whole environment the module gets (a few host basics, the manifest's env, then
 * the identity variables the Azure IoT SDK's `ModuleClient.fromEnvironment()` reads).
 */
import path from 'node:path';
import type { ModuleSpec } from '../core/manifest/deployment.js';
import { type ModuleAuth, moduleAuthEnvNames, moduleEnv } from './module-env.js';
import type { ModuleLaunch } from './supervisor-types.js';

export interface LaunchContext {
  readonly baseDir: string;
  readonly logDir: string;
  readonly hubName: string;
  readonly edgeDeviceId: string;
  /** The hub's TLS listener as modules reach it, `host:port`. */
  readonly gatewayHost: string;
  readonly caPath: string;
  readonly primaryKey: string;
  readonly generationId: string;
  readonly workloadUri: string;
  /** A cluster node's name (TANDEM_NODE): where this instance runs. */
  readonly node?: string;
  /** The module's data directory (TANDEM_VOLUME_DIR), when its manifest names a volume. */
  readonly volumeDir?: string;
}

/**
 * Host variables a process module inherits. Nothing else: a module must not see Tandem's
 * own environment (it may hold secrets), and stray identity variables would make the SDK
 * pick the wrong path.
 */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'LOGNAME'];

function hostBasics(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function withoutIdentityVars(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !moduleAuthEnvNames.includes(k)));
}

/** `node` runs on the Node that runs Tandem; a relative path is relative to the manifest. */
function resolveCommand(command: string, baseDir: string): string {
  if (command === 'node') return process.execPath;
  return command.includes('/') ? path.resolve(baseDir, command) : command;
}

export function buildLaunch(spec: ModuleSpec, ctx: LaunchContext): ModuleLaunch {
  const auth: ModuleAuth = spec.settings.kind === 'process' ? (spec.settings.auth ?? 'workload') : 'workload';
  const identity = moduleEnv({
    hubName: ctx.hubName,
    edgeDeviceId: ctx.edgeDeviceId,
    moduleId: spec.name,
    gatewayHost: ctx.gatewayHost,
    auth,
    primaryKey: ctx.primaryKey,
    caFile: ctx.caPath,
    workloadUri: ctx.workloadUri,
    generationId: ctx.generationId,
  });
  const common = {
    module: spec.name,
    logDir: ctx.logDir,
    restartPolicy: spec.restartPolicy,
    desired: spec.status,
    healthCheck: spec.healthCheck,
    generationId: ctx.generationId,
  };
  if (spec.settings.kind === 'docker') {
    return { ...common, settings: spec.settings, env: { ...withoutIdentityVars(spec.env), ...identity } };
  }
  const s = spec.settings;
  const env = {
    ...hostBasics(),
    ...withoutIdentityVars(s.env),
    ...withoutIdentityVars(spec.env),
    ...identity,
    ...(ctx.node !== undefined && { TANDEM_NODE: ctx.node }),
    ...(ctx.volumeDir !== undefined && { TANDEM_VOLUME_DIR: ctx.volumeDir }),
  };
  const settings = {
    ...s,
    command: resolveCommand(s.command, ctx.baseDir),
    cwd: path.resolve(ctx.baseDir, s.cwd ?? '.'),
  };
  const healthCheck = spec.healthCheck && {
    ...spec.healthCheck,
    command: resolveCommand(spec.healthCheck.command, ctx.baseDir),
  };
  return { ...common, settings, env, healthCheck };
}
