/**
 * Classifies the topic FILTERS a device or module may SUBSCRIBE to. IoT Hub MQTT doc
 * ("Receiving cloud-to-device messages"): "IoT Hub isn't a general-purpose pub-sub messaging
 * broker, it only supports the documented topic names and topic filters", so anything else is
 * TANDEM_E_TOPIC. Filters are matched exactly: the `#` only lets more properties follow.
 *
 * What the Node SDK subscribes to (azure-iot-device-mqtt mqtt.js `_configureEndpoints`,
 * mqtt_twin_client.js): `devices/{d}/messages/devicebound/#` (QoS 1, devices),
 * `devices/{d}/modules/{m}/inputs/#` (QoS 1, modules), `$iothub/methods/POST/#` (QoS 0),
 * `$iothub/twin/res/#` and `$iothub/twin/PATCH/properties/desired/#` (QoS 0).
 */
import { topicError } from './encoding.js';
import { isValidId } from './ids.js';

export type Subscription =
  | { readonly kind: 'c2d'; readonly deviceId: string }
  | { readonly kind: 'moduleInputs'; readonly deviceId: string; readonly moduleId: string }
  | { readonly kind: 'twinResponses' }
  | { readonly kind: 'desiredPatches' }
  | { readonly kind: 'methods' };

const fixedFilters: ReadonlyMap<string, Subscription> = new Map<string, Subscription>([
  ['$iothub/twin/res/#', { kind: 'twinResponses' }],
  ['$iothub/twin/PATCH/properties/desired/#', { kind: 'desiredPatches' }],
  ['$iothub/methods/POST/#', { kind: 'methods' }],
]);

const c2dSuffix = '/messages/devicebound/#';
const inputsSuffix = '/inputs/#';
const moduleAllSuffix = '/#';
const devicesPrefix = 'devices/';
const modulesInfix = '/modules/';

/** Parses a subscription filter; TANDEM_E_TOPIC when it is not part of the dialect. */
export function parseSubscription(filter: string): Subscription {
  const fixed = fixedFilters.get(filter);
  if (fixed !== undefined) return fixed;
  if (filter.startsWith(devicesPrefix)) {
    const parsed = parseDeviceFilter(filter);
    if (parsed !== undefined) return parsed;
  }
  throw topicError(filter, 'is not a topic filter of the IoT Hub MQTT dialect');
}

function parseDeviceFilter(filter: string): Subscription | undefined {
  const slash = filter.indexOf('/', devicesPrefix.length);
  if (slash === -1) return undefined;
  const deviceId = filter.slice(devicesPrefix.length, slash);
  if (!isValidId(deviceId)) return undefined;
  const rest = filter.slice(slash);
  if (rest === c2dSuffix) return { kind: 'c2d', deviceId };
  if (!rest.startsWith(modulesInfix)) return undefined;
  const moduleEnd = rest.indexOf('/', modulesInfix.length);
  if (moduleEnd === -1) return undefined;
  const moduleId = rest.slice(modulesInfix.length, moduleEnd);
  const tail = rest.slice(moduleEnd);
  if (!isValidId(moduleId)) return undefined;
  // IoT Hub MQTT doc (module section): "Use devices/{device-id}/modules/{module-id}/# as a
  // topic for receiving messages"; the Node SDK uses .../inputs/#. edgeHub treats both alike.
  if (tail === inputsSuffix || tail === moduleAllSuffix) return { kind: 'moduleInputs', deviceId, moduleId };
  return undefined;
}
