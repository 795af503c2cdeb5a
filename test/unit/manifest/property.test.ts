import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseManifestText, readDeployment } from '../../../src/core/manifest/index.js';
import { limits } from '../../../src/limits.js';
import { type Json, toManifest } from './helpers.js';

const chars = (s: string) => fc.constantFrom(...s.split(''));
const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const word = fc.string({ unit: chars(`${letters}0123456789`), minLength: 1, maxLength: 8 });
const text = fc.string({ minLength: 1, maxLength: 12 });

/** Any IoT Hub module id without '.' and '$', other than the system modules' names. */
const moduleName = fc
  .string({ unit: chars(`${letters}0123456789-%_*?!(),:=@'`), minLength: 1, maxLength: 12 })
  .filter((n) => !['edgeagent', 'edgehub'].includes(n.toLowerCase()) && n !== '__proto__');

const envIn = fc.dictionary(
  fc.string({ unit: chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789'), minLength: 1, maxLength: 8 }),
  fc.record({
    value: fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    ),
  }),
  { maxKeys: 3 },
);

/** A createOptions JSON string, sometimes split into continuation fields as IoT Edge does. */
const createOptionsIn = fc
  .tuple(
    fc.dictionary(word, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }),
    fc.array(fc.nat(), { maxLength: 7 }),
  )
  .map(([options, cuts]) => {
    const json = JSON.stringify(options);
    const points = [...new Set(cuts.map((c) => c % (json.length + 1)))].sort((a, b) => a - b);
    const parts = [0, ...points, json.length].map((p, i, all) => json.slice(p, all[i + 1] ?? p)).slice(0, -1);
    const fields: Record<string, string> = { createOptions: parts[0] ?? '' };
    parts.slice(1).forEach((part, i) => {
      fields[`createOptions0${i + 1}`] = part;
    });
    return fields;
  });

const docker = fc.record({
  type: fc.constant('docker'),
  settings: fc
    .tuple(text, fc.option(createOptionsIn, { nil: undefined }))
    .map(([image, opts]) => ({ image, ...opts })),
});

const processModule = fc.record({
  type: fc.constant('process'),
  settings: fc.record(
    {
      command: text,
      args: fc.array(fc.string(), { maxLength: 3 }),
      cwd: text,
      env: fc.dictionary(word, fc.string(), { maxKeys: 2 }),
      auth: fc.constantFrom('workload', 'connection-string'),
    },
    { requiredKeys: ['command'] },
  ),
});

const common = (since11: boolean) =>
  fc.record(
    {
      version: text,
      status: fc.constantFrom('running', 'stopped'),
      restartPolicy: fc.constantFrom('never', 'on-failure', 'on-unhealthy', 'always'),
      ...(since11 && { startupOrder: fc.nat({ max: limits.startupOrderDefault }) }),
      env: envIn,
      replicas: fc.integer({ min: 1, max: limits.moduleReplicasMax }),
      partitionKey: text,
      resources: fc.record(
        { cpu: fc.double({ min: 0.01, max: 64, noNaN: true }), memoryMb: fc.integer({ min: 1, max: 65536 }) },
        { requiredKeys: [] },
      ),
      healthCheck: fc.record(
        {
          command: text,
          args: fc.array(fc.string(), { maxLength: 2 }),
          intervalSecs: fc.integer({ min: 1, max: 3600 }),
          timeoutSecs: fc.integer({ min: 1, max: 3600 }),
          retries: fc.integer({ min: 1, max: 10 }),
        },
        { requiredKeys: ['command'] },
      ),
    },
    { requiredKeys: [] },
  );

const moduleIn = (since11: boolean) =>
  fc.tuple(common(since11), fc.oneof(docker, processModule), fc.boolean()).map(([c, kind, pull]) => ({
    ...c,
    ...kind,
    ...(since11 && pull && kind.type === 'docker' && { imagePullPolicy: 'never' }),
  }));

const twinValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const twin = fc.dictionary(word, fc.oneof(twinValue, fc.dictionary(word, twinValue, { maxKeys: 2 })), {
  maxKeys: 3,
});

function routeIn(allNames: readonly string[], since11: boolean) {
  // As in edgeHub's lexer, "/*" opens a comment even inside "/modules/*/inputs/x"; leave such names out.
  const names = allNames.filter((n) => !n.includes('*'));
  const sink =
    names.length === 0
      ? fc.constant('$upstream')
      : fc.oneof(
          fc.constant('$upstream'),
          fc
            .tuple(fc.constantFrom(...names), word)
            .map(([m, input]) => `BrokeredEndpoint("/modules/${m}/inputs/${input}")`),
        );
  const route = sink.map((s) => `FROM /messages/* WHERE $body.level > 2 INTO ${s}`);
  if (!since11) return route;
  return fc.oneof(
    route,
    fc.record(
      { route, priority: fc.integer({ min: 0, max: 9 }), timeToLiveSecs: fc.nat({ max: 100_000 }) },
      { requiredKeys: ['route'] },
    ),
  );
}

/** Puts the generated modules under their names (the generator keeps them apart to keep names unique). */
function assemble(g: Json, names: readonly string[]): Json {
  const desired = g.modulesContent.$edgeAgent['properties.desired'];
  names.forEach((name, i) => {
    desired.modules[name] = g.moduleList[i];
  });
  return g.wrapped ? { content: { modulesContent: g.modulesContent } } : { modulesContent: g.modulesContent };
}

test('any valid generated manifest reads; its text reads the same; its own output re-reads to itself', () => {
  fc.assert(
    fc.property(
      fc
        .uniqueArray(moduleName, { selector: (n) => n.toLowerCase(), maxLength: 4 })
        .chain((names) => fc.tuple(fc.constant(names), manifestFor(names))),
      ([names, g]) => {
        const m = assemble(g, names);
        const first = readDeployment(m);
        // Sorted: a JavaScript object lists integer-like keys ("4") first, whatever the manifest order.
        assert.deepEqual(Object.keys(first.modules).sort(), [...names].sort());
        assert.deepEqual(readDeployment(parseManifestText(JSON.stringify(m, null, 1))), first);
        assert.deepEqual(readDeployment(toManifest(first)), first);
      },
    ),
    { numRuns: 150 },
  );
});

/** A manifest (modules kept in `moduleList`) whose routes and twins refer to `names`. */
function manifestFor(names: readonly string[]) {
  return fc
    .tuple(fc.constantFrom('1.0', '1.1'), fc.constantFrom('1.0', '1.1'))
    .chain(([agentVersion, hubVersion]) =>
      fc
        .record({
          wrapped: fc.boolean(),
          moduleList: fc.tuple(...names.map(() => moduleIn(agentVersion === '1.1'))),
          routes: fc.dictionary(word, routeIn(names, hubVersion === '1.1'), { maxKeys: 3 }),
          twins: fc
            .subarray([...names])
            .chain((withTwin) => fc.tuple(...withTwin.map((n) => fc.tuple(fc.constant(n), twin)))),
          ttl: fc.option(fc.nat({ max: 1_000_000 }), { nil: undefined }),
        })
        .map(
          ({ wrapped, moduleList, routes, twins, ttl }): Json => ({
            wrapped,
            moduleList,
            modulesContent: {
              $edgeAgent: { 'properties.desired': { schemaVersion: agentVersion, modules: {} } },
              $edgeHub: {
                'properties.desired': {
                  schemaVersion: hubVersion,
                  routes,
                  ...(ttl !== undefined && { storeAndForwardConfiguration: { timeToLiveSecs: ttl } }),
                },
              },
              ...Object.fromEntries(twins.map(([n, desired]) => [n, { 'properties.desired': desired }])),
            },
          }),
        ),
    );
}
