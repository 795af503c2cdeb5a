import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDotNetNumber } from '../../../src/core/routes/functions.js';
import { conditionError, jsonMessage, type Tri, tri } from './helpers.js';

function check(cases: readonly (readonly [string, Tri])[]): void {
  for (const [condition, expected] of cases) assert.equal(tri(condition), expected, condition);
}

const body = jsonMessage({ n: -2.5, s: 'Hello', b: true, z: null, arr: [1, 2], obj: { a: 1 } });
function checkBody(cases: readonly (readonly [string, Tri])[]): void {
  for (const [condition, expected] of cases) assert.equal(tri(condition, body), expected, condition);
}

test('math: ABS EXP POWER SQUARE CEILING FLOOR SIGN SQRT', () => {
  check([
    ['abs(-12) = 12', 'true'],
    ['ABS(as_number(key2)) = 3', 'true'],
    ['is_defined(abs(as_number(key1)))', 'false'],
    ['is_defined(abs(3 / 0))', 'true'],
    ['is_defined(abs(3 % 0))', 'false'],
    ['exp(0) = 1', 'true'],
    ['abs(exp(1) - 2.718281) < 1e-6', 'true'],
    ['exp(4000) = 3 / 0', 'true'],
    ['power(2, 3) = 8', 'true'],
    ['POWER(10, 4000) = 3 / 0', 'true'],
    ['power(1, 1 / 0) = 1', 'true'],
    ['is_defined(power(2, 3 % 0))', 'false'],
    ['square(3) = 9', 'true'],
    ['ceiling(2.1) = 3', 'true'],
    ['ceiling(-2.1) = -2', 'true'],
    ['floor(-2.1) = -3', 'true'],
    ['floor(2) = 2', 'true'],
    ['sign(0) = 0', 'true'],
    ['sign(-0) = 0', 'true'],
    ['sign(2.1) = 1', 'true'],
    ['sign(-3 / 0) = -1', 'true'],
    ['is_defined(sign(3 % 0))', 'false'],
    ['sqrt(4) = 2', 'true'],
    ['SQRT(-4) = -2', 'undefined'],
    ['is_defined(sqrt(3 / 0))', 'true'],
  ]);
  checkBody([
    ['abs($body.n) = 2.5', 'true'],
    ['floor($body.n) = -3', 'true'],
    ['is_defined(abs($body.s))', 'false'],
    ['power($body.n, 2) = 6.25', 'true'],
  ]);
});

test('AS_NUMBER reads strings as .NET does; numbers pass through', () => {
  check([
    ['as_number("3") = 3', 'true'],
    ["AS_NUMBER('10e10') = 10e10", 'true'],
    ["AS_NUMBER('10e1000') = 1 / 0", 'true'],
    ["AS_NUMBER('10000000000000000000000000') = 1e25", 'true'],
    ['as_number(key2) * 3 = 9', 'true'],
    ['as_number(key1) = 3', 'undefined'],
    ['as_number(as_number(4)) * 3 = 12', 'true'],
    ['is_defined(as_number("apple"))', 'false'],
  ]);
  checkBody([
    ['as_number($body.n) = -2.5', 'true'],
    ['is_defined(as_number($body.b))', 'false'],
  ]);
  assert.equal(parseDotNetNumber(' 1,234.5 '), 1234.5);
  assert.equal(parseDotNetNumber('(5)'), -5);
  assert.equal(parseDotNetNumber('5-'), -5);
  assert.equal(parseDotNetNumber('+.5e1'), 5);
  assert.equal(parseDotNetNumber('-Infinity'), Number.NEGATIVE_INFINITY);
  for (const bad of ['', ' ', '0x10', '1 2', '--1', '(-1)', '+1-', '.', 'e3', 'abc']) {
    assert.ok(Number.isNaN(parseDotNetNumber(bad)), bad);
  }
});

test('type tests: IS_BOOL IS_DEFINED IS_NULL IS_NUMBER IS_STRING', () => {
  check([
    ['is_bool(true)', 'true'],
    ['IS_BOOL(false)', 'true'],
    ['is_bool(12.34)', 'false'],
    ["is_bool('x')", 'false'],
    ['is_bool(none)', 'false'],
    ["is_bool(none = 'x')", 'undefined'],
    ['is_defined(undefined)', 'false'],
    ['is_defined(key1)', 'true'],
    ['is_defined(key4)', 'false'],
    ['is_defined(null)', 'true'],
    ['is_defined(10e1000)', 'true'],
    ['is_defined(undefined and true)', 'false'],
    ['is_null(null)', 'true'],
    ['is_null(12.34)', 'false'],
    ['is_null(none)', 'false'],
    ['is_null(key1)', 'false'],
    ['is_number(12.34)', 'true'],
    ['is_number(3 / 0)', 'false'],
    ["is_number('1')", 'false'],
    ['is_number(as_number(key2))', 'true'],
    ['is_number(as_number(key1))', 'false'],
    ['is_string(key1)', 'true'],
    ['is_string(none)', 'false'],
    ['is_string(12.34)', 'false'],
  ]);
  checkBody([
    ['is_bool($body.b)', 'true'],
    ['is_bool($body.s)', 'false'],
    ['is_bool($body.obj)', 'undefined'],
    ['is_defined($body.z)', 'true'],
    ['is_defined($body.missing)', 'true'],
    ['is_defined($body.obj)', 'false'],
    ['is_null($body.z)', 'true'],
    ['is_null($body.missing)', 'true'],
    ['is_null($body.n)', 'false'],
    ['is_null($body.arr)', 'undefined'],
    ['is_number($body.n)', 'true'],
    ['is_number($body.s)', 'false'],
    ['is_string($body.s)', 'true'],
    ['is_string($body.z)', 'false'],
  ]);
});

test('strings: CONCAT LENGTH LOWER UPPER SUBSTRING INDEX_OF STARTS_WITH ENDS_WITH CONTAINS', () => {
  check([
    ["concat('a', 'b', 'c', 'd') = 'abcd'", 'true'],
    ["concat('a', key1, 'd') = 'avalue1d'", 'true'],
    ["is_defined(concat('a', none, 'd'))", 'false'],
    ["length('HELLO') = 5", 'true'],
    ["LENGTH('') = 0", 'true'],
    ['is_defined(length(none))', 'false'],
    ["lower('HELLO') = 'hello'", 'true'],
    ["upper(key1) = 'VALUE1'", 'true'],
    ['is_defined(upper(none))', 'false'],
    ["substring('abc', 1) = 'bc'", 'true'],
    ["SUBSTRING('abc', 3) = ''", 'true'],
    ["SUBSTRING('abc', 4) = 'c'", 'undefined'],
    ["substring('abc', -1) = ''", 'undefined'],
    ["substring('abc', 1.7) = 'bc'", 'true'],
    ["substring('abc', 1 % 0) = ''", 'undefined'],
    ["substring('abc', 1, 1) = 'b'", 'true'],
    ["substring('abc', 1, 0) = ''", 'true'],
    ["substring('abc', 3, 0) = ''", 'undefined'],
    ["substring('abc', 1, -2) = ''", 'undefined'],
    ["substring('abc', 1, 3) = 'bc'", 'undefined'],
    ["substring('hello', 4, 1) = 'o'", 'true'],
    ["substring(none, 1, 1) = 'a'", 'undefined'],
    ["index_of('abcdef', 'cd') = 2", 'true'],
    ["index_of('abc', 'xz') = -1", 'true'],
    ["index_of('abc', '') = 0", 'true'],
    ["index_of(none, '1') = 0", 'undefined'],
    ["starts_with('abc', 'ab')", 'true'],
    ["starts_with('abc', 'AB')", 'false'],
    ["STARTS_WITH(key1, 'val')", 'true'],
    ["starts_with(none, '1')", 'undefined'],
    ["ends_with('abc', 'bc')", 'true'],
    ["ends_with('abc', key1)", 'false'],
    ["ends_with(none, 'x')", 'undefined'],
    ["contains('value1value1', key1)", 'true'],
    ["contains('abc', 'xz')", 'false'],
    ["contains(none, '1')", 'undefined'],
  ]);
  checkBody([
    ["upper($body.s) = 'HELLO'", 'true'],
    ['length($body.s) = 5', 'true'],
    ['is_defined(length($body.n))', 'false'],
    ["contains($body.s, 'ell')", 'true'],
    ["contains($body.n, 'x')", 'undefined'],
    ["concat($body.s, '!') = 'Hello!'", 'true'],
    ['is_defined(concat($body.s, $body.n))', 'false'],
    ["substring($body.s, $body.arr[0]) = 'ello'", 'true'],
  ]);
});

test('argument types are checked when the route is parsed, as in edgeHub', () => {
  const rejected = [
    'abs(null) = 1',
    'abs(undefined) = 1',
    'abs(true) = 1',
    'abs(key1) = 1',
    'power(2, key1) = 1',
    "concat('a', 3) = 'a'",
    "concat('a', null) = 'a'",
    "concat('a', undefined) = 'a'",
    'length(12.34) = 1',
    "lower(null) = 'x'",
    "substring('hello', 'a') = 'x'",
    "index_of('hello', 12.34) = 1",
    "starts_with(true, 'x')",
    "ends_with('x', undefined)",
    'contains(null, null)',
    'as_number(null) = 1',
  ];
  for (const c of rejected) assert.match(conditionError(c), /invalid arguments to function/, c);
  assert.match(conditionError("concat() = 'x'"), /function concat takes at least 2 arguments, found 0/);
  assert.match(conditionError("index_of('a', 'b', 'c') = 1"), /function index_of takes 2 arguments, found 3/);
});
