/**
 * Topics the hub PUBLISHES to devices and modules. Device and module ids are trusted here
 * (they come from an authenticated session or the registry); names that come from routes and
 * callers (input and method names) are checked, since a `/` or wildcard in them would make a
 * topic the SDKs split wrongly.
 */
import { TandemError } from '../../errors.js';
import { checkTopicBytes } from './encoding.js';
import { encodePropertyBag } from './property-bag.js';
import { formatRequestQuery, formatUnsigned } from './request-query.js';
import { outboundSystemProperties } from './system-properties.js';

/** The parts of a message that go on a topic (HubMessage satisfies it). */
export interface TopicMessage {
  readonly systemProperties: Readonly<Record<string, string>>;
  readonly properties: Readonly<Record<string, string>>;
}

/** TANDEM_E_TOPIC unless `name` can stand as one topic level. */
function checkLevel(name: string, what: string): void {
  let bad = name.length === 0;
  for (let i = 0; i < name.length && !bad; i++) {
    const c = name.charCodeAt(i);
    // '/' splits levels, '+' and '#' are wildcards, '?' opens the query the SDKs look for.
    bad = c === 47 || c === 43 || c === 35 || c === 63 || c < 32;
  }
  if (bad)
    throw new TandemError('TANDEM_E_TOPIC', `${what} ${JSON.stringify(name)} cannot be used in a topic`);
}

function outboundBag(msg: TopicMessage): string {
  return encodePropertyBag(msg.systemProperties, msg.properties, outboundSystemProperties);
}

function checked(topic: string): string {
  checkTopicBytes(topic, 'topic');
  return topic;
}

/**
 * `devices/{d}/modules/{m}/inputs/{input}/{bag}` (edgeHub ModuleEndpoint template). The `/`
 * before the bag is always written: the Node SDK matches inputs with
 * `^devices\/.*\/modules\/.*\/inputs\/.*\/.*$` and reads the input name from level 6.
 */
export function formatModuleInputTopic(
  deviceId: string,
  moduleId: string,
  inputName: string,
  msg: TopicMessage,
): string {
  checkLevel(inputName, 'input name');
  return checked(`devices/${deviceId}/modules/${moduleId}/inputs/${inputName}/${outboundBag(msg)}`);
}

/**
 * `devices/{d}/messages/devicebound/{bag}` (IoT Hub MQTT doc "Receiving cloud-to-device
 * messages"); the Node SDK reads the bag from level 5, so the `/` is always written.
 */
export function formatC2dTopic(deviceId: string, msg: TopicMessage): string {
  return checked(`devices/${deviceId}/messages/devicebound/${outboundBag(msg)}`);
}

/** `$iothub/twin/res/{status}/?$rid={rid}[&$version={v}]` (IoT Hub MQTT doc, twin sections). */
export function formatTwinResponse(status: number, rid: string, version?: number): string {
  return checked(
    `$iothub/twin/res/${formatUnsigned(status, 'twin status')}/${formatRequestQuery(rid, version)}`,
  );
}

/** `$iothub/twin/PATCH/properties/desired/?$version={v}` (IoT Hub MQTT doc "Receiving desired properties update notifications"). */
export function formatDesiredPatch(version: number): string {
  return `$iothub/twin/PATCH/properties/desired/?$version=${formatUnsigned(version, 'twin version')}`;
}

/** `$iothub/methods/POST/{name}/?$rid={rid}` (IoT Hub MQTT doc "Respond to a direct method"). */
export function formatMethodRequest(methodName: string, rid: string): string {
  checkLevel(methodName, 'method name');
  return checked(`$iothub/methods/POST/${methodName}/${formatRequestQuery(rid)}`);
}
