/**
 * Id rules, client ids and usernames. Usernames are the exact strings azure-iot-device-mqtt
 * builds in mqtt.js `_getBaseTransportConfig` (captured from SDK 1.16.4 driving a fake
 * transport; sdk-interop.test.ts checks the live form).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isValidId,
  parseClientId,
  parseUsername,
  validateDeviceId,
  validateModuleId,
} from '../../../src/core/topics/index.js';
import { type ErrorCode, isTandemError } from '../../../src/errors.js';

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isTandemError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

describe('device and module ids', () => {
  it('accepts letters, digits and every special character the IoT Hub doc lists', () => {
    for (const id of ['dev1', "A-b.c%d_e*f?g!h(i)j,k:l=m@n$o'p", '$edgeHub', '0', 'x'.repeat(128)]) {
      assert.equal(validateDeviceId(id), id);
      assert.equal(validateModuleId(id), id);
    }
  });

  it('refuses empty, too long, MQTT wildcards, slashes, spaces and non-ASCII', () => {
    for (const id of ['', 'x'.repeat(129), 'a+b', 'a#b', 'a/b', 'a b', 'dév', 'a&b', 'a;b', 'a\u0000']) {
      assert.equal(isValidId(id), false, JSON.stringify(id));
      throwsCode(() => validateDeviceId(id), 'TANDEM_E_IDENTITY_INVALID');
      throwsCode(() => validateModuleId(id), 'TANDEM_E_IDENTITY_INVALID');
    }
  });

  it('names the rule that was broken', () => {
    assert.throws(() => validateDeviceId('x'.repeat(200)), /longer than 128/);
    assert.throws(() => validateModuleId(''), /module id "" is empty/);
  });
});

describe('parseClientId', () => {
  it('reads {d} and {d}/{m}', () => {
    assert.deepEqual(parseClientId('dev1'), { deviceId: 'dev1' });
    assert.deepEqual(parseClientId('dev1/mod1'), { deviceId: 'dev1', moduleId: 'mod1' });
    assert.deepEqual(parseClientId('edge-1/$edgeAgent'), { deviceId: 'edge-1', moduleId: '$edgeAgent' });
  });

  it('refuses extra levels and bad ids', () => {
    for (const id of ['a/b/c', '/m', 'd/', '', 'd+x'])
      throwsCode(() => parseClientId(id), 'TANDEM_E_IDENTITY_INVALID');
  });
});

const agent = 'azure-iot-device%2F1.18.4%20(node%20v20.20.2%3B%20Debian%2012%3B%20x64)';

describe('parseUsername', () => {
  it('reads the Node SDK device form', () => {
    const u = parseUsername(`hub.example/dev1/?api-version=2021-04-12&DeviceClientType=${agent}`);
    assert.equal(u.hubName, 'hub.example');
    assert.equal(u.deviceId, 'dev1');
    assert.equal(u.moduleId, undefined);
    assert.equal(u.apiVersion, '2021-04-12');
    assert.equal(u.deviceClientType, 'azure-iot-device/1.18.4 (node v20.20.2; Debian 12; x64)');
    assert.equal(u.modelId, undefined);
  });

  it('reads the Node SDK module form and a raw Plug and Play model id', () => {
    const u = parseUsername(
      `hub.example/dev1/mod1/?api-version=2021-04-12&model-id=dtmi:com:example:Thermostat;1&DeviceClientType=${agent}`,
    );
    assert.equal(u.deviceId, 'dev1');
    assert.equal(u.moduleId, 'mod1');
    assert.equal(u.modelId, 'dtmi:com:example:Thermostat;1');
    assert.deepEqual(Object.keys(u.params), ['api-version', 'model-id', 'DeviceClientType']);
  });

  it('accepts the doc form, the old form without "?", and a missing api-version', () => {
    assert.equal(
      parseUsername('contoso.azure-devices.net/MyDevice01/?api-version=2021-04-12').apiVersion,
      '2021-04-12',
    );
    const old = parseUsername('hub/dev1/mod1/api-version=2017-06-30&DeviceClientType=x');
    assert.equal(old.moduleId, 'mod1');
    assert.equal(old.apiVersion, '2017-06-30');
    assert.equal(parseUsername('hub/dev1/?').apiVersion, undefined);
  });

  it('keeps the first of duplicate parameters and leaves bad escapes as sent (edgeHub)', () => {
    const u = parseUsername('hub/dev1/?api-version=1&api-version=2&DeviceClientType=%E0%A4%A');
    assert.equal(u.apiVersion, '1');
    assert.equal(u.deviceClientType, '%E0%A4%A');
  });

  it('treats "?" inside an id as part of the id, as edgeHub does', () => {
    const u = parseUsername('hub/dev?1/?api-version=1');
    assert.equal(u.deviceId, 'dev?1');
  });

  it('refuses wrong shapes with TANDEM_E_AUTH and bad ids with TANDEM_E_IDENTITY_INVALID', () => {
    for (const u of [
      '',
      'hub',
      'hub/dev1',
      'hub/dev1/mod1',
      'hub/d/m/x/?api-version=1',
      '/dev1/?api-version=1',
    ]) {
      throwsCode(() => parseUsername(u), 'TANDEM_E_AUTH');
    }
    throwsCode(() => parseUsername('hub/d e v/?api-version=1'), 'TANDEM_E_IDENTITY_INVALID');
    throwsCode(() => parseUsername('hub//?api-version=1'), 'TANDEM_E_IDENTITY_INVALID');
  });
});
