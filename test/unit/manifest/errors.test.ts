import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readDeployment } from '../../../src/core/manifest/index.js';
import { limits } from '../../../src/limits.js';
import {
  agentOf,
  agentPath,
  errorAfter,
  hubOf,
  hubPath,
  manifestErrorOf,
  minimal,
  modulesPath,
} from './helpers.js';

test('unknown field at the top names it and lists what is allowed', () => {
  const e = errorAfter((m) => {
    m.modulesContnet = {};
  });
  assert.equal(
    e.message,
    '$.modulesContnet: unknown field (expected one of $schema, modulesContent, content)',
  );
  assert.equal(e.path, '$.modulesContnet');
  assert.deepEqual(e.errors, [
    { path: e.path, expected: 'unknown field (expected one of $schema, modulesContent, content)' },
  ]);
});

test('unknown field in a module, its settings, the runtime and a route object: each path exact', () => {
  const e = errorAfter((m) => {
    agentOf(m).modules.filter.replica = 2;
    agentOf(m).modules.filter.settings.imageName = 'x';
    agentOf(m).runtime.settings.loggingOption = '';
    hubOf(m).routes.sensorToFilter.prio = 1;
  });
  assert.deepEqual(
    e.errors.map((p) => p.path).sort(),
    [
      `${agentPath}.runtime.settings.loggingOption`,
      `${modulesPath}.filter.settings.imageName`,
      `${modulesPath}.filter.replica`,
      `${hubPath}.routes.sensorToFilter.prio`,
    ].sort(),
  );
  assert.match(e.message, / \(and 3 more\)$/);
  const replica = e.errors.find((p) => p.path.endsWith('.replica'));
  assert.match(replica?.expected ?? '', /^unknown field \(expected one of version, type, .*replicas.*\)$/);
  const prio = e.errors.find((p) => p.path.endsWith('.prio'));
  assert.equal(prio?.expected, 'unknown field (expected one of route, priority, timeToLiveSecs)');
});

test('unknown field in a module twin section (outside properties.desired) is an error; inside it is free', () => {
  const e = errorAfter((m) => {
    m.modulesContent.filter['properties.reported'] = {};
    m.modulesContent.filter['properties.desired'].anything = { goes: [1, 'two'] };
  });
  assert.equal(
    e.message,
    "$.modulesContent.filter['properties.reported']: unknown field (expected one of properties.desired)",
  );
});

test('wrong type names the path and the expected type', () => {
  const e = errorAfter((m) => {
    agentOf(m).modules.SimulatedTemperatureSensor.settings.image = 42;
  });
  assert.equal(
    e.message,
    `${modulesPath}.SimulatedTemperatureSensor.settings.image: expected a non-empty string`,
  );
});

test('bad enum lists the allowed values', () => {
  const e = errorAfter((m) => {
    agentOf(m).modules.filter.restartPolicy = 'sometimes';
  });
  assert.equal(
    e.message,
    `${modulesPath}.filter.restartPolicy: expected one of never, on-failure, on-unhealthy, always`,
  );
});

test('unsupported schemaVersion', () => {
  const e = errorAfter((m) => {
    hubOf(m).schemaVersion = '1.2';
  });
  assert.equal(e.message, `${hubPath}.schemaVersion: expected one of 1.0, 1.1`);
});

test('missing image on a docker module', () => {
  const e = errorAfter((m) => {
    delete agentOf(m).modules.filter.settings.image;
  });
  assert.equal(
    e.message,
    `${modulesPath}.filter.settings.image: required field is missing (expected a non-empty string)`,
  );
});

test('missing command on a process module', () => {
  const m = minimal();
  agentOf(m).modules.worker = { type: 'process', settings: { args: ['x'] } };
  const e = manifestErrorOf(() => readDeployment(m));
  assert.equal(
    e.message,
    `${modulesPath}.worker.settings.command: required field is missing (expected a non-empty string)`,
  );
});

test('docker settings on a process module are unknown fields there', () => {
  const m = minimal();
  agentOf(m).modules.worker = { type: 'process', settings: { command: 'x', image: 'y' } };
  const e = manifestErrorOf(() => readDeployment(m));
  assert.equal(
    e.message,
    `${modulesPath}.worker.settings.image: unknown field (expected one of command, args, cwd, env, auth)`,
  );
});

test('replicas out of range, both ends', () => {
  for (const replicas of [0, limits.moduleReplicasMax + 1, 1.5]) {
    const e = errorAfter((m) => {
      agentOf(m).modules.filter.replicas = replicas;
    });
    assert.equal(
      e.message,
      `${modulesPath}.filter.replicas: expected an integer from 1 to ${limits.moduleReplicasMax}`,
    );
  }
});

test('Tandem extensions are checked: partitionKey, resources, healthCheck', () => {
  const e = errorAfter((m) => {
    Object.assign(agentOf(m).modules.filter, {
      partitionKey: '',
      resources: { cpu: 0, memoryMb: 0.5 },
      healthCheck: { args: [], intervalSecs: 0 },
    });
  });
  assert.deepEqual(
    e.errors.map((p) => [p.path.slice(modulesPath.length), p.expected]),
    [
      ['.filter.partitionKey', 'expected a non-empty string'],
      ['.filter.resources.cpu', 'expected a number greater than 0'],
      ['.filter.resources.memoryMb', 'expected an integer of at least 1'],
      // Document order; a missing field sorts after the fields its object has.
      ['.filter.healthCheck.intervalSecs', 'expected an integer from 1 to 2147483'],
      ['.filter.healthCheck.command', 'required field is missing (expected a non-empty string)'],
    ],
  );
});

test('scheduling extensions are checked: devices, nodeSelector, volume', () => {
  const e = errorAfter((m) => {
    Object.assign(agentOf(m).modules.filter, {
      resources: { devices: { gpu: 0, 'Bad Name': 1 } },
      nodeSelector: { zone: 3 },
      volume: { kind: 'local', path: '/srv/data' },
    });
  });
  assert.deepEqual(
    e.errors.map((p) => [p.path.slice(modulesPath.length), p.expected]),
    [
      ['.filter.resources.devices.gpu', 'expected an integer from 1 to 64'],
      [
        ".filter.resources.devices['Bad Name']",
        'invalid name (expected a device name: lower-case letters, digits, . and -, starting with a letter)',
      ],
      ['.filter.nodeSelector.zone', 'expected a string'],
      [
        '.filter.volume',
        'path is for kind replicated only (a local volume lives in the data directory of its node)',
      ],
    ],
  );
  const r = errorAfter((m) => {
    Object.assign(agentOf(m).modules.filter, { volume: { kind: 'replicated' } });
  });
  assert.deepEqual(
    r.errors.map((p) => [p.path.slice(modulesPath.length), p.expected]),
    [['.filter.volume.path', 'required field is missing (expected a string)']],
  );
});

test('module count is bounded by limits.modulesCountMax', () => {
  const m = minimal();
  for (let i = 0; i <= limits.modulesCountMax; i++) {
    agentOf(m).modules[`m${i}`] = { type: 'process', settings: { command: 'x' } };
  }
  const e = manifestErrorOf(() => readDeployment(m));
  assert.equal(
    e.message,
    `${modulesPath}: at most ${limits.modulesCountMax} entries allowed, found ${limits.modulesCountMax + 1}`,
  );
});

test('env names and values', () => {
  const e = errorAfter((m) => {
    agentOf(m).modules.filter.env = { 'BAD NAME': { value: 'x' }, OK: { value: null }, NOVALUE: {} };
  });
  assert.deepEqual(
    e.errors.map((p) => [p.path.slice(modulesPath.length), p.expected]),
    [
      [
        ".filter.env['BAD NAME']",
        "invalid name (expected a name without '.', '$', '#', '+', '=', spaces or control characters)",
      ],
      ['.filter.env.OK.value', 'expected a string, a number or a boolean'],
      ['.filter.env.NOVALUE.value', 'required field is missing (expected a string, a number or a boolean)'],
    ],
  );
});

test('modulesContent is required, with or without the content wrapper, but not both', () => {
  assert.equal(
    manifestErrorOf(() => readDeployment({})).message,
    '$.modulesContent: required field is missing (expected an object)',
  );
  assert.equal(
    manifestErrorOf(() => readDeployment({ content: {} })).message,
    '$.content.modulesContent: required field is missing (expected an object)',
  );
  const m = minimal();
  const both = manifestErrorOf(() => readDeployment({ ...m, content: m }));
  assert.equal(
    both.message,
    '$.modulesContent: use either modulesContent or content.modulesContent, not both',
  );
  assert.equal(manifestErrorOf(() => readDeployment([])).message, '$: expected an object');
});

test('$edgeHub is required and errors inside a wrapped manifest carry the content prefix', () => {
  const m = minimal();
  delete m.modulesContent.$edgeHub;
  const e = manifestErrorOf(() => readDeployment({ content: m }));
  assert.equal(
    e.message,
    '$.content.modulesContent.$edgeHub: required field is missing (expected an object)',
  );
});

test('paths quote odd names and index arrays, whatever the JSON Pointer escaping', () => {
  const m = minimal();
  agentOf(m).modules['a/b~c'] = { type: 'process', settings: { command: 'x', args: ['ok', 7] } };
  agentOf(m).modules['x y'] = { type: 'docker', settings: {} };
  const e = manifestErrorOf(() => readDeployment(m));
  assert.deepEqual(
    e.errors.map((p) => [p.path, p.expected]),
    [
      [`${modulesPath}['a/b~c'].settings.args[1]`, 'expected a string'],
      [`${modulesPath}['x y'].settings.image`, 'required field is missing (expected a non-empty string)'],
    ],
  );
});

test('a misspelt module type leads with the type, before what the settings then lack', () => {
  const m = minimal();
  agentOf(m).modules.worker = { type: 'proces', settings: { command: 'x' } };
  const e = manifestErrorOf(() => readDeployment(m));
  assert.equal(e.message, `${modulesPath}.worker.type: expected one of docker, process (and 2 more)`);
});
