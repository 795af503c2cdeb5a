import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseManifestText } from '../../../src/core/manifest/index.js';
import { jsonDepthMax } from '../../../src/core/manifest/json-text.js';
import { isTandemError } from '../../../src/errors.js';
import { manifestErrorOf } from './helpers.js';

const messageOf = (text: string) => manifestErrorOf(() => parseManifestText(text)).message;

test('reads what JSON.parse reads, for generated JSON in compact and indented form', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      for (const text of [JSON.stringify(value), JSON.stringify(value, null, 2)]) {
        assert.deepEqual(parseManifestText(text), JSON.parse(text));
      }
    }),
  );
});

test('duplicate keys are errors at the path of the second one, at any depth', () => {
  assert.equal(messageOf('{"a": 1, "a": 2}'), '$.a: line 1, column 10: duplicate key');
  assert.equal(messageOf('{"x": [{}, {"k": 1,\n "k": 1}]}'), '$.x[1].k: line 2, column 2: duplicate key');
  assert.equal(
    messageOf('{"m": {"odd key": 1, "odd key": 2}}'),
    "$.m['odd key']: line 1, column 22: duplicate key",
  );
  // Keys equal after unescaping are the same key.
  assert.equal(messageOf('{"ab": 1, "a\\u0062": 2}'), '$.ab: line 1, column 11: duplicate key');
});

test('syntax errors name the path, line and column', () => {
  const cases: [string, string][] = [
    ['', '$: line 1, column 1: expected a JSON value, found the end of the text'],
    ['{"a": 1', "$: line 1, column 8: expected ',' or '}' after an object member, found the end of the text"],
    ['{\n  "a": [1, 2,]\n}', "$.a: line 2, column 14: trailing comma (not JSON), found ']'"],
    ['{"a": 1,}', "$: line 1, column 9: trailing comma (not JSON), found '}'"],
    ["{'a': 1}", "$: line 1, column 2: expected a \"quoted\" key, found ''a': 1}'"],
    ['{"a" 1}', "$.a: line 1, column 6: expected ':' after the key, found '1}'"],
    ['{"a": 01}', "$.a: line 1, column 7: invalid number, found '01}'"],
    ['{"a": 1.}', "$.a: line 1, column 7: invalid number, found '1.}'"],
    ['{"a": NaN}', "$.a: line 1, column 7: expected a JSON value, found 'NaN}'"],
    ['{"a": 1e400}', "$.a: line 1, column 7: number out of range, found '1e400}'"],
    [
      '{"a": "x\ny"}',
      '$.a: line 1, column 9: control characters in a string must be escaped, found control character U+000a',
    ],
    ['{"a": "\\q"}', "$.a: line 1, column 8: invalid escape in a string, found '\\q\"}'"],
    ['{"a": "\\u12"}', "$.a: line 1, column 8: expected 4 hex digits after \\u, found '\\u12\"}'"],
    ['{"a": "open', '$.a: line 1, column 12: unterminated string, found the end of the text'],
    ['[1] [2]', "$: line 1, column 5: unexpected text after the JSON value, found '[2]'"],
    ['// comment\n{}', "$: line 1, column 1: expected a JSON value, found '// comment'"],
  ];
  for (const [text, message] of cases) assert.equal(messageOf(text), message, JSON.stringify(text));
});

test('the error details carry path, line and column', () => {
  const e = manifestErrorOf(() => parseManifestText('{\n  "modulesContent": {\n    "x": tru\n  }\n}'));
  assert.equal(e.path, '$.modulesContent.x');
  assert.deepEqual(e.errors, [
    {
      path: '$.modulesContent.x',
      expected: "line 3, column 10: expected a JSON value, found 'tru'",
      line: 3,
      column: 10,
    },
  ]);
});

test('nesting is bounded: the limit parses, one more level is an error', () => {
  const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
  assert.doesNotThrow(() => parseManifestText(nested(jsonDepthMax)));
  const message = messageOf(nested(jsonDepthMax + 1));
  assert.match(message, new RegExp(`column ${jsonDepthMax + 1}: nested deeper than ${jsonDepthMax} levels$`));
  // Far deeper text fails the same way instead of exhausting the stack.
  assert.match(messageOf(nested(100_000)), /nested deeper than/);
});

test('a byte order mark is skipped; "__proto__" stays an ordinary key', () => {
  const value = parseManifestText('\ufeff{"a": {"__proto__": {"polluted": true}}}') as Record<
    string,
    Record<string, unknown>
  >;
  assert.deepEqual(Object.keys(value.a ?? {}), ['__proto__']);
  assert.equal(Object.getPrototypeOf(value.a), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(value, JSON.parse('{"a": {"__proto__": {"polluted": true}}}'));
});

test('on damaged JSON it never accepts what JSON.parse refuses, and refuses only for a stated reason', () => {
  const damage = fc.tuple(fc.json(), fc.nat(), fc.constantFrom(...'{}[],:"\\ 0-.eE1tfnu'.split('')));
  fc.assert(
    fc.property(damage, ([text, at, ch]) => {
      const i = at % (text.length + 1);
      const damaged = text.slice(0, i) + ch + text.slice(i);
      let expected: unknown;
      let jsonOk = true;
      try {
        expected = JSON.parse(damaged);
      } catch {
        jsonOk = false;
      }
      try {
        const value = parseManifestText(damaged);
        assert.ok(jsonOk, `accepted ${JSON.stringify(damaged)}, which JSON.parse refuses`);
        assert.deepEqual(value, expected);
      } catch (err) {
        if (!isTandemError(err, 'TANDEM_E_MANIFEST')) throw err;
        if (jsonOk) assert.match(err.message, /duplicate key|number out of range/, err.message);
      }
    }),
    { numRuns: 500 },
  );
});
