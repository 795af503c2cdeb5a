/**
 * Byte layouts of the embedded store's keys and values.
 *
 * Keys are our own binary encoding rather than lmdb-js "ordered-binary" array keys. Array
 * keys `[stream, seq]` do sort correctly for numbers, but ordered-binary joins the parts
 * with a 0x00 byte and escapes strings that start below U+001C, so a stream name holding
 * U+0000 would be read back as a different key and could fall inside another stream's
 * range. A length prefix has no such corner: every key of one stream shares the prefix
 * `u16 length, utf8 name`, and no other stream's key can start with it.
 *
 *   log key:    u16be nameLength | utf8 stream | u64be seq      (range scan per stream)
 *   log value:  f64be expiresAtMs | data
 *   kv key:     utf8 key                                         (bytewise = code point order)
 *   kv value:   f64be revision | value
 *   checkpoint: utf8 consumer -> f64be seq
 *   meta:       ascii name -> f64be number
 */
import { assert } from '../../errors.js';

/** LMDB's default key limit is 1978 bytes; names longer than this are a bug in the caller. */
export const nameBytesMax = 1024;

const seqBytes = 8;
const headerBytes = 8;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function nameBytes(name: string, what: string): Buffer {
  const bytes = Buffer.from(encoder.encode(name));
  assert(bytes.length > 0 && bytes.length <= nameBytesMax, `${what} must be 1..${nameBytesMax} UTF-8 bytes`);
  return bytes;
}

export function assertSeq(seq: number, what: string): void {
  assert(Number.isSafeInteger(seq) && seq >= 0, `${what} must be a non-negative safe integer, got ${seq}`);
}

/** The prefix every log key of `stream` starts with. */
export function streamPrefix(stream: string): Buffer {
  const name = nameBytes(stream, 'stream name');
  const prefix = Buffer.allocUnsafe(2 + name.length);
  prefix.writeUInt16BE(name.length, 0);
  name.copy(prefix, 2);
  return prefix;
}

export function logKey(prefix: Buffer, seq: number): Buffer {
  const key = Buffer.allocUnsafe(prefix.length + seqBytes);
  prefix.copy(key, 0);
  // Two 32-bit halves: seqs stay below 2^53, and big-endian keeps numeric order bytewise.
  key.writeUInt32BE(Math.floor(seq / 2 ** 32), prefix.length);
  key.writeUInt32BE(seq % 2 ** 32, prefix.length + 4);
  return key;
}

/** A key above every seq of the stream: the exclusive end of its range. */
export function logKeyEnd(prefix: Buffer): Buffer {
  return Buffer.concat([prefix, Buffer.alloc(seqBytes, 0xff)]);
}

export function decodeLogKey(key: Uint8Array): { stream: string; seq: number } {
  const buf = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  const nameLength = buf.readUInt16BE(0);
  assert(buf.length === 2 + nameLength + seqBytes, 'log key has the layout length|name|seq');
  const stream = decoder.decode(buf.subarray(2, 2 + nameLength));
  const seq = buf.readUInt32BE(2 + nameLength) * 2 ** 32 + buf.readUInt32BE(2 + nameLength + 4);
  return { stream, seq };
}

/** `f64be number | payload`: the number rides in front of the bytes it describes. */
export function withHeader(num: number, payload: Uint8Array): Buffer {
  const value = Buffer.allocUnsafe(headerBytes + payload.length);
  value.writeDoubleBE(num, 0);
  value.set(payload, headerBytes);
  return value;
}

export function headerOf(value: Uint8Array): number {
  assert(value.length >= headerBytes, 'stored value carries its 8-byte header');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).readDoubleBE(0);
}

/** A copy, so callers own their bytes whatever lmdb-js does with its read buffers. */
export function payloadOf(value: Uint8Array): Uint8Array {
  return new Uint8Array(value.subarray(headerBytes));
}

export function numberValue(num: number): Buffer {
  const value = Buffer.allocUnsafe(headerBytes);
  value.writeDoubleBE(num, 0);
  return value;
}

export function textKey(text: string, what: string): Buffer {
  return nameBytes(text, what);
}

export function decodeText(key: Uint8Array): string {
  return decoder.decode(key);
}

/** Bytes a log record occupies before B-tree overhead; the space guard estimates from it. */
export function logRecordBytes(stream: string, data: Uint8Array): number {
  return 2 + Buffer.byteLength(stream) + seqBytes + headerBytes + data.length;
}
