import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Deployment,
  parseManifestText,
  readDeployment,
  readEdgeHubSettings,
} from '../../../src/core/manifest/index.js';
import { limits } from '../../../src/limits.js';
import { agentOf, fixture, fixtureText, hubOf, type Json, minimal } from './helpers.js';

const uint32Max = 4_294_967_295;

test('a Microsoft-style 1.1 manifest (SimulatedTemperatureSensor, createOptions) reads to the exact Deployment', () => {
  const deployment = readDeployment(parseManifestText(fixtureText('simulated-temperature-1.1.json')));
  const expected: Deployment = {
    schemaVersion: '1.1',
    modules: {
      SimulatedTemperatureSensor: {
        name: 'SimulatedTemperatureSensor',
        version: '1.0',
        type: 'docker',
        settings: {
          kind: 'docker',
          image: 'mcr.microsoft.com/azureiotedge-simulated-temperature-sensor:1.0',
          createOptions: {
            HostConfig: {
              Binds: ['/var/sensor:/data'],
              LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
            },
          },
        },
        status: 'running',
        restartPolicy: 'always',
        startupOrder: 2,
        env: { MessageCount: '500', SendData: 'true' },
        replicas: 1,
      },
      filter: {
        name: 'filter',
        version: '1.0',
        type: 'docker',
        settings: { kind: 'docker', image: 'contoso.azurecr.io/filtermodule:0.0.1-amd64', createOptions: {} },
        status: 'running',
        restartPolicy: 'on-failure',
        startupOrder: uint32Max,
        env: {},
        imagePullPolicy: 'never',
        replicas: 1,
      },
    },
    edgeHub: {
      schemaVersion: '1.1',
      routes: {
        sensorToFilter: {
          route:
            'FROM /messages/modules/SimulatedTemperatureSensor/outputs/temperatureOutput INTO BrokeredEndpoint("/modules/filter/inputs/input1")',
          priority: 0,
          timeToLiveSecs: 86400,
        },
        filterToIoTHub: { route: 'FROM /messages/modules/filter/outputs/output1 INTO $upstream' },
      },
      timeToLiveSecs: 7200,
    },
    moduleTwins: {
      SimulatedTemperatureSensor: { SendData: true, SendInterval: 5 },
      filter: { TemperatureThreshold: 25 },
    },
  };
  assert.deepEqual(deployment, expected);
});

test('a 1.0 manifest in the az "content" wrapper with Tandem process modules reads to the exact Deployment', () => {
  const deployment = readDeployment(parseManifestText(fixtureText('tandem-process-1.0.json')));
  const expected: Deployment = {
    schemaVersion: '1.0',
    modules: {
      sensor: {
        name: 'sensor',
        type: 'process',
        settings: {
          kind: 'process',
          command: 'node',
          args: ['modules/sensor.js', '--interval', '5'],
          cwd: 'modules',
          env: { LOG_LEVEL: 'debug' },
        },
        status: 'running',
        restartPolicy: 'always',
        startupOrder: uint32Max,
        env: { SITE: 'north', RATE: '2.5' },
        replicas: 3,
        partitionKey: 'deviceGroup',
        resources: { cpu: 0.5, memoryMb: 128, devices: { gpu: 1 } },
        nodeSelector: { zone: 'line-2' },
        volume: { kind: 'replicated', path: '/mnt/shared/sensor' },
        healthCheck: {
          command: 'node',
          args: ['modules/health.js'],
          intervalSecs: 30,
          timeoutSecs: 30,
          retries: 5,
        },
      },
      alerts: {
        name: 'alerts',
        version: '2',
        type: 'process',
        settings: {
          kind: 'process',
          command: '/usr/local/bin/alerts',
          args: [],
          env: {},
          auth: 'connection-string',
        },
        status: 'stopped',
        restartPolicy: 'never',
        startupOrder: uint32Max,
        env: {},
        replicas: 1,
      },
    },
    edgeHub: {
      schemaVersion: '1.0',
      routes: {
        hot: {
          route:
            'FROM /messages/modules/sensor/outputs/* WHERE $body.temperature > 30 INTO BrokeredEndpoint("/modules/alerts/inputs/hot")',
        },
        up: { route: 'FROM /messages/* INTO $upstream' },
      },
      timeToLiveSecs: limits.messageTtlSecondsDefault,
    },
    moduleTwins: { alerts: { threshold: { celsius: 30 }, recipients: ['ops@example.com'] } },
  };
  assert.deepEqual(deployment, expected);
});

test('defaults: a bare module gets IoT Edge and Tandem defaults, health check defaults from limits', () => {
  const m = minimal();
  agentOf(m).modules.bare = { type: 'docker', settings: { image: 'busybox' } };
  agentOf(m).modules.proc = {
    type: 'process',
    settings: { command: 'sleep' },
    healthCheck: { command: 'true' },
  };
  const d = readDeployment(m);
  assert.deepEqual(d.modules.bare, {
    name: 'bare',
    type: 'docker',
    settings: { kind: 'docker', image: 'busybox', createOptions: {} },
    status: 'running',
    restartPolicy: 'always',
    startupOrder: limits.startupOrderDefault,
    env: {},
    replicas: 1,
  });
  assert.deepEqual(d.modules.proc?.healthCheck, {
    command: 'true',
    args: [],
    intervalSecs: limits.healthCheckIntervalSecondsDefault,
    timeoutSecs: limits.healthCheckTimeoutSecondsDefault,
    retries: limits.healthCheckRetriesDefault,
  });
  assert.deepEqual(d.edgeHub, {
    schemaVersion: '1.1',
    routes: {},
    timeToLiveSecs: limits.messageTtlSecondsDefault,
  });
  assert.deepEqual(d.moduleTwins, {});
});

test('createOptions01..07 are joined after createOptions, in order, then parsed', () => {
  const full = JSON.stringify({
    Env: ['A=1'],
    HostConfig: { Binds: ['/a:/a', '/b:/b'], PortBindings: { '80/tcp': [{ HostPort: '8080' }] } },
  });
  const cuts = [0, 10, 25, 40, 60, full.length];
  const m = minimal();
  const settings: Json = { image: 'web' };
  settings.createOptions = full.slice(cuts[0], cuts[1]);
  for (let i = 1; i < cuts.length - 1; i++) settings[`createOptions0${i}`] = full.slice(cuts[i], cuts[i + 1]);
  agentOf(m).modules.web = { type: 'docker', settings };
  const d = readDeployment(m);
  assert.deepEqual(d.modules.web?.settings, {
    kind: 'docker',
    image: 'web',
    createOptions: JSON.parse(full),
  });
});

test('blank createOptions is an empty object, as edgeAgent treats it', () => {
  const m = minimal();
  agentOf(m).modules.a = { type: 'docker', settings: { image: 'a', createOptions: '  ' } };
  assert.deepEqual(readDeployment(m).modules.a?.settings, { kind: 'docker', image: 'a', createOptions: {} });
});

test('the content wrapper and the bare form read alike; $schema is accepted at the top', () => {
  const bare = fixture('simulated-temperature-1.1.json');
  assert.equal(typeof bare.$schema, 'string');
  const wrapped = { $schema: bare.$schema, content: { modulesContent: bare.modulesContent } };
  assert.deepEqual(readDeployment(wrapped), readDeployment(bare));
});

test('readEdgeHubSettings (used by start-node) agrees with readDeployment on valid manifests', () => {
  for (const name of ['simulated-temperature-1.1.json', 'tandem-process-1.0.json']) {
    const m = fixture(name);
    assert.deepEqual(readEdgeHubSettings(m), readDeployment(m).edgeHub, name);
  }
});

test('the Deployment shares nothing with the manifest object it was read from', () => {
  const m = fixture('tandem-process-1.0.json');
  const before = readDeployment(m);
  const inner = m.content.modulesContent;
  inner.$edgeAgent['properties.desired'].modules.sensor.settings.args.push('--changed');
  inner.$edgeAgent['properties.desired'].modules.sensor.resources.cpu = 4;
  inner.alerts['properties.desired'].threshold.celsius = 99;
  hubOf({ modulesContent: inner }).routes.up = 'FROM /* INTO $upstream';
  assert.deepEqual(before, readDeployment(fixture('tandem-process-1.0.json')));
});

test('system modules are validated but not deployed: Tandem is the agent and the hub', () => {
  const d = readDeployment(fixture('simulated-temperature-1.1.json'));
  assert.deepEqual(Object.keys(d.modules), ['SimulatedTemperatureSensor', 'filter']);
});
