/**
 * Reads the `$edgeHub` part of an IoT Edge deployment manifest (schema 1.0/1.1): routes and
 * the store-and-forward TTL. Pure: data in, settings out, or a TANDEM_E_MANIFEST error that
 * names the JSON path. The agent issue extends this to `$edgeAgent` and module twins.
 */
import { TandemError } from '../../errors.js';
import { limits } from '../../limits.js';

export interface RouteSpec {
  readonly route: string;
  readonly priority?: number;
  readonly timeToLiveSecs?: number;
}

export interface EdgeHubSettings {
  readonly schemaVersion: string;
  readonly routes: Record<string, RouteSpec>;
  readonly timeToLiveSecs: number;
}

const SCHEMA_VERSIONS = ['1.0', '1.1'];
const DESIRED_KEYS = ['schemaVersion', 'routes', 'storeAndForwardConfiguration'];

type Obj = Record<string, unknown>;

function fail(path: string, expected: string): never {
  throw new TandemError('TANDEM_E_MANIFEST', `${path}: ${expected}`, { details: { path } });
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function only(obj: Obj, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      fail(`${path}.${key}`, `unknown field (expected one of ${allowed.join(', ')})`);
  }
}

/** Finds `$edgeHub`'s desired properties in a manifest, with or without the `content` wrapper. */
function edgeHubDesired(manifest: unknown): { desired: Obj; path: string } {
  if (!isObj(manifest)) fail('$', 'expected a JSON object');
  const root = isObj(manifest.content) ? manifest.content : manifest;
  const rootPath = isObj(manifest.content) ? '$.content' : '$';
  const modulesContent = root.modulesContent;
  if (!isObj(modulesContent)) fail(`${rootPath}.modulesContent`, 'expected an object');
  const edgeHub = modulesContent.$edgeHub;
  const hubPath = `${rootPath}.modulesContent.$edgeHub`;
  if (!isObj(edgeHub)) fail(hubPath, 'expected an object');
  const desired = edgeHub['properties.desired'];
  if (!isObj(desired)) fail(`${hubPath}['properties.desired']`, 'expected an object');
  return { desired, path: `${hubPath}['properties.desired']` };
}

function readRoute(name: string, value: unknown, path: string): RouteSpec {
  if (typeof value === 'string') return { route: value };
  if (!isObj(value)) fail(path, 'expected a route string or an object with "route"');
  only(value, ['route', 'priority', 'timeToLiveSecs'], path);
  if (typeof value.route !== 'string') fail(`${path}.route`, 'expected a string');
  const spec: { route: string; priority?: number; timeToLiveSecs?: number } = { route: value.route };
  if (value.priority !== undefined) {
    // IoT Edge route priority: 0 (highest) to 9 (lowest).
    if (
      !Number.isInteger(value.priority) ||
      (value.priority as number) < 0 ||
      (value.priority as number) > 9
    ) {
      fail(`${path}.priority`, 'expected an integer from 0 to 9');
    }
    spec.priority = value.priority as number;
  }
  if (value.timeToLiveSecs !== undefined) {
    if (!Number.isInteger(value.timeToLiveSecs) || (value.timeToLiveSecs as number) < 0) {
      fail(`${path}.timeToLiveSecs`, 'expected a non-negative integer');
    }
    spec.timeToLiveSecs = value.timeToLiveSecs as number;
  }
  if (name.length === 0) fail(path, 'route name must not be empty');
  return spec;
}

export function readEdgeHubSettings(manifest: unknown): EdgeHubSettings {
  const { desired, path } = edgeHubDesired(manifest);
  only(desired, DESIRED_KEYS, path);
  const schemaVersion = desired.schemaVersion;
  if (typeof schemaVersion !== 'string' || !SCHEMA_VERSIONS.includes(schemaVersion)) {
    fail(`${path}.schemaVersion`, `expected one of ${SCHEMA_VERSIONS.join(', ')}`);
  }
  const routesIn = desired.routes ?? {};
  if (!isObj(routesIn)) fail(`${path}.routes`, 'expected an object of named routes');
  const names = Object.keys(routesIn);
  if (names.length > limits.routesCountMax)
    fail(`${path}.routes`, `more than ${limits.routesCountMax} routes`);
  const routes: Record<string, RouteSpec> = {};
  for (const name of names) {
    const spec = readRoute(name, routesIn[name], `${path}.routes.${name}`);
    // Schema 1.0 routes are plain strings; priority and TTL arrived with 1.1.
    if (schemaVersion === '1.0' && typeof routesIn[name] !== 'string') {
      fail(
        `${path}.routes.${name}`,
        'schema 1.0 routes are strings; use schemaVersion 1.1 for priority and TTL',
      );
    }
    routes[name] = spec;
  }
  let timeToLiveSecs: number = limits.messageTtlSecondsDefault;
  const sf = desired.storeAndForwardConfiguration;
  if (sf !== undefined) {
    if (!isObj(sf)) fail(`${path}.storeAndForwardConfiguration`, 'expected an object');
    only(sf, ['timeToLiveSecs'], `${path}.storeAndForwardConfiguration`);
    if (sf.timeToLiveSecs !== undefined) {
      if (!Number.isInteger(sf.timeToLiveSecs) || (sf.timeToLiveSecs as number) < 0) {
        fail(`${path}.storeAndForwardConfiguration.timeToLiveSecs`, 'expected a non-negative integer');
      }
      timeToLiveSecs = sf.timeToLiveSecs as number;
    }
  }
  return { schemaVersion, routes, timeToLiveSecs };
}
