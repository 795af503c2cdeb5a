/**
 * An IoT Edge deployment manifest (schema 1.0/1.1, plus Tandem's extensions) to the Deployment
 * model. Two passes: the JSON Schema (schema.ts), then what a schema cannot express: module
 * names, routes that parse and reach deployed modules, createOptions JSON, twins of deployed
 * modules only, 1.1 fields in 1.1 manifests. Every problem of a pass is reported together.
 * Pure: no I/O, no clock.
 */
import { TandemError } from '../../errors.js';
import { limits } from '../../limits.js';
import { parseRoute } from '../routes/index.js';
import type { Deployment, ModuleSpec } from './deployment.js';
import type { EdgeHubSettings, RouteSpec } from './edgehub.js';
import { childPath, isRecord } from './json-path.js';
import {
  checkModuleFields,
  checkModuleNames,
  type ModuleIn,
  moduleSpec,
  readCreateOptions,
  type SystemModuleIn,
} from './modules.js';
import { type ManifestProblem, manifestError, schemaProblems } from './validate.js';

type RouteIn = string | { route: string; priority?: number; timeToLiveSecs?: number };

interface AgentDesiredIn {
  readonly schemaVersion: string;
  readonly systemModules?: { edgeAgent?: SystemModuleIn; edgeHub?: SystemModuleIn };
  readonly modules?: Record<string, ModuleIn>;
}

interface HubDesiredIn {
  readonly schemaVersion: string;
  readonly routes?: Record<string, RouteIn>;
  readonly storeAndForwardConfiguration?: { timeToLiveSecs?: number };
}

/** The parts of a schema-valid manifest, with the JSON path of each. */
interface Located {
  readonly content: Record<string, { 'properties.desired': unknown }>;
  readonly contentPath: string;
  readonly agent: AgentDesiredIn;
  readonly agentPath: string;
  readonly hub: HubDesiredIn;
  readonly hubPath: string;
}

const systemTwins = ['$edgeAgent', '$edgeHub'];

/** `az iot edge` deployments wrap modulesContent in `content`; the schema allows one or the other. */
function locate(manifest: Record<string, unknown>): Located {
  const wrapped = isRecord(manifest.content);
  const content = (wrapped ? (manifest.content as Record<string, unknown>) : manifest)
    .modulesContent as Located['content'];
  const contentPath = wrapped ? '$.content.modulesContent' : '$.modulesContent';
  return {
    content,
    contentPath,
    agent: content.$edgeAgent!['properties.desired'] as AgentDesiredIn,
    agentPath: childPath(contentPath, '$edgeAgent', 'properties.desired'),
    hub: content.$edgeHub!['properties.desired'] as HubDesiredIn,
    hubPath: childPath(contentPath, '$edgeHub', 'properties.desired'),
  };
}

/**
 * Reads a manifest (already parsed JSON; use parseManifestText on file text to refuse duplicate
 * keys) into a fully defaulted Deployment. Throws TANDEM_E_MANIFEST whose message starts with
 * the JSON path of the first problem and whose details.errors lists `{ path, expected }` for all.
 */
export function readDeployment(manifest: unknown): Deployment {
  const problems = schemaProblems(manifest);
  if (problems.length > 0) throw manifestError(problems);
  const at = locate(manifest as Record<string, unknown>);
  const out: ManifestProblem[] = [];
  const modules = readModules(at, out);
  checkSystemModules(at, out);
  const edgeHub = readEdgeHub(at, new Set(Object.keys(modules)), out);
  const moduleTwins = readTwins(at, modules, out);
  if (out.length > 0) throw manifestError(out);
  return { schemaVersion: at.agent.schemaVersion, modules, edgeHub, moduleTwins };
}

function readModules(at: Located, out: ManifestProblem[]): Record<string, ModuleSpec> {
  const modulesIn = at.agent.modules ?? {};
  const modulesPath = childPath(at.agentPath, 'modules');
  const names = Object.keys(modulesIn);
  checkModuleNames(names, modulesPath, out);
  return Object.fromEntries(
    names.map((name) => {
      const path = childPath(modulesPath, name);
      const m = modulesIn[name]!;
      checkModuleFields(m, at.agent.schemaVersion, path, out);
      return [name, moduleSpec(name, m, path, out)];
    }),
  );
}

/** System modules are Tandem itself, so nothing of them is kept; they are still checked like modules. */
function checkSystemModules(at: Located, out: ManifestProblem[]): void {
  const system = at.agent.systemModules ?? {};
  for (const name of ['edgeAgent', 'edgeHub'] as const) {
    const m = system[name];
    if (m === undefined) continue;
    const path = childPath(at.agentPath, 'systemModules', name);
    checkModuleFields(m, at.agent.schemaVersion, path, out);
    readCreateOptions(m.settings, childPath(path, 'settings'), out);
  }
}

/** `$edgeHub`: routes that parse and reach deployed modules, and the store-and-forward TTL. */
function readEdgeHub(at: Located, deployed: ReadonlySet<string>, out: ManifestProblem[]): EdgeHubSettings {
  const routesIn = at.hub.routes ?? {};
  const routes: [string, RouteSpec][] = [];
  for (const [name, spec] of Object.entries(routesIn)) {
    const path = childPath(at.hubPath, 'routes', name);
    if (at.hub.schemaVersion === '1.0' && typeof spec !== 'string') {
      // Same words as readEdgeHubSettings, so both readers explain it alike.
      out.push({
        path,
        expected: 'schema 1.0 routes are strings; use schemaVersion 1.1 for priority and TTL',
      });
      continue;
    }
    const { route, ...options } = typeof spec === 'string' ? { route: spec } : spec;
    checkRoute(name, route, typeof spec === 'string' ? path : childPath(path, 'route'), deployed, out);
    routes.push([name, { route, ...options }]);
  }
  return {
    schemaVersion: at.hub.schemaVersion,
    routes: Object.fromEntries(routes),
    timeToLiveSecs: at.hub.storeAndForwardConfiguration?.timeToLiveSecs ?? limits.messageTtlSecondsDefault,
  };
}

function checkRoute(
  name: string,
  text: string,
  path: string,
  deployed: ReadonlySet<string>,
  out: ManifestProblem[],
): void {
  let endpoint: ReturnType<typeof parseRoute>['endpoint'];
  try {
    endpoint = parseRoute(text, name).endpoint;
  } catch (err) {
    if (!(err instanceof TandemError) || err.code !== 'TANDEM_E_ROUTE_SYNTAX') throw err;
    const { line, column } = err.details as { line?: number; column?: number };
    out.push({
      path,
      expected: err.message,
      ...(line !== undefined && { line }),
      ...(column !== undefined && { column }),
    });
    return;
  }
  if (endpoint.kind !== 'module' || deployed.has(endpoint.moduleId)) return;
  // Module ids are case-sensitive; a near miss is most likely a typo worth pointing at.
  const lower = endpoint.moduleId.toLowerCase();
  const near = [...deployed].find((m) => m.toLowerCase() === lower);
  const hint = near === undefined ? '' : ` (did you mean ${near}?)`;
  out.push({
    path,
    expected: `route "${name}" sends to module ${endpoint.moduleId}, which is not in $edgeAgent modules${hint}`,
  });
}

/** `modulesContent.{module}`: desired twin properties, only for deployed modules, within IoT Hub's twin rules. */
function readTwins(
  at: Located,
  modules: Readonly<Record<string, ModuleSpec>>,
  out: ManifestProblem[],
): Record<string, Record<string, unknown>> {
  const twins: [string, Record<string, unknown>][] = [];
  for (const [name, section] of Object.entries(at.content)) {
    if (systemTwins.includes(name)) continue;
    const path = childPath(at.contentPath, name);
    if (!Object.hasOwn(modules, name)) {
      out.push({ path, expected: `twin of module ${name}, which is not in $edgeAgent modules` });
      continue;
    }
    const desiredPath = childPath(path, 'properties.desired');
    const desired = section['properties.desired'] as Record<string, unknown>;
    checkTwin(desired, desiredPath, 1, out);
    // A copy, so the Deployment shares nothing with the caller's object (and holds only JSON).
    const copy = JSON.parse(JSON.stringify(desired)) as Record<string, unknown>;
    const bytes = utf8Length(JSON.stringify(copy));
    if (bytes > limits.twinSectionBytesMax) {
      out.push({
        path: desiredPath,
        expected: `at most ${limits.twinSectionBytesMax} bytes of JSON, found ${bytes}`,
      });
    }
    twins.push([name, copy]);
  }
  return Object.fromEntries(twins);
}

/** IoT Hub's twin rules (as src/hub/twin-document.ts applies them): key characters and depth. */
function checkTwin(node: Record<string, unknown>, path: string, depth: number, out: ManifestProblem[]): void {
  if (depth > limits.twinDepthMax) {
    out.push({ path, expected: `nested deeper than ${limits.twinDepthMax} levels (IoT Hub twin limit)` });
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    const keyPath = childPath(path, key);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
    if (key === '' || /[.$ \u0000-\u001f\u007f]/.test(key)) {
      out.push({
        path: keyPath,
        expected: "invalid twin property name (no '.', '$', spaces or control characters)",
      });
    } else if (isRecord(value)) {
      checkTwin(value, keyPath, depth + 1, out);
    }
  }
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}
