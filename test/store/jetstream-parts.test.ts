/**
 * The JetStream store's parts that need no server: the batch frame, key escaping, the
 * in-memory index, the order in which batches become readable, and the batch cache.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BatchCache } from '../../src/store/jetstream/batch-cache.js';
import {
  type DecodedBatch,
  decodeFrame,
  FrameBuilder,
  prepareItem,
} from '../../src/store/jetstream/frame.js';
import { escapeKey, escapeKeyPrefix, unescapeKey } from '../../src/store/jetstream/kv-keys.js';
import { LogIndex } from '../../src/store/jetstream/log-index.js';
import { LogView } from '../../src/store/jetstream/log-view.js';
import { batchOf, indexOf, itemSeq } from '../../src/store/jetstream/seqs.js';

const bytes = (...v: number[]) => new Uint8Array(v);
const quiet = () => undefined;

function frameOf(items: { stream: string; data: Uint8Array; expiresAtMs?: number }[]): Uint8Array {
  const b = new FrameBuilder();
  b.add(items.map((i) => prepareItem({ stream: i.stream, data: i.data, expiresAtMs: i.expiresAtMs ?? 0 })));
  return b.encode();
}

describe('jetstream frame', () => {
  test('round trips items in order, sharing names and identical payload objects', () => {
    const shared = new Uint8Array(1000).fill(5);
    const frame = frameOf([
      { stream: 'ep/a', data: shared, expiresAtMs: 1_700_000_000_123 },
      { stream: 'ep/b', data: shared },
      { stream: 'ep/a', data: bytes() },
      { stream: 'ünï/cödé', data: bytes(0, 255) },
    ]);
    assert.ok(frame.length < 1200, `the shared payload is stored once (${frame.length} bytes)`);
    const { items } = decodeFrame(frame);
    assert.deepEqual(
      items.map((i) => [i.stream, [...i.data].length, i.expiresAtMs]),
      [
        ['ep/a', 1000, 1_700_000_000_123],
        ['ep/b', 1000, 0],
        ['ep/a', 0, 0],
        ['ünï/cödé', 2, 0],
      ],
    );
  });

  test('the builder knows the exact size before encoding', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ stream: fc.string({ minLength: 1, maxLength: 20 }), data: fc.uint8Array() }), {
          minLength: 1,
          maxLength: 30,
        }),
        (items) => {
          const b = new FrameBuilder();
          const prepared = items.map((i) => prepareItem({ ...i, expiresAtMs: 0 }));
          const predicted = b.bytes + b.growthOf(prepared);
          b.add(prepared);
          const frame = b.encode();
          assert.equal(frame.length, predicted);
          const decoded = decodeFrame(frame).items;
          assert.deepEqual(
            decoded.map((d) => [d.stream, [...d.data]]),
            items.map((i) => [i.stream, [...i.data]]),
          );
        },
      ),
    );
  });

  test('bad items and bad frames are refused', () => {
    assert.throws(() => prepareItem({ stream: '', data: bytes(1), expiresAtMs: 0 }), {
      code: 'TANDEM_E_ASSERT',
    });
    assert.throws(() => prepareItem({ stream: 's', data: 'x' as unknown as Uint8Array, expiresAtMs: 0 }));
    assert.throws(() => prepareItem({ stream: 's', data: bytes(), expiresAtMs: Number.NaN }));
    const frame = frameOf([{ stream: 's', data: bytes(1, 2, 3) }]);
    assert.throws(() => decodeFrame(frame.subarray(0, frame.length - 1)), { code: 'TANDEM_E_STORE' });
    assert.throws(() => decodeFrame(new TextEncoder().encode('{"json":true}')), { code: 'TANDEM_E_STORE' });
  });

  test('seqs number items within their batch', () => {
    const seq = itemSeq(2 ** 37 - 1, 65535);
    assert.ok(Number.isSafeInteger(seq));
    assert.equal(batchOf(seq), 2 ** 37 - 1);
    assert.equal(indexOf(seq), 65535);
    assert.equal(itemSeq(1, 0), 65536);
  });
});

describe('jetstream key escaping', () => {
  test('examples stay readable and become valid NATS KV keys', () => {
    assert.equal(escapeKey('twin/edge1/$edgeAgent'), 'twin/edge1/=24edgeAgent');
    assert.equal(escapeKey('session/dev:1'), 'session/dev=3A1');
    assert.equal(escapeKey('a.b=c'), 'a=2Eb=3Dc');
    assert.throws(() => escapeKey(''), { code: 'TANDEM_E_ASSERT' });
  });

  test('reversible, one token of allowed characters, prefix-preserving', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
        fc.string({ maxLength: 10 }),
        (k, more) => {
          const e = escapeKey(k);
          assert.match(e, /^[-/_=a-zA-Z0-9]+$/);
          assert.equal(unescapeKey(e), k);
          assert.ok(escapeKeyPrefix(k + more).startsWith(escapeKeyPrefix(k)));
        },
      ),
    );
  });

  test('escaped prefixes match exactly the keys with that prefix', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), (k, p) => {
        assert.equal(escapeKey(k).startsWith(escapeKeyPrefix(p)), k.startsWith(p));
      }),
    );
  });
});

describe('jetstream log index', () => {
  test('keeps each stream sorted when batches arrive out of order, and trims', () => {
    const index = new LogIndex();
    for (const s of [itemSeq(3, 0), itemSeq(5, 1), itemSeq(4, 0), itemSeq(1, 2)]) index.insert('x', s, s);
    assert.deepEqual(
      index.range('x', 0, 10).map((e) => e.seq),
      [itemSeq(1, 2), itemSeq(3, 0), itemSeq(4, 0), itemSeq(5, 1)],
    );
    assert.equal(index.count('x', itemSeq(3, 0)), 2);
    assert.equal(index.lowestBatch(), 1);
    assert.ok(index.trim('x', itemSeq(3, 0)));
    assert.ok(!index.trim('x', itemSeq(2, 0)), 'trims only move forward');
    assert.ok(!index.insert('x', itemSeq(2, 0), 0), 'a trimmed position never comes back');
    assert.deepEqual(
      index.range('x', 0, 1).map((e) => e.seq),
      [itemSeq(4, 0)],
    );
    index.dropBatch(4);
    assert.deepEqual(
      index.range('x', 0, 10).map((e) => e.seq),
      [itemSeq(5, 1)],
    );
    index.trim('x', itemSeq(9, 0));
    assert.deepEqual(index.streams(), []);
    assert.equal(index.lowestBatch(), undefined);
  });

  test('long trimmed fronts are compacted without losing order', () => {
    const index = new LogIndex();
    for (let j = 1; j <= 5000; j++) index.insert('q', itemSeq(j, 0), 0);
    index.trim('q', itemSeq(3000, 0));
    index.insert('q', itemSeq(6000, 0), 0);
    assert.equal(index.count('q', 0), 2001);
    assert.equal(index.range('q', 0, 1)[0]!.seq, itemSeq(3001, 0));
  });
});

function batch(...streams: string[]): DecodedBatch {
  return decodeFrame(frameOf(streams.map((stream) => ({ stream, data: bytes(1) }))));
}

describe('jetstream log view', () => {
  test('an own batch waits for the batches below it, then both are readable in log order', async () => {
    const view = new LogView(new LogIndex(), new BatchCache(1 << 20), 10, quiet);
    const seen: string[][] = [];
    view.watch((s) => seen.push([...s]));
    // Ours at 12, while another replica's 11 has not reached the tailer yet.
    let readable = false;
    const ours = view.ownAcked(12, batch('x')).then(() => {
      readable = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(readable, false);
    assert.equal(view.index.count('x', 0), 0, 'not readable before the batch below it');
    view.tailed(
      11,
      frameOf([
        { stream: 'x', data: bytes(2) },
        { stream: 'y', data: bytes(3) },
      ]),
    );
    await ours;
    assert.deepEqual(seen, [['x', 'y'], ['x']]);
    assert.deepEqual(
      view.index.range('x', 0, 10).map((e) => e.seq),
      [itemSeq(11, 0), itemSeq(12, 0)],
    );
    view.tailed(12, frameOf([{ stream: 'x', data: bytes(1) }]));
    assert.equal(view.index.count('x', 0), 2, 'the tailer skips what was inserted at the ack');
    await view.ownAcked(13, batch('z'));
    assert.equal(view.readable, 13, 'a single writer reads its own batch at once');
  });

  test('nothing below the oldest live record or above what was read is purgeable', () => {
    const view = new LogView(new LogIndex(), new BatchCache(1 << 20), 0, quiet);
    assert.equal(view.purgeableBelow(), 1);
    view.tailed(1, frameOf([{ stream: 'a', data: bytes(1) }]));
    view.tailed(2, frameOf([{ stream: 'b', data: bytes(1) }]));
    assert.equal(view.purgeableBelow(), 1);
    view.index.trim('a', itemSeq(1, 0));
    assert.equal(view.purgeableBelow(), 2);
    view.index.trim('b', itemSeq(2, 0));
    assert.equal(view.purgeableBelow(), 3);
  });

  test('a message that is not a frame is skipped, the log goes on', () => {
    const view = new LogView(new LogIndex(), new BatchCache(1 << 20), 0, quiet);
    view.tailed(1, bytes(9, 9, 9));
    view.tailed(2, frameOf([{ stream: 'a', data: bytes(1) }]));
    assert.equal(view.readable, 2);
    assert.equal(view.index.count('a', 0), 1);
  });
});

describe('jetstream batch cache', () => {
  test('evicts the least recently used batches past its byte bound', () => {
    const cache = new BatchCache(100);
    const sized = (bytesHeld: number): DecodedBatch => ({ items: [], bytes: bytesHeld });
    cache.set(1, sized(40));
    cache.set(2, sized(40));
    cache.get(1);
    cache.set(3, sized(40));
    assert.ok(cache.get(1));
    assert.equal(cache.get(2), undefined);
    assert.ok(cache.get(3));
    assert.equal(cache.bytes, 80);
    cache.set(4, sized(1000));
    assert.equal(cache.get(4), undefined, 'a batch larger than the bound is not cached');
  });
});
