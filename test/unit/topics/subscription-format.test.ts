/**
 * Subscription filters and the topics the hub publishes. Filters are the ones the Node SDK
 * subscribes to (azure-iot-device-mqtt mqtt.js `_configureEndpoints`, mqtt_twin_client.js);
 * formatted topics are checked against the IoT Hub MQTT doc and against the regexes and
 * level positions the Node SDK uses to read them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodePropertyBag,
  formatC2dTopic,
  formatDesiredPatch,
  formatMethodRequest,
  formatModuleInputTopic,
  formatTwinResponse,
  parseSubscription,
} from '../../../src/core/topics/index.js';
import { type ErrorCode, isTandemError } from '../../../src/errors.js';
import { limits } from '../../../src/limits.js';

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isTandemError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

describe('parseSubscription', () => {
  it('classifies every filter the Node SDK subscribes to', () => {
    assert.deepEqual(parseSubscription('devices/dev1/messages/devicebound/#'), {
      kind: 'c2d',
      deviceId: 'dev1',
    });
    assert.deepEqual(parseSubscription('devices/dev1/modules/mod1/inputs/#'), {
      kind: 'moduleInputs',
      deviceId: 'dev1',
      moduleId: 'mod1',
    });
    assert.deepEqual(parseSubscription('$iothub/twin/res/#'), { kind: 'twinResponses' });
    assert.deepEqual(parseSubscription('$iothub/twin/PATCH/properties/desired/#'), {
      kind: 'desiredPatches',
    });
    assert.deepEqual(parseSubscription('$iothub/methods/POST/#'), { kind: 'methods' });
  });

  it('accepts the doc module filter devices/{d}/modules/{m}/# as module inputs', () => {
    assert.deepEqual(parseSubscription('devices/edge-1/modules/$edgeAgent/#'), {
      kind: 'moduleInputs',
      deviceId: 'edge-1',
      moduleId: '$edgeAgent',
    });
  });

  it('refuses general pub/sub filters and anything outside the dialect', () => {
    for (const filter of [
      '#',
      '+/#',
      'devices/#',
      'devices/+/messages/devicebound/#',
      'devices/dev1/messages/devicebound',
      'devices/dev1/messages/devicebound/+',
      'devices/dev1/messages/events/#',
      'devices/dev1/modules/+/inputs/#',
      'devices/dev1/modules/mod1/inputs/in1',
      'devices/dev1/modules/mod1/inputs/+',
      'devices/dev1/modules/mod1/outputs/#',
      'devices//messages/devicebound/#',
      '$iothub/twin/res/+',
      '$iothub/twin/#',
      '$iothub/methods/POST/+',
      '$iothub/methods/res/#',
      '',
    ]) {
      throwsCode(() => parseSubscription(filter), 'TANDEM_E_TOPIC');
    }
  });
});

const msg = {
  systemProperties: {
    messageId: 'm 1',
    correlationId: 'c/1',
    outputName: 'out1',
    enqueuedTime: '2024-01-01T00:00:00Z',
    connectionDeviceId: 'dev1',
    connectionModuleId: 'filter',
  },
  properties: { 'k=': 'v&' },
};

describe('formatters', () => {
  it('formats module input topics with edgeHub outbound system properties, without $.on', () => {
    const topic = formatModuleInputTopic('dev1', 'mod1', 'input1', msg);
    assert.equal(
      topic,
      'devices/dev1/modules/mod1/inputs/input1/%24.mid=m%201&%24.cid=c%2F1&%24.cdid=dev1&%24.cmid=filter&k%3D=v%26',
    );
    // The Node SDK: regex /^devices\/.*\/modules\/.*\/inputs\/.*\/.*$/, input name at level 5, bag at 6.
    assert.match(topic, /^devices\/.*\/modules\/.*\/inputs\/.*\/.*$/);
    const levels = topic.split('/');
    assert.equal(levels[5], 'input1');
    assert.deepEqual({ ...decodePropertyBag(levels[6] ?? '').properties }, { 'k=': 'v&' });
  });

  it('always writes the slash before the bag, even with no properties', () => {
    const empty = { systemProperties: {}, properties: {} };
    assert.equal(formatModuleInputTopic('d', 'm', 'in', empty), 'devices/d/modules/m/inputs/in/');
    assert.equal(formatC2dTopic('d', empty), 'devices/d/messages/devicebound/');
  });

  it('formats C2D topics the Node SDK reads at level 4', () => {
    const topic = formatC2dTopic('dev1', {
      systemProperties: { messageId: 'x', to: '/devices/dev1/messages/deviceBound' },
      properties: { a: 'b' },
    });
    assert.equal(
      topic,
      'devices/dev1/messages/devicebound/%24.mid=x&%24.to=%2Fdevices%2Fdev1%2Fmessages%2FdeviceBound&a=b',
    );
    assert.match(topic, /^devices\/.*\/messages\/devicebound\/.*$/);
    assert.equal(topic.split('/').length, 5);
  });

  it('formats twin responses, desired patches and method requests as the doc shows', () => {
    assert.equal(formatTwinResponse(200, 'd0d80233-c30d'), '$iothub/twin/res/200/?$rid=d0d80233-c30d');
    assert.equal(formatTwinResponse(204, '1', 6), '$iothub/twin/res/204/?$rid=1&$version=6');
    assert.equal(formatTwinResponse(400, 'a b&c'), '$iothub/twin/res/400/?$rid=a%20b%26c');
    assert.equal(formatDesiredPatch(8), '$iothub/twin/PATCH/properties/desired/?$version=8');
    assert.equal(formatMethodRequest('reboot', '1a'), '$iothub/methods/POST/reboot/?$rid=1a');
  });

  it('refuses names that would break topic levels, and bad numbers', () => {
    for (const name of ['', 'a/b', 'a+b', 'a#b', 'a?b', 'a\u0000']) {
      throwsCode(() => formatMethodRequest(name, '1'), 'TANDEM_E_TOPIC');
      throwsCode(() => formatModuleInputTopic('d', 'm', name, msg), 'TANDEM_E_TOPIC');
    }
    throwsCode(() => formatTwinResponse(200, ''), 'TANDEM_E_TOPIC');
    throwsCode(() => formatTwinResponse(-1, 'r'), 'TANDEM_E_TOPIC');
    throwsCode(() => formatTwinResponse(200, 'r', 1.5), 'TANDEM_E_TOPIC');
    throwsCode(() => formatDesiredPatch(Number.NaN), 'TANDEM_E_TOPIC');
  });

  it('refuses a message whose bag is over limits.topicBytesMax', () => {
    const big = { systemProperties: {}, properties: { a: 'x'.repeat(limits.topicBytesMax) } };
    throwsCode(() => formatC2dTopic('d', big), 'TANDEM_E_TOO_LARGE');
  });
});
