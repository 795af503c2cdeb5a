/**
 * Parses an IoT Hub device connection string for the parent-hub upstream:
 * `HostName={hub};DeviceId={d};SharedAccessKey={base64}[;GatewayHostName={host}[:{port}]]`.
 *
 * Split as the Node SDK's createDictionary does (on `;`, then on the first `=`, so a base64
 * key's `=` padding needs no escaping). src/identity/connection-string.ts only formats these
 * strings; this is the one parser. Stricter than the SDK on purpose: a misspelt or unknown
 * part is an error rather than silently ignored, and forms Tandem cannot renew or use as a
 * device (a fixed SharedAccessSignature, x509, a ModuleId, a policy name) are refused.
 * Errors never echo the key.
 */
import { isValidId } from '../core/topics/index.js';
import { TandemError } from '../errors.js';

export interface DeviceConnectionString {
  readonly hostName: string;
  readonly deviceId: string;
  /** Base64 symmetric key: a secret, never logged. */
  readonly sharedAccessKey: string;
  /** Where to connect instead of HostName (a parent edge), host without the port. */
  readonly gatewayHost: string | undefined;
  readonly gatewayPort: number | undefined;
}

const known = ['HostName', 'DeviceId', 'SharedAccessKey', 'GatewayHostName'] as const;
const refused: Readonly<Record<string, string>> = {
  ModuleId: 'upstream connects as a device; a module connection string cannot be used',
  SharedAccessKeyName: 'a policy (service) connection string cannot be used; give the device key',
  SharedAccessSignature: 'a fixed token expires and cannot be renewed; give SharedAccessKey instead',
  x509: 'X.509 authentication is not supported upstream; give SharedAccessKey',
};

function fail(why: string): TandemError {
  return new TandemError('TANDEM_E_UPSTREAM', `upstream connection string: ${why}`);
}

function splitParts(text: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const part of text.split(';')) {
    if (part.trim().length === 0) continue;
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (refused[name] !== undefined) throw fail(`${name}: ${refused[name]}`);
    if (!(known as readonly string[]).includes(name)) {
      throw fail(`unknown part ${JSON.stringify(name.slice(0, 40))} (expected ${known.join(', ')})`);
    }
    if (parts.has(name)) throw fail(`${name} appears twice`);
    const value = eq === -1 ? '' : part.slice(eq + 1).trim();
    if (value.length === 0) throw fail(`${name} is empty`);
    parts.set(name, value);
  }
  return parts;
}

/** `host`, `host:port` or `[v6]:port`; TANDEM_E_UPSTREAM when malformed. */
export function parseHostPort(text: string, what: string): { host: string; port: number | undefined } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:/\s[\]]+))(?::([0-9]{1,5}))?$/.exec(text);
  if (!m) throw fail(`${what} ${JSON.stringify(text.slice(0, 100))} is not host or host:port`);
  const host = m[1] ?? m[2]!;
  if (m[3] === undefined) return { host, port: undefined };
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw fail(`${what} port ${port} is outside 1-65535`);
  return { host, port };
}

function checkKey(key: string): void {
  // Node's base64 decoder skips junk silently; a round trip proves the key is real base64.
  const bytes = Buffer.from(key, 'base64');
  if (bytes.length === 0 || bytes.toString('base64').replace(/=+$/, '') !== key.replace(/=+$/, '')) {
    throw fail('SharedAccessKey is not base64');
  }
}

export function parseDeviceConnectionString(text: string): DeviceConnectionString {
  const parts = splitParts(text);
  for (const name of ['HostName', 'DeviceId', 'SharedAccessKey'] as const) {
    if (!parts.has(name)) throw fail(`${name} is missing`);
  }
  const hostName = parts.get('HostName')!;
  parseHostPort(hostName, 'HostName');
  const deviceId = parts.get('DeviceId')!;
  if (!isValidId(deviceId))
    throw fail(`DeviceId ${JSON.stringify(deviceId.slice(0, 64))} is not a valid device id`);
  const sharedAccessKey = parts.get('SharedAccessKey')!;
  checkKey(sharedAccessKey);
  const gateway = parts.get('GatewayHostName');
  const gw = gateway === undefined ? undefined : parseHostPort(gateway, 'GatewayHostName');
  return { hostName, deviceId, sharedAccessKey, gatewayHost: gw?.host, gatewayPort: gw?.port };
}
