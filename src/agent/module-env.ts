/**
 * The environment a module process gets so that `ModuleClient.fromEnvironment(Mqtt)` (Node SDK
 * module_client.js) finds the hub, in either of the SDK's two ways:
 *
 * - 'workload', as IoT Edge's edgeAgent sets it: only IOTEDGE_* variables. The SDK asks the
 *   workload API at IOTEDGE_WORKLOADURI for the trust bundle and to sign its SAS tokens, so the
 *   module never sees its key. No EdgeHubConnectionString: the SDK prefers that variable (and
 *   IotHubConnectionString) whenever it is set, so the agent must not let one leak in from its
 *   own environment either (moduleAuthEnvNames lists every name to strip).
 * - 'connection-string': EdgeHubConnectionString in IoT Edge's module form and
 *   EdgeModuleCACertificateFile (the PEM the SDK trusts), plus IOTEDGE_DEVICEID, _MODULEID and
 *   _IOTHUBHOSTNAME for modules that read them to know who they are.
 *
 * gatewayHost may carry a port (`localhost:8883`): the Node SDK dials `mqtts://{GatewayHostName}`
 * on both paths and signs tokens for IOTEDGE_IOTHUBHOSTNAME / HostName, never the gateway.
 */
import { validateDeviceId, validateModuleId } from '../core/topics/ids.js';
import { TandemError } from '../errors.js';
import { formatConnectionString } from '../identity/connection-string.js';
import { workloadApiVersionMin } from './workload-api.js';

export type ModuleAuth = 'connection-string' | 'workload';

export interface ModuleEnvInput {
  /** The IoT hub host name identities belong to (SAS resource host). */
  readonly hubName: string;
  readonly edgeDeviceId: string;
  readonly moduleId: string;
  /** Where the module connects: the Tandem hub's TLS listener, `host` or `host:port`. */
  readonly gatewayHost: string;
  readonly auth: ModuleAuth;
  /** 'connection-string' only: the module identity's primary key (base64). */
  readonly primaryKey?: string | undefined;
  /** 'connection-string' only: a file holding the PEM of the hub's CA. */
  readonly caFile?: string | undefined;
  /** 'workload' only: `unix://{socket}`, see workloadUri(). */
  readonly workloadUri?: string | undefined;
  /** 'workload' only: the generation id the module's workload socket accepts. */
  readonly generationId?: string | undefined;
}

/** Every variable either path sets or the SDK reads to choose one: strip these from an inherited env. */
export const moduleAuthEnvNames: readonly string[] = [
  'EdgeHubConnectionString',
  'IotHubConnectionString',
  'EdgeModuleCACertificateFile',
  'IOTEDGE_WORKLOADURI',
  'IOTEDGE_DEVICEID',
  'IOTEDGE_MODULEID',
  'IOTEDGE_IOTHUBHOSTNAME',
  'IOTEDGE_AUTHSCHEME',
  'IOTEDGE_GATEWAYHOSTNAME',
  'IOTEDGE_MODULEGENERATIONID',
  'IOTEDGE_APIVERSION',
];

function required(input: ModuleEnvInput, field: keyof ModuleEnvInput): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new TandemError(
      'TANDEM_E_CONFIG',
      `module ${input.moduleId}: ${field} is required for auth ${input.auth}`,
    );
  }
  return value;
}

/** The module's auth environment for `input.auth`; TANDEM_E_CONFIG when a needed value is missing. */
export function moduleEnv(input: ModuleEnvInput): Record<string, string> {
  validateDeviceId(input.edgeDeviceId);
  validateModuleId(input.moduleId);
  const identity = {
    IOTEDGE_DEVICEID: input.edgeDeviceId,
    IOTEDGE_MODULEID: input.moduleId,
    IOTEDGE_IOTHUBHOSTNAME: required(input, 'hubName'),
  };
  const gatewayHost = required(input, 'gatewayHost');
  if (input.auth === 'workload') {
    return {
      ...identity,
      IOTEDGE_WORKLOADURI: required(input, 'workloadUri'),
      IOTEDGE_AUTHSCHEME: 'sasToken',
      IOTEDGE_GATEWAYHOSTNAME: gatewayHost,
      IOTEDGE_MODULEGENERATIONID: required(input, 'generationId'),
      // The version our workload API implements; the Node SDK always asks for 2018-06-28 anyway.
      IOTEDGE_APIVERSION: workloadApiVersionMin,
    };
  }
  if (input.auth !== 'connection-string') {
    throw new TandemError('TANDEM_E_CONFIG', `module ${input.moduleId}: unknown auth ${String(input.auth)}`);
  }
  const connectionString = formatConnectionString(
    {
      deviceId: input.edgeDeviceId,
      moduleId: input.moduleId,
      primaryKey: required(input, 'primaryKey'),
      // Not part of a connection string.
      secondaryKey: '',
    },
    { hubName: input.hubName, gatewayHost },
  );
  return {
    ...identity,
    EdgeHubConnectionString: connectionString,
    EdgeModuleCACertificateFile: required(input, 'caFile'),
  };
}
