/**
 * The property-bag keys IoT Hub's MQTT dialect reserves for system properties, and the long
 * names Tandem's HubMessage uses for them (the names route conditions see as `$messageId`...).
 *
 * Sources, all agreeing on the wire keys:
 * - edgeHub `Microsoft.Azure.Devices.Edge.Hub.Core/SystemProperties.cs` (OnTheWireSystemPropertyNames:
 *   $.exp $.cid $.mid $.to $.uid $.on $.cdid $.cmid $.ct $.ce $.schema $.ctime $.ifid);
 * - the C# device SDK `IotHubWirePropertyNames` (adds $.sub component name, $.diagid, $.diagctx);
 * - azure-iot-device-mqtt `mqtt.js` `_getEventTopicFromMessage` ($.mid $.cid $.uid $.to $.ct
 *   $.ce $.ifid $.exp, `dt-subject` sent as $.sub, and $.on for sendOutputEvent).
 * edgeHub also maps two keys without the `$.` prefix (`ack`, `iothub-operation`). Tandem leaves
 * them as application properties: no device SDK publishes them and, lacking the `$.` prefix,
 * they would silently swallow ordinary application properties of those names.
 */

/** Long name -> wire key. Order is the order system properties are written on a topic. */
export const systemPropertyWireKeys = {
  messageId: '$.mid',
  correlationId: '$.cid',
  userId: '$.uid',
  to: '$.to',
  contentType: '$.ct',
  contentEncoding: '$.ce',
  absoluteExpiryTime: '$.exp',
  creationTimeUtc: '$.ctime',
  outputName: '$.on',
  connectionDeviceId: '$.cdid',
  connectionModuleId: '$.cmid',
  messageSchema: '$.schema',
  interfaceId: '$.ifid',
  componentName: '$.sub',
  diagnosticId: '$.diagid',
  diagnosticCorrelationContext: '$.diagctx',
} as const;

export type SystemPropertyName = keyof typeof systemPropertyWireKeys;
export type SystemPropertyWireKey = (typeof systemPropertyWireKeys)[SystemPropertyName];

const byWireKey = new Map<string, SystemPropertyName>();
const byName = new Map<string, SystemPropertyWireKey>();
for (const [name, wire] of Object.entries(systemPropertyWireKeys) as Array<
  [SystemPropertyName, SystemPropertyWireKey]
>) {
  byWireKey.set(wire, name);
  byName.set(name, wire);
}

/** The long name for a decoded bag key, or undefined when the key is an application property. */
export function systemPropertyForWireKey(key: string): SystemPropertyName | undefined {
  return byWireKey.get(key);
}

/** The wire key for a long name, or undefined when the property has no MQTT form (enqueuedTime...). */
export function wireKeyForSystemProperty(name: string): SystemPropertyWireKey | undefined {
  return byName.get(name);
}

/**
 * System properties the hub writes on topics it publishes to devices and modules (C2D and
 * module inputs): edgeHub's OutgoingSystemPropertiesMap. outputName is deliberately absent:
 * edgeHub does not forward the sender's `$.on`, and the Node SDK would surface it to the
 * receiver as an application property.
 */
export const outboundSystemProperties: readonly SystemPropertyName[] = [
  'messageId',
  'correlationId',
  'userId',
  'to',
  'contentType',
  'contentEncoding',
  'absoluteExpiryTime',
  'creationTimeUtc',
  'messageSchema',
  'connectionDeviceId',
  'connectionModuleId',
];
