/**
 * Connection strings as IoT Edge hands them to modules (edgeAgent ModuleConnectionStringBuilder):
 * `HostName={hub};DeviceId={d};[ModuleId={m};]SharedAccessKey={key};GatewayHostName={gw}`,
 * in that order, each part left out when empty. The Node SDK parses it with createDictionary
 * (split on `;`, then on the first `=`), so a base64 key's `=` padding is safe unescaped.
 */
import { TandemError } from '../errors.js';
import type { Identity } from './identity.js';

export interface ConnectionStringOptions {
  /** IoT hub host name the identity belongs to (HostName, and the SAS resource host). */
  readonly hubName: string;
  /** Where clients connect: the Tandem hub, optionally `host:port`. */
  readonly gatewayHost?: string | undefined;
}

export function formatConnectionString(identity: Identity, o: ConnectionStringOptions): string {
  for (const [name, value] of [
    ['hubName', o.hubName],
    ['gatewayHost', o.gatewayHost ?? ''],
  ] as const) {
    // ';' separates parts; a value holding one would be split by every SDK.
    if (value.includes(';')) throw new TandemError('TANDEM_E_CONFIG', `${name} must not contain ';'`);
  }
  const parts: Array<[string, string | undefined]> = [
    ['HostName', o.hubName],
    ['DeviceId', identity.deviceId],
    ['ModuleId', identity.moduleId],
    ['SharedAccessKey', identity.primaryKey],
    ['GatewayHostName', o.gatewayHost],
  ];
  return parts
    .filter((p): p is [string, string] => p[1] !== undefined && p[1].length > 0)
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
}
