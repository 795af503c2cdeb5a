/**
 * Store keys as NATS KV keys. Store keys (and stream names, which key the trim bucket, and
 * consumer names, which key the checkpoint bucket) may hold any characters, e.g.
 * `twin/edge1/$edgeAgent` or `session/dev:1`; a NATS KV key allows only `[-/_=.a-zA-Z0-9]`,
 * and `.` separates subject tokens (no empty token, no leading or trailing dot).
 *
 * The escape: `[-/_a-zA-Z0-9]` stay as they are; every other character is written as its
 * UTF-8 bytes, each `=XX` (two upper-case hex digits), including `.` (=2E) and `=` (=3D).
 *   twin/edge1/$edgeAgent  ->  twin/edge1/=24edgeAgent
 *   session/dev:1          ->  session/dev=3A1
 * - Reversible: `=` only ever starts an escape, so decoding is unambiguous.
 * - Prefix-preserving: each character is escaped on its own, so escape(p) is a prefix of
 *   escape(k) exactly when p is a prefix of k; a list or watch by prefix can compare
 *   escaped keys without decoding every one.
 * - One subject token: no `.` survives, so no key has empty tokens and `*`/`>` never
 *   appear. The price: NATS wildcards cannot narrow a prefix (they match whole tokens
 *   only), so list and watch read the whole bucket and filter here (fine for the hub's
 *   hundreds to thousands of keys).
 * - Readable in `nats kv ls`, since the hub's keys are mostly plain.
 */
import { assert } from '../../errors.js';

/** As the embedded store's key bound; escaped, at most 3x that, well under NATS' 4 KB control line. */
export const keyBytesMax = 1024;

const plain = /^[-/_a-zA-Z0-9]$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function hex(byte: number): string {
  return `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Escapes without checking length: also used for prefixes, which may be empty. */
export function escapeKeyPrefix(key: string): string {
  let out = '';
  for (const ch of key) {
    if (plain.test(ch)) out += ch;
    else for (const byte of encoder.encode(ch)) out += hex(byte);
  }
  return out;
}

export function escapeKey(key: string, what = 'key'): string {
  assert(typeof key === 'string', `${what} is a string`);
  const bytes = encoder.encode(key).length;
  assert(bytes > 0 && bytes <= keyBytesMax, `${what} must be 1..${keyBytesMax} UTF-8 bytes`);
  return escapeKeyPrefix(key);
}

export function unescapeKey(escaped: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const ch = escaped[i]!;
    if (ch === '=') {
      const byte = Number.parseInt(escaped.slice(i + 1, i + 3), 16);
      assert(Number.isInteger(byte), `escaped key ${escaped} has a bad escape at ${i}`);
      bytes.push(byte);
      i += 2;
    } else {
      bytes.push(ch.charCodeAt(0));
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}
