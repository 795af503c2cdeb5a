/** The test KeyValue follows the store contract the registry relies on. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTandemError } from '../../../src/errors.js';
import { MemoryKeyValue } from '../../support/memory-kv.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : Buffer.from(b).toString('utf8');

function conflict(err: unknown): boolean {
  assert.ok(
    isTandemError(err, 'TANDEM_E_STORE_CONFLICT'),
    `expected TANDEM_E_STORE_CONFLICT, got ${String(err)}`,
  );
  return true;
}

describe('MemoryKeyValue', () => {
  it('stores, reads and increases revisions on every write', async () => {
    const kv = new MemoryKeyValue();
    const r1 = await kv.put('a', bytes('1'));
    const r2 = await kv.put('a', bytes('2'));
    assert.ok(r2 > r1);
    const e = await kv.get('a');
    assert.deepEqual(
      { key: e?.key, value: text(e?.value), revision: e?.revision },
      { key: 'a', value: '2', revision: r2 },
    );
    assert.equal(await kv.get('missing'), undefined);
  });

  it('creates only if absent with expectedRevision 0', async () => {
    const kv = new MemoryKeyValue();
    await kv.put('a', bytes('1'), { expectedRevision: 0 });
    await assert.rejects(kv.put('a', bytes('2'), { expectedRevision: 0 }), conflict);
    assert.equal(text((await kv.get('a'))?.value), '1');
  });

  it('compares and sets on the current revision', async () => {
    const kv = new MemoryKeyValue();
    const r1 = await kv.put('a', bytes('1'));
    const r2 = await kv.put('a', bytes('2'), { expectedRevision: r1 });
    await assert.rejects(kv.put('a', bytes('3'), { expectedRevision: r1 }), conflict);
    await assert.rejects(kv.delete('a', { expectedRevision: r1 }), conflict);
    assert.equal(await kv.delete('a', { expectedRevision: r2 }), true);
    assert.equal(await kv.delete('a'), false);
    await kv.put('a', bytes('again'), { expectedRevision: 0 });
  });

  it('lists by prefix, sorted, and copies values in and out', async () => {
    const kv = new MemoryKeyValue();
    const value = bytes('v');
    await kv.put('p/b', value);
    await kv.put('p/a', bytes('w'));
    await kv.put('q', bytes('x'));
    value[0] = 0;
    const listed = await kv.list('p/');
    assert.deepEqual(
      listed.map((e) => [e.key, text(e.value)]),
      [
        ['p/a', 'w'],
        ['p/b', 'v'],
      ],
    );
    listed[0]?.value.fill(0);
    assert.equal(text((await kv.get('p/a'))?.value), 'w');
  });
});
