/** What a message looks like on the wire for each target kind (docs/upstream.md, "On the wire"). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePropertyBag, parseClientTopic } from '../../src/core/topics/index.js';
import { isTandemError } from '../../src/errors.js';
import type { HubMessage } from '../../src/hub/message.js';
import { limits } from '../../src/limits.js';
import { parseUpstreamTarget } from '../../src/upstream/config.js';
import { formatPublication, originProperties } from '../../src/upstream/publication.js';

const key = Buffer.alloc(32, 1).toString('base64');

function message(over: Partial<HubMessage> = {}): HubMessage {
  return {
    id: 'm1',
    body: Buffer.from('{"t":1}'),
    systemProperties: {
      messageId: 'm1',
      correlationId: 'c1',
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      connectionDeviceId: 'leaf',
      connectionModuleId: 'filter',
      outputName: 'alerts',
      enqueuedTime: '2024-01-02T03:04:05.000Z',
    },
    properties: { temp: '21', 'a b': 'x&y=z' },
    ...over,
  };
}

test('MQTT 5: user properties, content type and correlation data', () => {
  const target = parseUpstreamTarget({ kind: 'mqtt', url: 'mqtt://cloud' });
  const p = formatPublication(target, 'edge', message());
  assert.equal(p.topic, 'tandem/edge/messages');
  assert.equal(p.payload.toString(), '{"t":1}');
  assert.equal(p.properties?.contentType, 'application/json');
  assert.equal(Buffer.from(p.properties!.correlationData!).toString(), 'c1');
  assert.deepEqual(
    { ...p.properties?.userProperties },
    {
      temp: '21',
      'a b': 'x&y=z',
      '$.mid': 'm1',
      '$.ce': 'utf-8',
      '$.on': 'alerts',
      '$.cdid': 'leaf',
      '$.cmid': 'filter',
      'iothub-enqueuedtime': '2024-01-02T03:04:05.000Z',
    },
  );
});

test('MQTT 3.1.1: the IoT Hub property bag as the last topic level', () => {
  const target = parseUpstreamTarget({
    kind: 'mqtt',
    url: 'mqtt://cloud',
    mqttVersion: '3.1.1',
    topic: 'up/{deviceId}/{moduleId}',
  });
  const p = formatPublication(target, 'edge', message());
  assert.equal(p.properties, undefined);
  assert.ok(p.topic.startsWith('up/leaf/filter/'), p.topic);
  const bag = decodePropertyBag(p.topic.slice('up/leaf/filter/'.length));
  assert.deepEqual(
    { ...bag.properties },
    {
      temp: '21',
      'a b': 'x&y=z',
      'iothub-enqueuedtime': '2024-01-02T03:04:05.000Z',
    },
  );
  assert.equal(bag.systemProperties.messageId, 'm1');
  assert.equal(bag.systemProperties.correlationId, 'c1');
  assert.equal(bag.systemProperties.contentType, 'application/json');
  assert.equal(bag.systemProperties.outputName, 'alerts');
  assert.equal(bag.systemProperties.connectionModuleId, 'filter');
});

test('iothub: device telemetry topic, device-settable system properties, origin as app properties', () => {
  const target = parseUpstreamTarget({
    kind: 'iothub',
    connectionString: `HostName=parent.local;DeviceId=child-edge;SharedAccessKey=${key}`,
  });
  const p = formatPublication(target, 'child-edge', message());
  // The parent parses it as this device's telemetry.
  const parsed = parseClientTopic(p.topic);
  assert.equal(parsed.kind, 'telemetry');
  if (parsed.kind !== 'telemetry') return;
  assert.equal(parsed.deviceId, 'child-edge');
  assert.equal(parsed.systemProperties.messageId, 'm1');
  assert.equal(parsed.systemProperties.correlationId, 'c1');
  assert.equal(parsed.systemProperties.contentEncoding, 'utf-8');
  assert.equal(parsed.systemProperties.outputName, undefined, 'the parent stamps outputName itself');
  assert.deepEqual(
    { ...parsed.properties },
    {
      temp: '21',
      'a b': 'x&y=z',
      [originProperties.deviceId]: 'leaf',
      [originProperties.moduleId]: 'filter',
      [originProperties.outputName]: 'alerts',
    },
  );
});

test('iothub: an origin set by an earlier hop is kept', () => {
  const target = parseUpstreamTarget({
    kind: 'iothub',
    connectionString: `HostName=top.local;DeviceId=middle;SharedAccessKey=${key}`,
  });
  const msg = message({
    systemProperties: { messageId: 'm1', connectionDeviceId: 'child-edge' },
    properties: { [originProperties.deviceId]: 'leaf', [originProperties.moduleId]: 'filter' },
  });
  const parsed = parseClientTopic(formatPublication(target, 'middle', msg).topic);
  assert.equal(parsed.kind === 'telemetry' && parsed.properties[originProperties.deviceId], 'leaf');
  assert.equal(parsed.kind === 'telemetry' && parsed.properties[originProperties.moduleId], 'filter');
});

test('a message whose properties cannot fit a topic is refused with a typed error', () => {
  const target = parseUpstreamTarget({ kind: 'mqtt', url: 'mqtt://cloud', mqttVersion: '3.1.1' });
  const big = message({ properties: { big: 'x'.repeat(limits.topicBytesMax) } });
  assert.throws(
    () => formatPublication(target, 'edge', big),
    (err) => isTandemError(err, 'TANDEM_E_TOO_LARGE'),
  );
});
