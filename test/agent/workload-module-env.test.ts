/**
 * moduleEnv: exactly the variables each of ModuleClient.fromEnvironment's two paths reads, and
 * a connection string the SDK's own parser reads back field by field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import deviceSdk from 'azure-iot-device';
import { type ModuleEnvInput, moduleAuthEnvNames, moduleEnv } from '../../src/agent/module-env.js';
import { isTandemError } from '../../src/errors.js';

const { ConnectionString } = deviceSdk;

const base = {
  hubName: 'test-hub.local',
  edgeDeviceId: 'edge1',
  moduleId: 'filter',
  gatewayHost: 'localhost:8883',
  primaryKey: 'a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=',
  caFile: '/var/lib/tandem/tls/ca.pem',
  workloadUri: 'unix:///var/lib/tandem/run/workload/filter.sock',
  generationId: 'gen-1',
} as const;

test("'workload' sets only IOTEDGE_* variables, as edgeAgent does", () => {
  const env = moduleEnv({ ...base, auth: 'workload' });
  assert.deepEqual(env, {
    IOTEDGE_DEVICEID: 'edge1',
    IOTEDGE_MODULEID: 'filter',
    IOTEDGE_IOTHUBHOSTNAME: 'test-hub.local',
    IOTEDGE_WORKLOADURI: 'unix:///var/lib/tandem/run/workload/filter.sock',
    IOTEDGE_AUTHSCHEME: 'sasToken',
    IOTEDGE_GATEWAYHOSTNAME: 'localhost:8883',
    IOTEDGE_MODULEGENERATIONID: 'gen-1',
    IOTEDGE_APIVERSION: '2018-06-28',
  });
});

test("'connection-string' sets EdgeHubConnectionString in IoT Edge's module form and the CA file", () => {
  const env = moduleEnv({ ...base, auth: 'connection-string' });
  assert.deepEqual(Object.keys(env).sort(), [
    'EdgeHubConnectionString',
    'EdgeModuleCACertificateFile',
    'IOTEDGE_DEVICEID',
    'IOTEDGE_IOTHUBHOSTNAME',
    'IOTEDGE_MODULEID',
  ]);
  assert.equal(env.EdgeModuleCACertificateFile, base.caFile);
  const cs = env.EdgeHubConnectionString!;
  assert.equal(
    cs,
    `HostName=test-hub.local;DeviceId=edge1;ModuleId=filter;SharedAccessKey=${base.primaryKey};GatewayHostName=localhost:8883`,
  );
  const parsed = ConnectionString.parse(cs);
  assert.equal(parsed.HostName, 'test-hub.local');
  assert.equal(parsed.ModuleId, 'filter');
  assert.equal(parsed.GatewayHostName, 'localhost:8883');
  assert.equal(parsed.SharedAccessKey, base.primaryKey);
});

test('every variable set on either path is in moduleAuthEnvNames (what an agent strips first)', () => {
  for (const auth of ['workload', 'connection-string'] as const) {
    for (const name of Object.keys(moduleEnv({ ...base, auth })))
      assert.ok(moduleAuthEnvNames.includes(name), name);
  }
});

test('a value the chosen path needs is required; bad ids are refused', () => {
  const cases: Array<[Partial<ModuleEnvInput>, string]> = [
    [{ auth: 'workload', workloadUri: undefined }, 'TANDEM_E_CONFIG'],
    [{ auth: 'workload', generationId: '' }, 'TANDEM_E_CONFIG'],
    [{ auth: 'connection-string', primaryKey: undefined }, 'TANDEM_E_CONFIG'],
    [{ auth: 'connection-string', caFile: undefined }, 'TANDEM_E_CONFIG'],
    [{ auth: 'connection-string', gatewayHost: 'a;b' }, 'TANDEM_E_CONFIG'],
    [{ auth: 'workload', moduleId: 'a/b' }, 'TANDEM_E_IDENTITY_INVALID'],
  ];
  for (const [over, code] of cases) {
    assert.throws(
      () => moduleEnv({ ...base, auth: 'workload', ...over }),
      (err: unknown) => isTandemError(err) && err.code === code,
      JSON.stringify(over),
    );
  }
  // The other path's values are not needed.
  assert.ok(moduleEnv({ ...base, auth: 'workload', primaryKey: undefined, caFile: undefined }));
  assert.ok(
    moduleEnv({ ...base, auth: 'connection-string', workloadUri: undefined, generationId: undefined }),
  );
});
