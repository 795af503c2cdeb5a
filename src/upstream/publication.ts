/**
 * What one `$upstream` message looks like on the wire, per target kind. Pure.
 *
 * - `mqtt`, MQTT 5: topic from the template; application properties become user
 *   properties; contentType goes in the Content Type property (MQTT 5.0 3.3.2.3.9) and
 *   correlationId, as UTF-8, in the Correlation Data property (3.3.2.3.6); every other
 *   system property is a user property under its IoT Hub wire key (`$.mid`, `$.cdid`,
 *   `$.cmid`, `$.on`, `$.ce`...), and enqueuedTime, which has no wire key, under
 *   `iothub-enqueuedtime` (the name IoT Hub's Event Hubs-compatible endpoint uses).
 * - `mqtt`, MQTT 3.1.1 (no properties in the protocol): the topic from the template, then
 *   `/` and the IoT Hub property bag (the same encoding as `devices/{id}/messages/events/{bag}`):
 *   system properties under their wire keys, then application properties, then
 *   `iothub-enqueuedtime`.
 * - `iothub`: `devices/{deviceId}/messages/events/{bag}` (IoT Hub MQTT doc "Sending
 *   device-to-cloud messages"), QoS 1, with the system properties a device may set and the
 *   application properties, plus where the message came from (originProperties): the parent
 *   sees this edge device as the sender, so the leaf's identity would otherwise be lost.
 */
import type { IClientPublishOptions } from 'mqtt';
import { encodePropertyBag, systemPropertyWireKeys, wireKeyForSystemProperty } from '../core/topics/index.js';
import { TandemError } from '../errors.js';
import type { HubMessage } from '../hub/message.js';
import { limits } from '../limits.js';
import type { UpstreamTarget } from './config.js';
import { renderTopic } from './topic-template.js';

export type PublishProperties = NonNullable<IClientPublishOptions['properties']>;

export interface Publication {
  readonly topic: string;
  readonly payload: Buffer;
  /** MQTT 5 PUBLISH properties; undefined for MQTT 3.1.1. */
  readonly properties: PublishProperties | undefined;
}

/** Application properties that carry the original sender to a parent hub. */
export const originProperties = {
  deviceId: 'tandemOriginDeviceId',
  moduleId: 'tandemOriginModuleId',
  outputName: 'tandemOriginOutputName',
} as const;

export const enqueuedTimeProperty = 'iothub-enqueuedtime';

/**
 * System properties a device may set on telemetry (the Node SDK's `_getEventTopicFromMessage`
 * set, less `$.to` and `$.uid`, which IoT Hub assigns or checks). Connection ids, outputName
 * and enqueuedTime are the parent's to stamp, so they go as origin properties instead.
 */
export const deviceSettableSystemProperties = [
  'messageId',
  'correlationId',
  'contentType',
  'contentEncoding',
  'absoluteExpiryTime',
  'creationTimeUtc',
  'messageSchema',
  'interfaceId',
  'componentName',
] as const;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** App properties plus the origin; a message that already carries an origin (several hops) keeps it. */
export function withOrigin(msg: HubMessage): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  Object.assign(out, msg.properties);
  if (out[originProperties.deviceId] !== undefined) return out;
  const sys = msg.systemProperties;
  if (sys.connectionDeviceId !== undefined) out[originProperties.deviceId] = sys.connectionDeviceId;
  if (sys.connectionModuleId !== undefined) out[originProperties.moduleId] = sys.connectionModuleId;
  if (sys.outputName !== undefined) out[originProperties.outputName] = sys.outputName;
  return out;
}

/** MQTT 5 PUBLISH properties for the plain-MQTT target (see the file comment). */
export function mqtt5Properties(msg: HubMessage): PublishProperties {
  const sys = msg.systemProperties;
  const user: Record<string, string> = Object.create(null) as Record<string, string>;
  Object.assign(user, msg.properties);
  for (const name of Object.keys(systemPropertyWireKeys)) {
    const value = sys[name];
    if (value === undefined || name === 'contentType' || name === 'correlationId') continue;
    user[wireKeyForSystemProperty(name)!] = value;
  }
  if (sys.enqueuedTime !== undefined) user[enqueuedTimeProperty] = sys.enqueuedTime;
  const props: PublishProperties = { userProperties: user };
  if (sys.contentType !== undefined) props.contentType = sys.contentType;
  if (sys.correlationId !== undefined) props.correlationData = Buffer.from(sys.correlationId, 'utf8');
  return props;
}

/** The IoT Hub property bag of the plain-MQTT 3.1.1 target. */
export function mqtt311Bag(msg: HubMessage): string {
  const props: Record<string, string> = Object.create(null) as Record<string, string>;
  Object.assign(props, msg.properties);
  if (msg.systemProperties.enqueuedTime !== undefined)
    props[enqueuedTimeProperty] = msg.systemProperties.enqueuedTime;
  return encodePropertyBag(msg.systemProperties, props);
}

/**
 * The publication for one message. Throws (TANDEM_E_TOO_LARGE, TANDEM_E_TOPIC) when the
 * message cannot be put on this target's topic; the connector refuses such a message.
 */
export function formatPublication(
  target: UpstreamTarget,
  edgeDeviceId: string,
  msg: HubMessage,
): Publication {
  const payload = toBuffer(msg.body);
  if (target.kind === 'iothub') {
    const bag = encodePropertyBag(msg.systemProperties, withOrigin(msg), deviceSettableSystemProperties);
    return {
      topic: checkTopic(`devices/${target.device.deviceId}/messages/events/${bag}`),
      payload,
      properties: undefined,
    };
  }
  const sys = msg.systemProperties;
  const topic = renderTopic(target.topic, {
    edgeDeviceId,
    deviceId: sys.connectionDeviceId,
    moduleId: sys.connectionModuleId,
    outputName: sys.outputName,
  });
  if (target.mqttVersion === 5) return { topic, payload, properties: mqtt5Properties(msg) };
  return { topic: checkTopic(`${topic}/${mqtt311Bag(msg)}`), payload, properties: undefined };
}

/**
 * A topic over the limit is refused here, per message: a receiver with the same limit (a
 * parent Tandem, IoT Hub) would otherwise refuse it by closing an MQTT 3.1.1 connection,
 * and the message would block the stream through every reconnect.
 */
function checkTopic(topic: string): string {
  if (Buffer.byteLength(topic, 'utf8') > limits.topicBytesMax) {
    throw new TandemError('TANDEM_E_TOO_LARGE', `upstream topic is over ${limits.topicBytesMax} bytes`, {
      details: { limit: 'topicBytesMax', max: limits.topicBytesMax },
    });
  }
  return topic;
}
