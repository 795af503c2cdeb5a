import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  endpointKey,
  parseRoutes,
  type RouteSpec,
  routeMessage,
  routePriorityDefault,
} from '../../../src/core/routes/index.js';
import { isTandemError } from '../../../src/errors.js';
import { fromModule, jsonMessage, message, telemetry } from './helpers.js';

function tableErrors(routes: Record<string, unknown>): { message: string; errors: unknown } {
  try {
    parseRoutes(routes as Record<string, RouteSpec>);
  } catch (err) {
    assert.ok(isTandemError(err, 'TANDEM_E_ROUTE_SYNTAX'), String(err));
    return { message: err.message, errors: err.details.errors };
  }
  assert.fail('parseRoutes accepted invalid routes');
}

test('endpointKey: stable stream names', () => {
  assert.equal(endpointKey({ kind: 'upstream' }), 'upstream');
  assert.equal(endpointKey({ kind: 'module', moduleId: 'filter', inputName: 'in1' }), 'module/filter/in1');
});

test('parseRoutes: schema 1.0 strings and 1.1 objects; no priority is edgeHub default, TTL 0 is unset', () => {
  const table = parseRoutes({
    legacy: 'FROM /messages/* INTO $upstream',
    full: {
      route: 'FROM /messages/modules/a/* INTO BrokeredEndpoint("/modules/b/inputs/in")',
      priority: 3,
      timeToLiveSecs: 60,
    },
    zeroTtl: { route: 'FROM /* INTO $upstream', priority: 0, timeToLiveSecs: 0 },
    bare: { route: 'FROM /* INTO $upstream' },
  });
  assert.deepEqual(
    table.routes.map((r) => [r.name, r.priority, r.timeToLiveSecs]),
    [
      ['legacy', routePriorityDefault, undefined],
      ['full', 3, 60],
      ['zeroTtl', 0, undefined],
      ['bare', routePriorityDefault, undefined],
    ],
  );
  assert.equal(routePriorityDefault, 2_000_000_000);
  assert.ok(Object.isFrozen(table) && Object.isFrozen(table.routes) && Object.isFrozen(table.routes[1]));
});

test('parseRoutes collects every error with the route name, line and column', () => {
  const { message, errors } = tableErrors({
    ok: 'FROM /* INTO $upstream',
    typo: 'FROM /messages/*\nWHERE a = 1\nINTO $upstream',
    sink: 'FROM /* INTO $cloud',
    prio: { route: 'FROM /* INTO $upstream', priority: 10 },
    ttl: { route: 'FROM /* INTO $upstream', timeToLiveSecs: -1 },
    shape: 42,
    extra: { route: 'FROM /* INTO $upstream', priorty: 1 },
    ' ': 'FROM /* INTO $upstream',
  });
  assert.deepEqual(errors, [
    {
      route: 'typo',
      line: 2,
      column: 9,
      message:
        "route \"typo\": line 2, column 9: invalid operands to binary operator '=': have 'string' and 'number', expected 'string' and 'string' (properties are strings; compare with a string or use AS_NUMBER)",
    },
    {
      route: 'sink',
      line: 1,
      column: 14,
      message: 'route "sink": line 1, column 14: unsupported system endpoint \'$cloud\', expected $upstream',
    },
    { route: 'prio', message: 'route "prio": "priority" must be an integer from 0 (highest) to 9' },
    { route: 'ttl', message: 'route "ttl": "timeToLiveSecs" must be an integer from 0 to 4294967295' },
    { route: 'shape', message: 'route "shape": expected a route string or an object with "route"' },
    {
      route: 'extra',
      message: 'route "extra": unknown field "priorty" (expected route, priority, timeToLiveSecs)',
    },
    { route: ' ', message: 'route " ": route name must not be empty' },
  ]);
  assert.match(message, /^7 routes are invalid:\nroute "typo": line 2, column 9: /);
});

test('parseRoutes refuses more routes than limits.routesCountMax', () => {
  const many: Record<string, string> = {};
  for (let i = 0; i <= 1000; i++) many[`r${i}`] = 'FROM /* INTO $upstream';
  assert.throws(
    () => parseRoutes(many),
    (err) => isTandemError(err, 'TANDEM_E_MANIFEST'),
  );
});

test('routeMessage: source and condition both decide; no match gives no endpoint', () => {
  const table = parseRoutes({
    telemetryUp: 'FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream',
    hot: 'FROM /messages/modules/sensor/outputs/temperature WHERE $body.t > 30 INTO BrokeredEndpoint("/modules/alerts/inputs/hot")',
    all: 'FROM /messages/modules/sensor/* INTO BrokeredEndpoint("/modules/store/inputs/raw")',
  });
  const sensor = fromModule('sensor', 'temperature');
  const keys = (msg = jsonMessage({ t: 31 }), from = sensor): string[] =>
    routeMessage(table, msg, from).map((r) => endpointKey(r.endpoint));
  assert.deepEqual(keys(), ['module/alerts/hot', 'module/store/raw']);
  assert.deepEqual(keys(jsonMessage({ t: 29 })), ['module/store/raw']);
  assert.deepEqual(keys(jsonMessage({ t: 31 }), fromModule('sensor', 'humidity')), ['module/store/raw']);
  assert.deepEqual(keys(message(), telemetry), ['upstream']);
  assert.deepEqual(keys(message(), fromModule('other', 'x')), []);
});

test('routeMessage de-duplicates per endpoint: highest priority wins with its TTL (edgeHub Evaluator)', () => {
  const table = parseRoutes({
    r1: { route: 'FROM /messages/* INTO $upstream', priority: 1, timeToLiveSecs: 3600 },
    r2: { route: 'FROM /messages/* INTO $upstream', priority: 0, timeToLiveSecs: 7200 },
    r3: { route: 'FROM /messages/* INTO $upstream', priority: 2, timeToLiveSecs: 60 },
    r4: {
      route: 'FROM /messages/* INTO BrokeredEndpoint("/modules/m/inputs/i")',
      priority: 0,
      timeToLiveSecs: 120,
    },
    r5: 'FROM /messages/* WHERE key = \'nope\' INTO BrokeredEndpoint("/modules/m/inputs/i")',
  });
  assert.deepEqual(routeMessage(table, message(), telemetry), [
    { endpoint: { kind: 'upstream' }, priority: 0, timeToLiveSecs: 7200, routeNames: ['r1', 'r2', 'r3'] },
    {
      endpoint: { kind: 'module', moduleId: 'm', inputName: 'i' },
      priority: 0,
      timeToLiveSecs: 120,
      routeNames: ['r4'],
    },
  ]);
});

test('routeMessage: on equal priority the largest explicit TTL is kept; an unset TTL does not beat one', () => {
  const table = parseRoutes({
    a: { route: 'FROM /* INTO $upstream', priority: 5 },
    b: { route: 'FROM /* INTO $upstream', priority: 5, timeToLiveSecs: 30 },
    c: { route: 'FROM /* INTO $upstream', priority: 5, timeToLiveSecs: 90 },
    d: { route: 'FROM /* INTO $upstream', priority: 5, timeToLiveSecs: 60 },
    e: 'FROM /* INTO $upstream',
  });
  assert.deepEqual(routeMessage(table, message(), telemetry), [
    {
      endpoint: { kind: 'upstream' },
      priority: 5,
      timeToLiveSecs: 90,
      routeNames: ['a', 'b', 'c', 'd', 'e'],
    },
  ]);
  const unset = parseRoutes({ only: 'FROM /* INTO $upstream', also: 'FROM /messages/* INTO $upstream' });
  assert.deepEqual(routeMessage(unset, message(), telemetry), [
    {
      endpoint: { kind: 'upstream' },
      priority: routePriorityDefault,
      timeToLiveSecs: undefined,
      routeNames: ['only', 'also'],
    },
  ]);
});

test('routeMessage works on an empty table and on a table built by hand', () => {
  assert.deepEqual(routeMessage(parseRoutes({}), message(), telemetry), []);
  const parsed = parseRoutes({ x: "FROM /* WHERE k = 'v' INTO $upstream" });
  const copy = { routes: [...parsed.routes] };
  assert.equal(routeMessage(copy, message({ properties: { k: 'v' } }), telemetry).length, 1);
  assert.equal(routeMessage(copy, message({ properties: { k: 'w' } }), telemetry).length, 0);
});
