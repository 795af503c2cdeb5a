/**
 * The `{property_bag}` topic segment: `key=value&key2=value2`, each side percent-encoded.
 *
 * IoT Hub MQTT doc ("Sending device-to-cloud messages"): the bag is
 * `RFC 2396-encoded(<PropertyName1>)=RFC 2396-encoded(<PropertyValue1>)&...` and "uses the
 * same encoding as query strings in the HTTPS protocol". Keys in the system-property map
 * (`$.mid`...) become system properties under their long names; every other key, `$.`-prefixed
 * or not, is an application property (edgeHub ProtocolGatewayMessageConverter.ToMessage).
 *
 * Grammar details follow the C# UrlEncodedDictionarySerializer tokenizer that IoT Hub and
 * edgeHub run: an empty key (`=v`, `a&&b`, a trailing `&`) and a bare `=` inside a value are
 * errors; a key without `=` has no value (IoT Hub doc C2D table: `key` means null, which a
 * string map holds as ''); raw `?` characters are dropped, so a bag may start with `?`; the last
 * duplicate key wins. Results are null-prototype objects: bag keys are untrusted input, and
 * `__proto__` or `toString` must be plain data, never the Object prototype.
 */
import { TandemError } from '../../errors.js';
import { limits } from '../../limits.js';
import { checkTopicBytes, decodeComponent, encodeComponent } from './encoding.js';
import { systemPropertyForWireKey, wireKeyForSystemProperty } from './system-properties.js';

export interface PropertyBag {
  /** Long names (messageId, correlationId...) -> values. */
  readonly systemProperties: Record<string, string>;
  /** Application properties, in the order they appeared. */
  readonly properties: Record<string, string>;
}

/** A fresh null-prototype string map. */
export function emptyProperties(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

function tooManyProperties(): TandemError {
  return new TandemError(
    'TANDEM_E_TOO_LARGE',
    `more than ${limits.propertiesCountMax} application properties in a message`,
    { details: { limit: 'propertiesCountMax', max: limits.propertiesCountMax } },
  );
}

function bagError(why: string): TandemError {
  return new TandemError('TANDEM_E_TOPIC', `malformed property bag: ${why}`);
}

/** Decodes a bag; TANDEM_E_TOPIC when malformed, TANDEM_E_TOO_LARGE over the limits. */
export function decodePropertyBag(bag: string): PropertyBag {
  checkTopicBytes(bag, 'property bag');
  const systemProperties = emptyProperties();
  const properties = emptyProperties();
  // C# tokenizer (CreateToken): '?' is never part of a name or value; it only opens a query.
  const text = bag.indexOf('?') === -1 ? bag : bag.replaceAll('?', '');
  if (text.length === 0) return { systemProperties, properties };

  let count = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end === -1) end = text.length;
    if (end === start) throw bagError('empty property (leading, trailing or doubled "&")');
    // Work on the pair alone so every search is bounded by it: linear in the bag overall.
    const pair = text.slice(start, end);
    const eq = pair.indexOf('=');
    if (eq === 0) throw bagError('property with an empty name');
    if (eq !== -1 && pair.indexOf('=', eq + 1) !== -1)
      throw bagError('"=" inside a value must be percent-encoded');
    const key = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1));
    const name = systemPropertyForWireKey(key);
    if (name !== undefined) {
      systemProperties[name] = value;
    } else {
      if (properties[key] === undefined && ++count > limits.propertiesCountMax) throw tooManyProperties();
      properties[key] = value;
    }
    start = end + 1;
  }
  return { systemProperties, properties };
}

/**
 * Encodes system properties (by long name) then application properties. System properties
 * with no MQTT wire key (enqueuedTime, inputName...) are not part of the dialect and are left
 * out, as edgeHub does. An application property named like a wire key (`$.mid`) could not
 * survive a round trip, so it is refused with TANDEM_E_TOPIC. `only`, when given, lists the
 * system properties to write and their order (the hub's outbound set); by default all are.
 */
export function encodePropertyBag(
  systemProperties: Readonly<Record<string, string>>,
  properties: Readonly<Record<string, string>>,
  only?: readonly string[],
): string {
  const parts: string[] = [];
  // Encoded output is ASCII, so characters are bytes; stop as soon as the limit is passed.
  let bytes = -1;
  const push = (part: string): void => {
    bytes += part.length + 1;
    if (bytes > limits.topicBytesMax) {
      throw new TandemError('TANDEM_E_TOO_LARGE', `property bag is over ${limits.topicBytesMax} bytes`, {
        details: { limit: 'topicBytesMax', max: limits.topicBytesMax },
      });
    }
    parts.push(part);
  };
  for (const name of only ?? Object.keys(systemProperties)) {
    const value = systemProperties[name];
    const wire = wireKeyForSystemProperty(name);
    if (value === undefined || wire === undefined) continue;
    push(`${encodeComponent(wire)}=${encodeComponent(value)}`);
  }
  let count = 0;
  for (const key of Object.keys(properties)) {
    if (systemPropertyForWireKey(key) !== undefined) {
      throw new TandemError(
        'TANDEM_E_TOPIC',
        `application property ${JSON.stringify(key)} uses a reserved system key`,
      );
    }
    if (++count > limits.propertiesCountMax) throw tooManyProperties();
    push(`${encodeComponent(key)}=${encodeComponent(properties[key] ?? '')}`);
  }
  return parts.join('&');
}
