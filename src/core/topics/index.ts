/** Topic grammar of IoT Hub's MQTT dialect: a pure core, no I/O. */

export { type ClientTopic, parseClientTopic } from './client-topic.js';
export { type ClientIds, type ParsedUsername, parseClientId, parseUsername } from './connect.js';
export {
  formatC2dTopic,
  formatDesiredPatch,
  formatMethodRequest,
  formatModuleInputTopic,
  formatTwinResponse,
  type TopicMessage,
} from './format.js';
export { idLengthMax, isValidId, validateDeviceId, validateModuleId } from './ids.js';
export { decodePropertyBag, emptyProperties, encodePropertyBag, type PropertyBag } from './property-bag.js';
export { parseSubscription, type Subscription } from './subscription.js';
export {
  outboundSystemProperties,
  type SystemPropertyName,
  systemPropertyForWireKey,
  systemPropertyWireKeys,
  wireKeyForSystemProperty,
} from './system-properties.js';
