/**
 * The `?$rid=...&$version=...` query of twin and direct-method topics.
 *
 * IoT Hub MQTT doc ("Retrieving a device twin's properties"): "The request ID can be any valid
 * value for a message property value, and status is validated as an integer." Request ids are
 * percent-decoded here (the Node SDK reads responses with querystring.parse, which decodes) and
 * percent-encoded again by the formatters, so any id a client sends comes back as it sent it.
 */
import { TandemError } from '../../errors.js';
import { decodeComponent, encodeComponent, topicError } from './encoding.js';

export interface RequestQuery {
  readonly rid: string;
  readonly version: number | undefined;
}

/** Twin versions and statuses are small integers; 15 digits keeps them exact doubles. */
const integerDigitsMax = 15;

/** Parses a non-negative decimal integer, or returns undefined. */
export function parseUnsigned(text: string): number | undefined {
  if (text.length === 0 || text.length > integerDigitsMax) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(text);
}

/** Parses `query` (the text after `?`); unknown parameters are ignored, as IoT Hub does. */
export function parseRequestQuery(topic: string, query: string, allowVersion: boolean): RequestQuery {
  let rid: string | undefined;
  let version: number | undefined;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1));
    if (key === '$rid') {
      rid = value;
    } else if (key === '$version' && allowVersion) {
      version = parseUnsigned(value);
      if (version === undefined) throw topicError(topic, 'has a $version that is not a non-negative integer');
    }
  }
  if (rid === undefined || rid.length === 0) throw topicError(topic, 'has no $rid request id');
  return { rid, version };
}

/** `?$rid={rid}[&$version={v}]`, the query the hub writes on responses. */
export function formatRequestQuery(rid: string, version?: number): string {
  if (rid.length === 0) throw new TandemError('TANDEM_E_TOPIC', 'a request id must not be empty');
  if (version === undefined) return `?$rid=${encodeComponent(rid)}`;
  return `?$rid=${encodeComponent(rid)}&$version=${formatUnsigned(version, 'twin version')}`;
}

export function formatUnsigned(value: number, what: string): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TandemError('TANDEM_E_TOPIC', `${what} ${value} is not a non-negative integer`);
  }
  return String(value);
}
