import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifestText, readDeployment } from '../../../src/core/manifest/index.js';
import { limits } from '../../../src/limits.js';
import {
  agentOf,
  agentPath,
  errorAfter,
  fixtureText,
  hubOf,
  hubPath,
  type Json,
  manifestErrorOf,
  minimal,
  modulesPath,
} from './helpers.js';

test('duplicate module names (a duplicate JSON key) are refused by parseManifestText with the path', () => {
  const text = fixtureText('simulated-temperature-1.1.json').replace(
    '"filter": {\n            "version": "1.0",',
    '"filter": { "type": "docker", "settings": { "image": "a" } },\n          "filter": {\n            "version": "1.0",',
  );
  assert.notEqual(text, fixtureText('simulated-temperature-1.1.json'), 'the fixture edit applied');
  const e = manifestErrorOf(() => parseManifestText(text));
  assert.equal(e.path, `${modulesPath}.filter`);
  assert.equal(e.message, `${modulesPath}.filter: line 60, column 11: duplicate key`);
  assert.deepEqual(e.errors, [
    { path: e.path, expected: 'line 60, column 11: duplicate key', line: 60, column: 11 },
  ]);
});

test('module names that differ only in case collide', () => {
  const e = errorAfter((m) => {
    agentOf(m).modules.Filter = { type: 'docker', settings: { image: 'x' } };
  });
  assert.equal(
    e.message,
    `${modulesPath}.Filter: module name collides with module filter (names are compared ignoring case)`,
  );
});

test('a module named like a system module (any case) collides with Tandem itself', () => {
  const e = errorAfter((m) => {
    agentOf(m).modules.EDGEAGENT = { type: 'docker', settings: { image: 'x' } };
  });
  assert.equal(
    e.message,
    `${modulesPath}.EDGEAGENT: module name collides with the system module edgeAgent (Tandem is the agent and the hub)`,
  );
});

test('module names follow IoT Hub module id rules, and twin key rules', () => {
  const e = manifestErrorOf(() => {
    const m = minimal();
    for (const name of ['a/b', 'a.b', 'x'.repeat(129), '__proto__']) {
      Object.defineProperty(agentOf(m).modules, name, {
        value: { type: 'process', settings: { command: 'x' } },
        enumerable: true,
      });
    }
    readDeployment(m);
  });
  assert.deepEqual(
    e.errors.map((p) => [p.path, p.expected]),
    [
      [
        `${modulesPath}['a/b']`,
        `invalid module name: '/' is not allowed (expected ASCII letters, digits and - % _ * ? ! ( ) , : = @ ', as IoT Hub module ids)`,
      ],
      [
        `${modulesPath}['a.b']`,
        "invalid module name: '.' is not allowed (twin property names cannot hold '.' or '$')",
      ],
      // A long key is cut in the path, so one error stays one readable line.
      [
        `${modulesPath}['${'x'.repeat(100)}...']`,
        'invalid module name: longer than 128 characters (IoT Hub module id rule)',
      ],
      [`${modulesPath}.__proto__`, 'invalid module name: __proto__ is reserved'],
    ],
  );
});

test('a route into a module that is not deployed names the route and the module', () => {
  const e = errorAfter((m) => {
    hubOf(m).routes.toAlerts = 'FROM /messages/* INTO BrokeredEndpoint("/modules/alerts/inputs/in")';
  });
  assert.equal(
    e.message,
    `${hubPath}.routes.toAlerts: route "toAlerts" sends to module alerts, which is not in $edgeAgent modules`,
  );
});

test('a route into a module whose name differs only in case suggests the deployed one', () => {
  const e = errorAfter((m) => {
    hubOf(m).routes.sensorToFilter.route =
      'FROM /messages/* INTO BrokeredEndpoint("/modules/Filter/inputs/in")';
  });
  assert.equal(
    e.message,
    `${hubPath}.routes.sensorToFilter.route: route "sensorToFilter" sends to module Filter, which is not in $edgeAgent modules (did you mean filter?)`,
  );
});

test('a route syntax error keeps its line and column and gains the JSON path of the route', () => {
  const e = errorAfter((m) => {
    hubOf(m).routes['to-cloud'] = { route: 'FROM /messages/*\nWHERE $body.t > 1\nINT0 $upstream' };
  });
  assert.equal(e.path, `${hubPath}.routes['to-cloud'].route`);
  assert.equal(
    e.message,
    `${hubPath}.routes['to-cloud'].route: route "to-cloud": line 3, column 1: expected INTO, found 'INT0'`,
  );
  assert.equal(e.errors[0]?.line, 3);
  assert.equal(e.errors[0]?.column, 1);
});

test('every bad route is reported, not only the first', () => {
  const e = errorAfter((m) => {
    hubOf(m).routes.a = 'FROM /* INTO $cloud';
    hubOf(m).routes.b = 'FROM /* INTO BrokeredEndpoint("/modules/nobody/inputs/x")';
  });
  assert.deepEqual(
    e.errors.map((p) => p.path),
    [`${hubPath}.routes.a`, `${hubPath}.routes.b`],
  );
  assert.match(e.message, /\(and 1 more\)$/);
});

test('a twin section for a module that is not deployed', () => {
  const e = errorAfter((m) => {
    m.modulesContent.ghost = { 'properties.desired': { x: 1 } };
  });
  assert.equal(e.message, '$.modulesContent.ghost: twin of module ghost, which is not in $edgeAgent modules');
});

test('twin desired properties follow IoT Hub twin rules: key characters and depth', () => {
  const e = errorAfter((m) => {
    let deep: Json = { leaf: 1 };
    for (let i = 0; i < limits.twinDepthMax; i++) deep = { d: deep };
    m.modulesContent.filter['properties.desired'] = { 'a.b': 1, deep };
  });
  const twin = "$.modulesContent.filter['properties.desired']";
  assert.deepEqual(
    e.errors.map((p) => p.path),
    [`${twin}['a.b']`, `${twin}${'.deep'}${'.d'.repeat(limits.twinDepthMax - 1)}`],
  );
  assert.equal(
    e.errors[1]?.expected,
    `nested deeper than ${limits.twinDepthMax} levels (IoT Hub twin limit)`,
  );
});

test('createOptions that is not valid JSON names settings.createOptions and the JSON problem', () => {
  const e = errorAfter((m) => {
    agentOf(m).modules.filter.settings.createOptions = '{"HostConfig": {"Binds": ["/a:/a",]}}';
  });
  assert.equal(
    e.message,
    `${modulesPath}.filter.settings.createOptions: invalid JSON at $.HostConfig.Binds (line 1, column 35: trailing comma (not JSON), found ']}}')`,
  );
  assert.equal(e.errors[0]?.column, 35);
});

test('createOptions that is JSON but not an object', () => {
  const e = errorAfter((m) => {
    agentOf(m).modules.filter.settings.createOptions = '["--privileged"]';
  });
  assert.equal(
    e.message,
    `${modulesPath}.filter.settings.createOptions: expected a JSON object in the string (Docker create options)`,
  );
});

test('system module createOptions are checked too', () => {
  const e = errorAfter((m) => {
    agentOf(m).systemModules.edgeHub.settings.createOptions = '{';
  });
  assert.match(
    e.message,
    /^\$\.modulesContent\.\$edgeAgent\['properties\.desired'\]\.systemModules\.edgeHub\.settings\.createOptions: invalid JSON/,
  );
});

test('createOptions parts must come in order: 02 without 01 is an error on 01', () => {
  const e = errorAfter((m) => {
    agentOf(m).modules.filter.settings.createOptions = '{"A":';
    agentOf(m).modules.filter.settings.createOptions02 = '1}';
  });
  assert.equal(
    e.message,
    `${modulesPath}.filter.settings.createOptions01: required because createOptions02 is set (parts go in order)`,
  );
});

test('a split createOptions whose joined text is bad JSON reports the joined position', () => {
  const e = errorAfter((m) => {
    Object.assign(agentOf(m).modules.filter.settings, {
      createOptions: '{"A":',
      createOptions01: ' 1,',
      createOptions02: '}',
    });
  });
  assert.equal(e.errors[0]?.path, `${modulesPath}.filter.settings.createOptions`);
  assert.equal(e.errors[0]?.column, 9);
});

test('1.1 fields in a 1.0 manifest: startupOrder and imagePullPolicy, on modules and system modules', () => {
  const e = errorAfter((m) => {
    agentOf(m).schemaVersion = '1.0';
  });
  const why = 'not in schema 1.0 (use schemaVersion 1.1)';
  assert.deepEqual(e.errors, [
    { path: `${modulesPath}.SimulatedTemperatureSensor.startupOrder`, expected: why },
    { path: `${modulesPath}.filter.imagePullPolicy`, expected: why },
    { path: `${agentPath}.systemModules.edgeHub.startupOrder`, expected: why },
  ]);
  assert.equal(e.message, `${modulesPath}.SimulatedTemperatureSensor.startupOrder: ${why} (and 2 more)`);
});

test('route priority and TTL in a 1.0 $edgeHub', () => {
  const e = errorAfter((m) => {
    hubOf(m).schemaVersion = '1.0';
  });
  assert.equal(
    e.message,
    `${hubPath}.routes.sensorToFilter: schema 1.0 routes are strings; use schemaVersion 1.1 for priority and TTL`,
  );
});

test('imagePullPolicy on a process module', () => {
  const m = minimal();
  agentOf(m).modules.worker = { type: 'process', imagePullPolicy: 'never', settings: { command: 'x' } };
  const e = manifestErrorOf(() => readDeployment(m));
  assert.equal(e.message, `${modulesPath}.worker.imagePullPolicy: applies to docker modules only`);
});
