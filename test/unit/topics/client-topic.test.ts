/**
 * Publish topics. The SDK strings are what azure-iot-device-mqtt 1.16.4 publishes
 * (mqtt.js `_getEventTopicFromMessage` + `sendEvent`/`sendOutputEvent`, `sendMethodResponse`;
 * mqtt_twin_client.js `_sendTwinRequest`), captured by driving the SDK against a fake
 * transport; sdk-interop.test.ts re-captures them live.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClientTopic, parseClientTopic } from '../../../src/core/topics/index.js';
import { type ErrorCode, isTandemError } from '../../../src/errors.js';
import { limits } from '../../../src/limits.js';

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isTandemError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

/** The topic as plain data (null-prototype maps spread into ordinary objects). */
function plain(t: ClientTopic): Record<string, unknown> {
  if (t.kind === 'telemetry' || t.kind === 'moduleOutput') {
    return { ...t, systemProperties: { ...t.systemProperties }, properties: { ...t.properties } };
  }
  return { ...t };
}

describe('parseClientTopic: telemetry', () => {
  it('parses the Node SDK telemetry topic with system and application properties', () => {
    const t = parseClientTopic(
      'devices/dev1/messages/events/%24.mid=mid%201%26%3D%2F%25&%24.cid=c1&%24.ct=application%2Fjson&k%20x=v%2Fy',
    );
    assert.deepEqual(plain(t), {
      kind: 'telemetry',
      deviceId: 'dev1',
      systemProperties: {
        messageId: 'mid 1&=/%',
        correlationId: 'c1',
        contentType: 'application/json',
        connectionDeviceId: 'dev1',
      },
      properties: { 'k x': 'v/y' },
    });
  });

  it('accepts all four shapes edgeHub accepts: no slash, slash, bag, bag and slash', () => {
    for (const topic of [
      'devices/dev1/messages/events',
      'devices/dev1/messages/events/',
      'devices/dev1/messages/events/a=1',
      'devices/dev1/messages/events/a=1/',
    ]) {
      const t = parseClientTopic(topic);
      assert.equal(t.kind, 'telemetry', topic);
      if (t.kind === 'telemetry') assert.equal(t.deviceId, 'dev1');
    }
    const t = parseClientTopic('devices/dev1/messages/events/a=1/');
    assert.deepEqual(plain(t).properties, { a: '1' });
  });

  it('takes the sender from the topic, never from $.cdid/$.cmid/$.on in the bag', () => {
    const t = parseClientTopic('devices/dev1/messages/events/%24.cdid=other&%24.cmid=m&%24.on=out');
    assert.deepEqual(plain(t).systemProperties, { connectionDeviceId: 'dev1' });
  });

  it('accepts every id character IoT Hub allows', () => {
    const t = parseClientTopic("devices/a-b.c%d_e*f?g!h(i)j,k:l=m@n$o'p/messages/events/");
    assert.equal(t.kind === 'telemetry' && t.deviceId, "a-b.c%d_e*f?g!h(i)j,k:l=m@n$o'p");
  });
});

describe('parseClientTopic: module output', () => {
  it('parses sendOutputEvent: $.on first, trailing slash', () => {
    const t = parseClientTopic(
      'devices/dev1/modules/mod1/messages/events/%24.on=out1&%24.mid=m1&%24.exp=1970-01-01T00%3A00%3A00.000Z&k=v/',
    );
    assert.deepEqual(plain(t), {
      kind: 'moduleOutput',
      deviceId: 'dev1',
      moduleId: 'mod1',
      outputName: 'out1',
      systemProperties: {
        outputName: 'out1',
        messageId: 'm1',
        absoluteExpiryTime: '1970-01-01T00:00:00.000Z',
        connectionDeviceId: 'dev1',
        connectionModuleId: 'mod1',
      },
      properties: { k: 'v' },
    });
  });

  it('parses the bare output topic and module telemetry without an output name', () => {
    const out = parseClientTopic('devices/dev1/modules/mod1/messages/events/%24.on=out1/');
    assert.equal(out.kind === 'moduleOutput' && out.outputName, 'out1');
    const plainEvent = parseClientTopic('devices/dev1/modules/$edgeAgent/messages/events/');
    assert.equal(plainEvent.kind, 'moduleOutput');
    assert.equal(plainEvent.kind === 'moduleOutput' && plainEvent.outputName, undefined);
    assert.equal(plainEvent.kind === 'moduleOutput' && plainEvent.moduleId, '$edgeAgent');
  });
});

describe('parseClientTopic: twin and methods', () => {
  it('parses the SDK twin GET and reported PATCH', () => {
    assert.deepEqual(plain(parseClientTopic('$iothub/twin/GET/?$rid=d0d80233-c30d-40a8-a317-3f8cff71dddd')), {
      kind: 'twinGet',
      rid: 'd0d80233-c30d-40a8-a317-3f8cff71dddd',
    });
    assert.deepEqual(plain(parseClientTopic('$iothub/twin/PATCH/properties/reported/?$rid=1cf95b89')), {
      kind: 'twinPatchReported',
      rid: '1cf95b89',
      version: undefined,
    });
  });

  it('reads $version on a reported patch, decodes the rid, ignores unknown parameters', () => {
    assert.deepEqual(
      plain(parseClientTopic('$iothub/twin/PATCH/properties/reported/?$rid=a%20b&$version=6&foo=bar')),
      { kind: 'twinPatchReported', rid: 'a b', version: 6 },
    );
  });

  it('parses method responses with their integer status', () => {
    assert.deepEqual(plain(parseClientTopic('$iothub/methods/res/200/?$rid=abc')), {
      kind: 'methodResponse',
      rid: 'abc',
      status: 200,
    });
    const negative = parseClientTopic('$iothub/methods/res/-1/?$rid=7');
    assert.equal(negative.kind === 'methodResponse' && negative.status, -1);
  });

  it('refuses twin and method topics without a $rid, with a bad $version or status', () => {
    for (const topic of [
      '$iothub/twin/GET/?',
      '$iothub/twin/GET/?$rid=',
      '$iothub/twin/GET/?rid=1',
      '$iothub/twin/GET?$rid=1',
      '$iothub/twin/get/?$rid=1',
      '$iothub/twin/PATCH/properties/reported/?$rid=1&$version=x',
      '$iothub/twin/PATCH/properties/reported/?$rid=1&$version=-1',
      '$iothub/twin/PATCH/properties/desired/?$version=1',
      '$iothub/methods/res/ok/?$rid=1',
      '$iothub/methods/res/2147483648/?$rid=1',
      '$iothub/methods/res//?$rid=1',
      '$iothub/methods/res/200?$rid=1',
      '$iothub/methods/res/200/?$rid=%zz',
      '$iothub/methods/POST/m/?$rid=1',
    ]) {
      throwsCode(() => parseClientTopic(topic), 'TANDEM_E_TOPIC');
    }
  });
});

describe('parseClientTopic: malformed and foreign topics', () => {
  it('refuses topics outside the dialect, truncated ones and bad ids', () => {
    for (const topic of [
      '',
      'devices',
      'devices/',
      'devices/dev1',
      'devices/dev1/',
      'devices/dev1/messages',
      'devices/dev1/messages/event',
      'devices/dev1/messages/eventsX',
      'devices/dev1/messages/devicebound/',
      'devices/dev1/modules/mod1',
      'devices/dev1/modules/mod1/inputs/in1/',
      'devices/dev1/modules//messages/events/',
      'devices//messages/events/',
      'devices/dev 1/messages/events/',
      'devices/dev1/messages/events/a=1/b=2',
      'devices/dev1/messages/events/a=1//',
      'a/b/c',
      '$iothub/other',
      '$iothub/twin/res/200/?$rid=1',
    ]) {
      throwsCode(() => parseClientTopic(topic), 'TANDEM_E_TOPIC');
    }
  });

  it('refuses wildcards and NUL in a topic name [MQTT-3.3.2-2] [MQTT-4.7.3-2]', () => {
    for (const topic of [
      'devices/+/messages/events/',
      'devices/d/messages/events/#',
      'devices/d/messages/events/a=\u0000',
    ]) {
      throwsCode(() => parseClientTopic(topic), 'TANDEM_E_TOPIC');
    }
  });

  it('refuses malformed bags and percent-encoding', () => {
    for (const topic of [
      'devices/d/messages/events/a=%E0%A4%A',
      'devices/d/messages/events/=v',
      'devices/d/messages/events/a=b=c',
    ]) {
      throwsCode(() => parseClientTopic(topic), 'TANDEM_E_TOPIC');
    }
  });

  it('refuses topics over limits.topicBytesMax and too many properties with TANDEM_E_TOO_LARGE', () => {
    throwsCode(
      () => parseClientTopic(`devices/d/messages/events/a=${'x'.repeat(limits.topicBytesMax)}`),
      'TANDEM_E_TOO_LARGE',
    );
    const many = Array.from({ length: limits.propertiesCountMax + 1 }, (_, i) => `p${i}=1`).join('&');
    throwsCode(() => parseClientTopic(`devices/d/messages/events/${many}`), 'TANDEM_E_TOO_LARGE');
  });

  it('parses a topic just under the limit and stays fast on it', () => {
    const prefix = 'devices/d/messages/events/a=';
    const topic = prefix + 'x'.repeat(limits.topicBytesMax - prefix.length);
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) parseClientTopic(topic);
    const t = parseClientTopic(topic);
    assert.equal(t.kind === 'telemetry' && t.properties.a?.length, limits.topicBytesMax - prefix.length);
    assert.ok(performance.now() - t0 < 1000, '200 parses of a 16 KB topic took over a second');
  });
});
