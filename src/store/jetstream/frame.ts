/**
 * The binary frame of one log batch: every item of every append that one group commit
 * flushed, in one JetStream message. One message is one replicated write, and a message is
 * stored whole or not at all, so a multi-item append is atomic.
 *
 *   u8  version (1)
 *   u32 nameCount,  then per name:  u16 byteLength | utf8 stream name
 *   u32 blobCount,  then per blob:  u32 byteLength | bytes
 *   u32 itemCount,  then per item:  u32 nameIndex | u32 blobIndex | f64 expiresAtMs
 *   (all big-endian)
 *
 * Names and payloads are tables, referenced by index: the hub appends one message to every
 * endpoint a route selects with the *same* Uint8Array as data, so a 256 KB message routed to
 * five endpoints costs 256 KB once, not five times (deduplicated by identity, no hashing).
 *
 * Item k of the batch stored at stream sequence J has the log seq J * 65536 + k
 * (see seqs.ts), hence at most 65536 items per frame.
 */
import { assert, TandemError } from '../../errors.js';
import type { AppendItem } from '../types.js';

export const frameVersion = 1;
/** Items one frame may carry: the low 16 bits of a log seq number them. */
export const frameItemsMax = 65536;
/** Stream names as in the embedded store: a name is a key (trims), longer ones are a bug. */
export const streamNameBytesMax = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const headerBytes = 1 + 4 + 4 + 4;
const itemBytes = 4 + 4 + 8;

/** An item checked and with its name encoded, ready to go into a frame. */
export interface PreparedItem {
  readonly stream: string;
  readonly name: Uint8Array;
  readonly data: Uint8Array;
  readonly expiresAtMs: number;
}

export interface DecodedItem {
  readonly stream: string;
  readonly data: Uint8Array;
  readonly expiresAtMs: number;
}

export interface DecodedBatch {
  readonly items: readonly DecodedItem[];
  /** Bytes the batch holds in memory (its frame), for the cache's bound. */
  readonly bytes: number;
}

/** Checks one item; throws TANDEM_E_ASSERT (a caller's bug) before anything is published. */
export function prepareItem(item: AppendItem): PreparedItem {
  assert(typeof item === 'object' && item !== null, 'append item is an object');
  assert(item.data instanceof Uint8Array, 'append item data is a Uint8Array');
  assert(typeof item.stream === 'string', 'append item stream is a string');
  assert(Number.isFinite(item.expiresAtMs) && item.expiresAtMs >= 0, 'expiresAtMs is a finite number >= 0');
  const name = encoder.encode(item.stream);
  assert(
    name.length > 0 && name.length <= streamNameBytesMax,
    `stream name must be 1..${streamNameBytesMax} UTF-8 bytes`,
  );
  return { stream: item.stream, name, data: item.data, expiresAtMs: item.expiresAtMs };
}

/**
 * Accumulates items into one frame, counting its exact encoded size as it grows, so the
 * group commit can stop before the server's max_payload.
 */
export class FrameBuilder {
  readonly #names = new Map<string, number>();
  readonly #nameList: Uint8Array[] = [];
  readonly #blobs = new Map<Uint8Array, number>();
  readonly #blobList: Uint8Array[] = [];
  readonly #items: { name: number; blob: number; expiresAtMs: number }[] = [];
  #bytes = headerBytes;

  get bytes(): number {
    return this.#bytes;
  }

  get itemCount(): number {
    return this.#items.length;
  }

  /** Bytes the frame would grow by with `items` (names and payloads it already has are free). */
  growthOf(items: readonly PreparedItem[]): number {
    let grow = items.length * itemBytes;
    const names = new Set<string>();
    const blobs = new Set<Uint8Array>();
    for (const it of items) {
      if (!this.#names.has(it.stream) && !names.has(it.stream)) {
        names.add(it.stream);
        grow += 2 + it.name.length;
      }
      if (!this.#blobs.has(it.data) && !blobs.has(it.data)) {
        blobs.add(it.data);
        grow += 4 + it.data.length;
      }
    }
    return grow;
  }

  add(items: readonly PreparedItem[]): void {
    for (const it of items) {
      let name = this.#names.get(it.stream);
      if (name === undefined) {
        name = this.#nameList.push(it.name) - 1;
        this.#names.set(it.stream, name);
        this.#bytes += 2 + it.name.length;
      }
      let blob = this.#blobs.get(it.data);
      if (blob === undefined) {
        blob = this.#blobList.push(it.data) - 1;
        this.#blobs.set(it.data, blob);
        this.#bytes += 4 + it.data.length;
      }
      this.#items.push({ name, blob, expiresAtMs: it.expiresAtMs });
      this.#bytes += itemBytes;
    }
    assert(this.#items.length <= frameItemsMax, 'a frame holds at most 65536 items');
  }

  encode(): Uint8Array {
    const out = new Uint8Array(this.#bytes);
    const view = new DataView(out.buffer);
    let at = 0;
    view.setUint8(at, frameVersion);
    at += 1;
    at = writeTable(out, view, at, this.#nameList, 2);
    at = writeTable(out, view, at, this.#blobList, 4);
    view.setUint32(at, this.#items.length);
    at += 4;
    for (const it of this.#items) {
      view.setUint32(at, it.name);
      view.setUint32(at + 4, it.blob);
      view.setFloat64(at + 8, it.expiresAtMs);
      at += itemBytes;
    }
    assert(at === out.length, 'frame size computed exactly');
    return out;
  }
}

function writeTable(
  out: Uint8Array,
  view: DataView,
  start: number,
  list: Uint8Array[],
  width: 2 | 4,
): number {
  let at = start;
  view.setUint32(at, list.length);
  at += 4;
  for (const entry of list) {
    if (width === 2) view.setUint16(at, entry.length);
    else view.setUint32(at, entry.length);
    at += width;
    out.set(entry, at);
    at += entry.length;
  }
  return at;
}

function corrupt(why: string): TandemError {
  return new TandemError('TANDEM_E_STORE', `a log batch is not a Tandem frame: ${why}`);
}

/** Decodes a frame; payloads are views into `frame` (callers copy before handing them out). */
export function decodeFrame(frame: Uint8Array): DecodedBatch {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > frame.length) throw corrupt('truncated');
  };
  need(1);
  if (view.getUint8(0) !== frameVersion) throw corrupt(`version ${view.getUint8(0)}`);
  at = 1;
  const readTable = (width: 2 | 4): Uint8Array[] => {
    need(4);
    const n = view.getUint32(at);
    at += 4;
    const list: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      need(width);
      const len = width === 2 ? view.getUint16(at) : view.getUint32(at);
      at += width;
      need(len);
      list.push(frame.subarray(at, at + len));
      at += len;
    }
    return list;
  };
  const names = readTable(2).map((n) => decoder.decode(n));
  const blobs = readTable(4);
  need(4);
  const count = view.getUint32(at);
  at += 4;
  if (count > frameItemsMax) throw corrupt(`${count} items`);
  need(count * itemBytes);
  const items: DecodedItem[] = [];
  for (let i = 0; i < count; i++, at += itemBytes) {
    const stream = names[view.getUint32(at)];
    const data = blobs[view.getUint32(at + 4)];
    if (stream === undefined || data === undefined) throw corrupt('an item points past a table');
    items.push({ stream, data, expiresAtMs: view.getFloat64(at + 8) });
  }
  if (at !== frame.length) throw corrupt('trailing bytes');
  return { items, bytes: frame.byteLength };
}
