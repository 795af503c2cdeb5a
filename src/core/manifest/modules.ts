/**
 * `$edgeAgent` modules, once the schema has accepted them: the checks a schema cannot express
 * (names, createOptions JSON, fields that need schema 1.1) and the fully defaulted ModuleSpec.
 * Problems are collected, never thrown, so one run reports all of them.
 */

import { limits } from '../../limits.js';
import { idLengthMax, isValidId } from '../topics/ids.js';
import type { DockerSettings, HealthCheck, ModuleSpec, ProcessSettings, Resources } from './deployment.js';
import { childPath, isRecord } from './json-path.js';
import { readJsonText } from './json-text.js';
import type { ManifestProblem } from './validate.js';

/** Shapes the schema guarantees (schema.ts); nothing here is checked twice. */
export type EnvIn = Record<string, { value: string | number | boolean }>;

export interface DockerSettingsIn {
  readonly image: string;
  readonly [createOptionsPart: string]: string | undefined;
}

export interface ProcessSettingsIn {
  readonly command: string;
  readonly args?: string[];
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  readonly auth?: 'workload' | 'connection-string';
}

export interface ModuleIn {
  readonly version?: string;
  readonly type: 'docker' | 'process';
  readonly status?: ModuleSpec['status'];
  readonly restartPolicy?: ModuleSpec['restartPolicy'];
  readonly startupOrder?: number;
  readonly imagePullPolicy?: 'on-create' | 'never';
  readonly env?: EnvIn;
  readonly settings: DockerSettingsIn | ProcessSettingsIn;
  readonly replicas?: number;
  readonly partitionKey?: string;
  readonly resources?: { cpu?: number; memoryMb?: number; devices?: Record<string, number> };
  readonly nodeSelector?: Record<string, string>;
  readonly volume?: { kind: 'local' } | { kind: 'replicated'; path: string };
  readonly healthCheck?: {
    command: string;
    args?: string[];
    intervalSecs?: number;
    timeoutSecs?: number;
    retries?: number;
  };
}

/** edgeAgent and edgeHub as `systemModules` declares them. */
export interface SystemModuleIn {
  readonly settings: DockerSettingsIn;
  readonly startupOrder?: number;
  readonly imagePullPolicy?: string;
}

/** Names Tandem itself answers to (it is the agent and the hub), in their manifest spellings. */
const systemNames = ['edgeAgent', 'edgeHub', '$edgeAgent', '$edgeHub'];

/** Fields edgeAgent schema 1.1 introduced; a 1.0 manifest using them is mislabelled. */
export const fieldsSince11 = ['startupOrder', 'imagePullPolicy'] as const;

const idChars = "ASCII letters, digits and - % _ * ? ! ( ) , : = @ '";

/** Why `name` cannot name a module, or undefined when it can. */
function nameProblem(name: string): string | undefined {
  if (name === '') return 'invalid module name: empty';
  if (name.length > idLengthMax) {
    return `invalid module name: longer than ${idLengthMax} characters (IoT Hub module id rule)`;
  }
  // A twin property name cannot hold '.' or '$', and module names are keys of edgeAgent's twin.
  const twinBad = [...name].find((ch) => ch === '.' || ch === '$');
  if (twinBad !== undefined) {
    return `invalid module name: '${twinBad}' is not allowed (twin property names cannot hold '.' or '$')`;
  }
  if (!isValidId(name)) {
    // JSON escapes show a control character instead of printing it.
    const bad = JSON.stringify([...name].find((ch) => !isValidId(ch)) ?? '').slice(1, -1);
    return `invalid module name: '${bad}' is not allowed (expected ${idChars}, as IoT Hub module ids)`;
  }
  // Module names key plain objects everywhere; this one would change an object's prototype.
  if (name === '__proto__') return 'invalid module name: __proto__ is reserved';
  return undefined;
}

/**
 * Module names are identities and file names: each must be a valid IoT Hub module id, and no two
 * (nor a module and a system module) may differ only in case, since file systems may fold case.
 */
export function checkModuleNames(
  names: readonly string[],
  modulesPath: string,
  out: ManifestProblem[],
): void {
  const seen = new Map<string, string>();
  for (const name of names) {
    const path = childPath(modulesPath, name);
    const bad = nameProblem(name);
    if (bad !== undefined) {
      out.push({ path, expected: bad });
      continue;
    }
    const lower = name.toLowerCase();
    const system = systemNames.find((s) => s.toLowerCase() === lower);
    const other = seen.get(lower);
    if (system !== undefined) {
      out.push({
        path,
        expected: `module name collides with the system module ${system} (Tandem is the agent and the hub)`,
      });
    } else if (other !== undefined) {
      out.push({
        path,
        expected: `module name collides with module ${other} (names are compared ignoring case)`,
      });
    } else {
      seen.set(lower, name);
    }
  }
}

/** 1.1-only fields set in a 1.0 manifest, and docker-only fields on a process module. */
export function checkModuleFields(
  module: ModuleIn | SystemModuleIn,
  schemaVersion: string,
  path: string,
  out: ManifestProblem[],
): void {
  const fields = module as unknown as Record<string, unknown>;
  if (schemaVersion === '1.0') {
    for (const field of fieldsSince11) {
      if (fields[field] !== undefined) {
        out.push({ path: childPath(path, field), expected: 'not in schema 1.0 (use schemaVersion 1.1)' });
      }
    }
  }
  if (fields.type === 'process' && fields.imagePullPolicy !== undefined) {
    out.push({ path: childPath(path, 'imagePullPolicy'), expected: 'applies to docker modules only' });
  }
}

const createOptionsParts = ['01', '02', '03', '04', '05', '06', '07'].map((n) => `createOptions${n}`);

/**
 * createOptions, re-joined from the parts IoT Edge splits a long value into, parsed as a JSON
 * object. Missing or blank is `{}`, as edgeAgent treats it. Problems name `settings.createOptions`.
 */
export function readCreateOptions(
  settings: DockerSettingsIn,
  settingsPath: string,
  out: ManifestProblem[],
): Record<string, unknown> {
  let text = settings.createOptions ?? '';
  // The schema makes each part require the one before it, so the first gap ends the value.
  for (const part of createOptionsParts) {
    const chunk = settings[part];
    if (chunk === undefined) break;
    text += chunk;
  }
  if (text.trim() === '') return {};
  const path = childPath(settingsPath, 'createOptions');
  const parsed = readJsonText(text);
  if (!parsed.ok) {
    const where = parsed.path === '$' ? '' : ` at ${parsed.path}`;
    const { line, column } = parsed;
    out.push({
      path,
      expected: `invalid JSON${where} (line ${line}, column ${column}: ${parsed.problem})`,
      line,
      column,
    });
    return {};
  }
  if (!isRecord(parsed.value)) {
    out.push({ path, expected: 'expected a JSON object in the string (Docker create options)' });
    return {};
  }
  return parsed.value;
}

/** IoT Edge's `{ NAME: { value } }`, flattened: a process environment holds strings only. */
function flattenEnv(env: EnvIn | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([name, v]) => [name, String(v.value)]));
}

function processSettings(s: ProcessSettingsIn): ProcessSettings {
  return {
    kind: 'process',
    command: s.command,
    args: [...(s.args ?? [])],
    ...(s.cwd !== undefined && { cwd: s.cwd }),
    env: Object.fromEntries(Object.entries(s.env ?? {})),
    // Left out when absent: the agent's default (workload) applies, as the model documents.
    ...(s.auth !== undefined && { auth: s.auth }),
  };
}

function healthCheck(h: NonNullable<ModuleIn['healthCheck']>): HealthCheck {
  return {
    command: h.command,
    args: [...(h.args ?? [])],
    intervalSecs: h.intervalSecs ?? limits.healthCheckIntervalSecondsDefault,
    timeoutSecs: h.timeoutSecs ?? limits.healthCheckTimeoutSecondsDefault,
    retries: h.retries ?? limits.healthCheckRetriesDefault,
  };
}

function resources(r: NonNullable<ModuleIn['resources']>): Resources {
  return {
    ...(r.cpu !== undefined && { cpu: r.cpu }),
    ...(r.memoryMb !== undefined && { memoryMb: r.memoryMb }),
    ...(r.devices !== undefined && { devices: { ...r.devices } }),
  };
}

/** A fully defaulted ModuleSpec: consumers never apply IoT Edge's defaults themselves. */
export function moduleSpec(name: string, m: ModuleIn, path: string, out: ManifestProblem[]): ModuleSpec {
  const settingsPath = childPath(path, 'settings');
  const settings: ProcessSettings | DockerSettings =
    m.type === 'process'
      ? processSettings(m.settings as ProcessSettingsIn)
      : {
          kind: 'docker',
          image: (m.settings as DockerSettingsIn).image,
          createOptions: readCreateOptions(m.settings as DockerSettingsIn, settingsPath, out),
        };
  return {
    name,
    ...(m.version !== undefined && { version: m.version }),
    type: m.type,
    settings,
    status: m.status ?? 'running',
    restartPolicy: m.restartPolicy ?? 'always',
    startupOrder: m.startupOrder ?? limits.startupOrderDefault,
    env: flattenEnv(m.env),
    ...(m.imagePullPolicy !== undefined && { imagePullPolicy: m.imagePullPolicy }),
    replicas: m.replicas ?? 1,
    ...(m.partitionKey !== undefined && { partitionKey: m.partitionKey }),
    ...(m.resources !== undefined && { resources: resources(m.resources) }),
    ...(m.nodeSelector !== undefined && { nodeSelector: { ...m.nodeSelector } }),
    ...(m.volume !== undefined && { volume: { ...m.volume } }),
    ...(m.healthCheck !== undefined && { healthCheck: healthCheck(m.healthCheck) }),
  };
}
