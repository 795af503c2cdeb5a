/**
 * Classifies every topic a device or module may PUBLISH to. This runs on every publish, so it
 * is prefix checks and indexOf, never a regular expression, and linear in the topic length.
 */
import { checkTopicBytes, topicError } from './encoding.js';
import { isValidId } from './ids.js';
import { decodePropertyBag } from './property-bag.js';
import { parseRequestQuery, parseUnsigned } from './request-query.js';

export type ClientTopic =
  | {
      /** `devices/{d}/messages/events/[{bag}][/]`: device-to-cloud telemetry. */
      readonly kind: 'telemetry';
      readonly deviceId: string;
      readonly systemProperties: Record<string, string>;
      readonly properties: Record<string, string>;
    }
  | {
      /** `devices/{d}/modules/{m}/messages/events/[{bag}][/]`: a module's output (`$.on`) or telemetry. */
      readonly kind: 'moduleOutput';
      readonly deviceId: string;
      readonly moduleId: string;
      /** From `$.on`; undefined when a module sends plain telemetry (sendEvent). */
      readonly outputName: string | undefined;
      readonly systemProperties: Record<string, string>;
      readonly properties: Record<string, string>;
    }
  | { readonly kind: 'twinGet'; readonly rid: string }
  | { readonly kind: 'twinPatchReported'; readonly rid: string; readonly version: number | undefined }
  | { readonly kind: 'methodResponse'; readonly rid: string; readonly status: number };

const devicesPrefix = 'devices/';
const eventsPath = 'messages/events';
const modulesPath = 'modules/';
const twinGetPrefix = '$iothub/twin/GET/?';
const reportedPrefix = '$iothub/twin/PATCH/properties/reported/?';
const methodResponsePrefix = '$iothub/methods/res/';
/** IoT Hub's method status is a C# int: bounded so it stays a 32-bit integer downstream. */
const methodStatusAbsMax = 2 ** 31 - 1;

/** Parses a publish topic; TANDEM_E_TOPIC when it is not part of the dialect. */
export function parseClientTopic(topic: string): ClientTopic {
  checkTopicBytes(topic, 'topic');
  // [MQTT-3.3.2-2] no wildcards in a topic name; [MQTT-4.7.3-2] no U+0000.
  if (topic.indexOf('#') !== -1 || topic.indexOf('+') !== -1 || topic.indexOf('\u0000') !== -1) {
    throw topicError(topic, 'contains a wildcard or NUL character');
  }
  if (topic.startsWith(devicesPrefix)) return parseEventsTopic(topic);
  if (topic.startsWith(twinGetPrefix)) {
    return { kind: 'twinGet', rid: parseRequestQuery(topic, topic.slice(twinGetPrefix.length), false).rid };
  }
  if (topic.startsWith(reportedPrefix)) {
    const query = parseRequestQuery(topic, topic.slice(reportedPrefix.length), true);
    return { kind: 'twinPatchReported', rid: query.rid, version: query.version };
  }
  if (topic.startsWith(methodResponsePrefix)) return parseMethodResponse(topic);
  throw topicError(topic, 'is not part of the IoT Hub MQTT dialect');
}

/** Reads one id segment starting at `from`, up to the next '/'; returns [id, index after '/']. */
function idSegment(topic: string, from: number): [string, number] {
  const slash = topic.indexOf('/', from);
  const id = topic.slice(from, slash === -1 ? topic.length : slash);
  if (slash === -1 || !isValidId(id)) throw topicError(topic, 'does not name a valid device or module id');
  return [id, slash + 1];
}

function parseEventsTopic(topic: string): ClientTopic {
  const [deviceId, afterDevice] = idSegment(topic, devicesPrefix.length);
  let moduleId: string | undefined;
  let at = afterDevice;
  if (topic.startsWith(modulesPath, at)) [moduleId, at] = idSegment(topic, at + modulesPath.length);
  if (!topic.startsWith(eventsPath, at)) throw topicError(topic, 'is not a telemetry or module output topic');
  const bag = bagOf(topic, at + eventsPath.length);
  const { systemProperties, properties } = decodePropertyBag(bag);
  // The sender's identity comes from the topic (checked against the connection elsewhere),
  // never from `$.cdid`/`$.cmid` in the bag: edgeHub also takes them from the topic template.
  systemProperties.connectionDeviceId = deviceId;
  if (moduleId === undefined) {
    delete systemProperties.connectionModuleId;
    // Only modules have outputs; a device's `$.on` must not make its telemetry look like one.
    delete systemProperties.outputName;
    return { kind: 'telemetry', deviceId, systemProperties, properties };
  }
  systemProperties.connectionModuleId = moduleId;
  const outputName = systemProperties.outputName;
  return { kind: 'moduleOutput', deviceId, moduleId, outputName, systemProperties, properties };
}

/**
 * The bag after `messages/events`: nothing, `/`, `/{bag}` or `/{bag}/`. edgeHub's inbound
 * templates accept all four; the Node SDK appends the trailing `/` to module outputs.
 */
function bagOf(topic: string, at: number): string {
  if (at === topic.length) return '';
  if (topic.charCodeAt(at) !== 47 /* '/' */)
    throw topicError(topic, 'is not a telemetry or module output topic');
  const end = topic.endsWith('/') && topic.length > at + 1 ? topic.length - 1 : topic.length;
  const bag = topic.slice(at + 1, end);
  if (bag.indexOf('/') !== -1) throw topicError(topic, 'has a "/" inside its property bag');
  return bag;
}

/** `$iothub/methods/res/{status}/?$rid={rid}` (IoT Hub MQTT doc "Respond to a direct method"). */
function parseMethodResponse(topic: string): ClientTopic {
  const from = methodResponsePrefix.length;
  const end = topic.indexOf('/?', from);
  if (end === -1) throw topicError(topic, 'is not a direct-method response topic');
  const text = topic.slice(from, end);
  const negative = text.startsWith('-');
  const magnitude = parseUnsigned(negative ? text.slice(1) : text);
  if (magnitude === undefined || magnitude > methodStatusAbsMax) {
    throw topicError(topic, 'has a status that is not an integer');
  }
  const { rid } = parseRequestQuery(topic, topic.slice(end + 2), false);
  return { kind: 'methodResponse', rid, status: negative ? -magnitude : magnitude };
}
