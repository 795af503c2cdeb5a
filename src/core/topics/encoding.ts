/**
 * Percent-encoding and size checks shared by the topic parsers and formatters.
 *
 * Encoding follows the C# `UrlEncodedDictionarySerializer` that IoT Hub, edgeHub and the C#
 * SDK use: `Uri.EscapeDataString`, i.e. RFC 3986 with only `A-Z a-z 0-9 - . _ ~` left bare
 * (so `$.mid` goes out as `%24.mid`, which is also what the Node SDK's querystring.stringify
 * sends). Decoding is `decodeURIComponent`, exactly what the Node SDK's receiver uses; unlike
 * form decoding, `+` stays `+`.
 */
import { TandemError } from '../../errors.js';
import { limits } from '../../limits.js';

const strictExtras = /[!'()*]/g;

function escapeExtra(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
}

/** Percent-encodes one key or value; TANDEM_E_TOPIC for a lone UTF-16 surrogate. */
export function encodeComponent(text: string): string {
  let out: string;
  try {
    out = encodeURIComponent(text);
  } catch (cause) {
    throw new TandemError(
      'TANDEM_E_TOPIC',
      'a property holds a lone UTF-16 surrogate, which has no UTF-8 form',
      {
        cause,
      },
    );
  }
  return out.replace(strictExtras, escapeExtra);
}

/** Decodes one key or value; TANDEM_E_TOPIC for malformed percent-encoding or invalid UTF-8. */
export function decodeComponent(text: string): string {
  if (text.indexOf('%') === -1) return text;
  try {
    return decodeURIComponent(text);
  } catch (cause) {
    throw new TandemError('TANDEM_E_TOPIC', 'malformed percent-encoding in a topic', { cause });
  }
}

/** TANDEM_E_TOO_LARGE when `text` is over limits.topicBytesMax bytes of UTF-8. */
export function checkTopicBytes(text: string, what: string): void {
  // A UTF-16 code unit takes 1 to 3 UTF-8 bytes, so the length alone decides most topics
  // without measuring: too long even at 1 byte each, or short enough even at 3.
  const max = limits.topicBytesMax;
  if (text.length <= max / 3) return;
  if (text.length > max || Buffer.byteLength(text, 'utf8') > max) {
    throw new TandemError('TANDEM_E_TOO_LARGE', `${what} is over ${max} bytes`, {
      details: { limit: 'topicBytesMax', max },
    });
  }
}

/** A short, safe rendering of a topic for error messages. */
export function quoteTopic(topic: string): string {
  return JSON.stringify(topic.length > 120 ? `${topic.slice(0, 120)}...` : topic);
}

export function topicError(topic: string, why: string): TandemError {
  return new TandemError('TANDEM_E_TOPIC', `topic ${quoteTopic(topic)} ${why}`);
}
