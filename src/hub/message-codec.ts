/**
 * How a HubMessage is laid out in a log record: a 4-byte header length, a JSON header
 * (id, system and application properties) and the body bytes untouched. JSON keeps the
 * format readable in a debugger and V8 parses it faster than a hand-rolled decoder.
 */
import { TandemError } from '../errors.js';
import type { HubMessage } from './message.js';

interface Header {
  readonly i: string;
  readonly s: Record<string, string>;
  readonly p: Record<string, string>;
}

export function encodeMessage(msg: HubMessage): Uint8Array {
  const header: Header = { i: msg.id, s: msg.systemProperties, p: msg.properties };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(4 + headerBytes.length + msg.body.length);
  out.writeUInt32BE(headerBytes.length, 0);
  headerBytes.copy(out, 4);
  out.set(msg.body, 4 + headerBytes.length);
  return out;
}

export function decodeMessage(data: Uint8Array): HubMessage {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 4) throw new TandemError('TANDEM_E_STORE', 'stored message record is truncated');
  const headerLength = buf.readUInt32BE(0);
  if (4 + headerLength > buf.length)
    throw new TandemError('TANDEM_E_STORE', 'stored message header is truncated');
  const header = JSON.parse(buf.toString('utf8', 4, 4 + headerLength)) as Header;
  return {
    id: header.i,
    systemProperties: header.s,
    properties: header.p,
    body: buf.subarray(4 + headerLength),
  };
}
