/**
 * The CONNECT packet's client id and username, as IoT Hub's MQTT dialect defines them.
 *
 * IoT Hub MQTT doc ("Using the MQTT protocol directly"): ClientId is `{device-id}` or
 * `{device-id}/{module-id}`; Username is `{iotHub-hostname}/{device-id}/?api-version=...` or
 * `{iotHub-hostname}/{device_id}/{module_id}/?api-version=...`. The Node SDK sends
 * `{host}/{clientId}/?api-version=2021-04-12[&model-id={raw id}]&DeviceClientType={encoded agent}`
 * (azure-iot-device-mqtt mqtt.js `_getBaseTransportConfig`).
 */
import { TandemError } from '../../errors.js';
import { validateDeviceId, validateModuleId } from './ids.js';

export interface ClientIds {
  readonly deviceId: string;
  readonly moduleId?: string | undefined;
}

export interface ParsedUsername extends ClientIds {
  /** The first level: the IoT hub host name the client believes it talks to. */
  readonly hubName: string;
  readonly apiVersion: string | undefined;
  readonly deviceClientType: string | undefined;
  /** IoT Plug and Play model id (`model-id`), when the client declares one. */
  readonly modelId: string | undefined;
  /** Every query parameter, decoded; the first of duplicates wins, as in edgeHub. */
  readonly params: Readonly<Record<string, string>>;
}

/** `{d}` or `{d}/{m}`; TANDEM_E_IDENTITY_INVALID otherwise. */
export function parseClientId(clientId: string): ClientIds {
  const slash = clientId.indexOf('/');
  if (slash === -1) return { deviceId: validateDeviceId(clientId) };
  const moduleId = clientId.slice(slash + 1);
  if (moduleId.indexOf('/') !== -1) {
    throw new TandemError('TANDEM_E_IDENTITY_INVALID', 'a client id is {deviceId} or {deviceId}/{moduleId}');
  }
  return { deviceId: validateDeviceId(clientId.slice(0, slash)), moduleId: validateModuleId(moduleId) };
}

function malformed(why: string): TandemError {
  return new TandemError('TANDEM_E_AUTH', `malformed MQTT username: ${why}`, {
    details: { reason: 'malformed-username' },
  });
}

/**
 * Parses a username, following edgeHub's MqttUsernameParser: the last level is the query when
 * it starts with `?` (a `?` elsewhere is a valid id character), or, for older SDKs, when it
 * holds `api-version=` without the `?`. Unlike edgeHub, a missing api-version is accepted (IoT
 * Hub only recommends it). TANDEM_E_AUTH for a bad shape, TANDEM_E_IDENTITY_INVALID for bad ids.
 */
export function parseUsername(username: string): ParsedUsername {
  const levels = username.split('/');
  if (levels.length !== 3 && levels.length !== 4)
    throw malformed('expected {hub}/{device}[/{module}]/?{query}');
  const last = levels[levels.length - 1] ?? '';
  let query: string;
  if (last.startsWith('?')) query = last.slice(1);
  else if (last.includes('api-version=')) query = last;
  else throw malformed('the last level must be the ?api-version=... query');
  const hubName = levels[0] ?? '';
  if (hubName.length === 0) throw malformed('no hub host name');
  const deviceId = validateDeviceId(levels[1] ?? '');
  const moduleId = levels.length === 4 ? validateModuleId(levels[2] ?? '') : undefined;
  const params = parseParams(query);
  return {
    hubName,
    deviceId,
    moduleId,
    apiVersion: params['api-version'],
    deviceClientType: params.DeviceClientType,
    modelId: params['model-id'],
    params,
  };
}

function parseParams(query: string): Record<string, string> {
  const params = Object.create(null) as Record<string, string>;
  for (const pair of query.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (params[key] !== undefined) continue;
    params[key] = eq === -1 ? '' : lenientDecode(pair.slice(eq + 1));
  }
  return params;
}

/** edgeHub uses Uri.UnescapeDataString, which leaves malformed escapes as they are. */
function lenientDecode(text: string): string {
  if (text.indexOf('%') === -1) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
