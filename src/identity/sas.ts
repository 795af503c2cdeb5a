/**
 * IoT Hub shared access signature tokens:
 * `SharedAccessSignature sr={URL-encoded resourceURI}&sig={signature}&se={expiry}[&skn={policy}]`
 * (IoT Hub MQTT doc, Password field; IoT Hub security doc "Security token structure").
 *
 * The signature is HMAC-SHA256, keyed by the base64-decoded key, over the *encoded* `sr`
 * exactly as it appears in the token, a newline and `se` (azure-iot-common authorization.js
 * `stringToSign`; edgeHub SharedAccessSignature.ComputeSignature). Field names are matched
 * case-insensitively and other values are form-decoded (`+` is a space), as edgeHub's parser
 * does; the resource is compared case-insensitively ("lower case URL-encoding of the lower
 * case resource URI", IoT Hub security doc). `skn` is reported but, as in edgeHub's device
 * scope authenticator, plays no part in the check: device and module keys are not policies.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { TandemError } from '../errors.js';
import { limits } from '../limits.js';

export type SasFailureReason =
  | 'malformed'
  | 'wrong-resource'
  | 'bad-signature'
  | 'expired'
  | 'lifetime-too-long';

export interface SasToken {
  /** The decoded resource, e.g. `myhub.example/devices/dev1`. */
  readonly resourceUri: string;
  /** `sr` exactly as sent: the signed text. */
  readonly encodedResourceUri: string;
  /** The decoded base64 signature. */
  readonly signature: string;
  readonly expirySec: number;
  readonly policyName: string | undefined;
}

export interface CreateSasTokenOptions {
  readonly resourceUri: string;
  /** Base64 symmetric key. */
  readonly key: string;
  /** Absolute expiry, seconds since the epoch. */
  readonly expirySec: number;
  readonly policyName?: string | undefined;
}

export interface VerifySasTokenOptions {
  /** The resource the token must name; several when more than one host name is acceptable. */
  readonly expectedResourceUri: string | readonly string[];
  /** Base64 keys, any of which may have signed the token (primary and secondary). */
  readonly keys: readonly string[];
  readonly nowSec: number;
}

const prefix = 'SharedAccessSignature';
/** Longest token accepted: a 128-char device and module id, a host name, and room to spare. */
const tokenLengthMax = 4096;

function fail(reason: SasFailureReason, message: string): TandemError {
  return new TandemError('TANDEM_E_AUTH', `SAS token refused: ${message}`, { details: { reason } });
}

/**
 * azure-iot-common's encodeUriComponentStrict, lower-case hex for `!'()*` included, so a token
 * made here is byte-for-byte the one the Node SDK makes for the same inputs.
 */
function encodeStrict(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

/** WebUtility.UrlDecode-like: `+` is a space; malformed escapes make the token malformed. */
function formDecode(text: string): string {
  const spaced = text.indexOf('+') === -1 ? text : text.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    throw fail('malformed', 'bad percent-encoding');
  }
}

function sign(key: string, encodedResourceUri: string, expiry: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64'))
    .update(`${encodedResourceUri}\n${expiry}`, 'utf8')
    .digest('base64');
}

/** The resource a device or module token names: `{host}/devices/{d}[/modules/{m}]`. */
export function deviceResourceUri(hostName: string, deviceId: string, moduleId?: string): string {
  return moduleId === undefined
    ? `${hostName}/devices/${deviceId}`
    : `${hostName}/devices/${deviceId}/modules/${moduleId}`;
}

/** A token in the field order the Node SDK writes (sr, sig, skn, se). */
export function createSasToken(o: CreateSasTokenOptions): string {
  if (!Number.isSafeInteger(o.expirySec) || o.expirySec <= 0) {
    throw new TandemError('TANDEM_E_ASSERT', `SAS expiry must be a positive integer, got ${o.expirySec}`);
  }
  const sr = encodeStrict(o.resourceUri);
  const se = String(o.expirySec);
  const sig = encodeStrict(sign(o.key, sr, se));
  const skn = o.policyName ? `&skn=${encodeStrict(o.policyName)}` : '';
  return `${prefix} sr=${sr}&sig=${sig}${skn}&se=${se}`;
}

/** Parses without checking the signature; TANDEM_E_AUTH (reason `malformed`) on a bad shape. */
export function parseSasToken(token: string): SasToken {
  if (token.length > tokenLengthMax) throw fail('malformed', 'too long');
  const parts = token.split(/\s/);
  if (parts.length !== 2 || parts[0] !== prefix)
    throw fail('malformed', `expected "${prefix} sr=...&sig=...&se=..."`);
  const fields = new Map<string, string>();
  for (const field of (parts[1] ?? '').split('&')) {
    if (field.length === 0) continue;
    const eq = field.indexOf('=');
    const name = (eq === -1 ? field : field.slice(0, eq)).toLowerCase();
    if (fields.has(name)) throw fail('malformed', `field ${name} appears twice`);
    fields.set(name, eq === -1 ? '' : field.slice(eq + 1));
  }
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  if (!sr || !sig || !se) throw fail('malformed', 'sr, sig and se are required');
  // se is whole seconds in every SDK; 12 digits reach past the year 33000.
  if (!/^[0-9]{1,12}$/.test(se)) throw fail('malformed', 'se is not a whole number of seconds');
  const skn = fields.get('skn');
  return {
    resourceUri: formDecode(sr),
    encodedResourceUri: sr,
    signature: formDecode(sig),
    expirySec: Number(se),
    policyName: skn ? formDecode(skn) : undefined,
  };
}

function signatureMatches(token: SasToken, keys: readonly string[]): boolean {
  const given = Buffer.from(token.signature, 'utf8');
  let ok = false;
  for (const key of keys) {
    if (key.length === 0) continue;
    const expected = Buffer.from(sign(key, token.encodedResourceUri, String(token.expirySec)), 'utf8');
    // Lengths are public (a base64 SHA-256 is always 44 characters); contents are compared in constant time.
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

/**
 * Verifies a token and returns it parsed; TANDEM_E_AUTH with details.reason otherwise. Checks run
 * shape, resource, signature, then time, so a forged token never learns whether it was expired.
 */
export function verifySasToken(token: string, o: VerifySasTokenOptions): SasToken {
  const parsed = parseSasToken(token);
  const expected =
    typeof o.expectedResourceUri === 'string' ? [o.expectedResourceUri] : o.expectedResourceUri;
  const resource = parsed.resourceUri.toLowerCase();
  if (!expected.some((r) => r.toLowerCase() === resource)) {
    throw fail('wrong-resource', `it is for ${JSON.stringify(parsed.resourceUri.slice(0, 300))}`);
  }
  if (!signatureMatches(parsed, o.keys))
    throw fail('bad-signature', 'the signature matches no key of this identity');
  if (parsed.expirySec + limits.sasClockSkewSecondsMax < o.nowSec) {
    throw fail('expired', `it expired at ${parsed.expirySec} (now ${o.nowSec})`);
  }
  if (parsed.expirySec - o.nowSec > limits.sasTokenLifetimeSecondsMax + limits.sasClockSkewSecondsMax) {
    throw fail('lifetime-too-long', `it is valid for more than ${limits.sasTokenLifetimeSecondsMax} s`);
  }
  return parsed;
}
