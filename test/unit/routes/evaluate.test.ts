import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateCondition } from '../../../src/core/routes/index.js';
import {
  conditionError,
  fromModule,
  message,
  propsMessage,
  type Tri,
  telemetry,
  tri,
  where,
} from './helpers.js';

/** Expected results follow edgeHub's Routing.Core semantics (see query/ConditionVisitor.cs and its tests). */
function check(cases: readonly (readonly [string, Tri])[]): void {
  for (const [condition, expected] of cases) assert.equal(tri(condition), expected, condition);
}

test('equality and inequality on numbers, strings, bools and properties', () => {
  check([
    ['3 = 3', 'true'],
    ['3 = 4', 'false'],
    ['"3" = "3"', 'true'],
    ["'3' = '4'", 'false'],
    ['true = true', 'true'],
    ['true = false', 'false'],
    ["key2 = '3'", 'true'],
    ['as_number(key2) = 3', 'true'],
    ['as_number(none) = 3', 'undefined'],
    ["none = 'x'", 'undefined'],
    ['3 != 4', 'true'],
    ['3 <> 3', 'false'],
    ["key2 <> '3'", 'false'],
    ["none != '4'", 'undefined'],
    ['null = null', 'true'],
    ['null != null', 'false'],
    ['undefined = undefined', 'undefined'],
  ]);
});

test('ordering: numbers, ordinal strings, false < true, null, undefined', () => {
  check([
    ['4 < 7', 'true'],
    ['7 < 7', 'false'],
    ['7 <= 7', 'true'],
    ['8 > 7', 'true'],
    ['7 >= 8', 'false'],
    ['3 + 4 <= 7', 'true'],
    ["'a' < 'b'", 'true'],
    ["'B' < 'a'", 'true'],
    ["'b' >= 'a'", 'true'],
    ["'a' < none", 'undefined'],
    ['3 < as_number(none)', 'undefined'],
    ['false < true', 'true'],
    ['null <= null', 'true'],
    ['null < null', 'false'],
    ['undefined < undefined', 'undefined'],
  ]);
});

test('AND, OR, NOT are three-valued (Kleene): false wins AND, true wins OR', () => {
  check([
    ['true AND true', 'true'],
    ['true and false', 'false'],
    ['true OR false', 'true'],
    ['false or false', 'false'],
    ['not true', 'false'],
    ['not (true and false)', 'true'],
    ['true AND not true', 'false'],
    ['undefined or true', 'true'],
    ['true or undefined', 'true'],
    ['undefined or false', 'undefined'],
    ['true and undefined', 'undefined'],
    ['false and undefined', 'false'],
    ['undefined and undefined', 'undefined'],
    ["true or none = 'true'", 'true'],
    ["false or none = 'true'", 'undefined'],
    ["none = 'true' and false", 'false'],
    ["none = 'true' and true", 'undefined'],
    ["not (none = 'true')", 'undefined'],
  ]);
});

test('null in logic: null AND x is null (false), null OR x is x, NOT null is true', () => {
  check([
    ['(null and null) = null', 'true'],
    ['(null and false) = null', 'true'],
    ['(null and true) = null', 'true'],
    ['null or true', 'true'],
    ['null or false', 'false'],
    ['(null or null) = null', 'true'],
    ['not null', 'true'],
  ]);
  assert.equal(evaluateCondition(where('null and true'), propsMessage, telemetry), false);
});

test('arithmetic is IEEE double; NaN is undefined, infinities are defined', () => {
  check([
    ['3 + 4 = 7', 'true'],
    ['3 + 4 * 5 = 23', 'true'],
    ['3 - 4 = -1', 'true'],
    ['1 - -2 = 3', 'true'],
    ['3 - (4 + 0x10) = -17', 'true'],
    ['3 * 4 = 12', 'true'],
    ['3 / 4 = 0.75', 'true'],
    ['4 % 3 = 1', 'true'],
    ['-5 % 3 = -2', 'true'],
    ['-(3 + 4) = -7', 'true'],
    ['- 2 * 3 = -6', 'true'],
    ['3 / 0 = 1e999', 'true'],
    ['-3 / 0 = -1e999', 'true'],
    ['is_defined(3 % 0)', 'false'],
    ['3 % 0 = 3 % 0', 'undefined'],
    ['(3 + as_number(key2)) = 6', 'true'],
    ['is_defined(3 + as_number(none))', 'false'],
    ['is_defined(3 * as_number(key1))', 'false'],
  ]);
});

test('|| concatenates strings; undefined poisons it', () => {
  check([
    ["'a' || 'b' || 'c' = 'abc'", 'true'],
    ["'a' || key1 || 'd' = 'avalue1d'", 'true'],
    ["is_defined('a' || none || 'd')", 'false'],
    ["is_string('a' || 'b')", 'true'],
  ]);
});

test('?? picks the left side when it is defined', () => {
  check([
    ["(key1 ?? 'hello') = 'value1'", 'true'],
    ["(none ?? 'hello') = 'hello'", 'true'],
    ["(none ?? none ?? 'hello') = 'hello'", 'true'],
    ['(as_number(key2) ?? 12.34) = 3', 'true'],
    ['(as_number(key1) ?? 12.34) = 12.34', 'true'],
    ['(3 % 0 ?? 12.34) = 12.34', 'true'],
    ["(none ?? none) = 'value'", 'undefined'],
  ]);
  // Both sides must have one type: the literal undefined only coalesces with undefined.
  assert.match(conditionError("(undefined ?? 'x') = 'x'"), /operator '\?\?': have 'undefined' and 'string'/);
});

test('application properties: bare names, case-insensitive, always strings', () => {
  check([
    ["key1 = 'value1'", 'true'],
    ["KEY1 = 'value1'", 'true'],
    ["key1 = 'value2'", 'false'],
    ["none = 'value1'", 'undefined'],
    ["key1 = 'value2' or key1 = 'value1'", 'true'],
  ]);
  const odd = message({ properties: { constructor: 'c', 'a-b': 'x', 'temp*2': 'y' } });
  assert.equal(tri("constructor = 'c'", odd), 'true');
  assert.equal(tri("toString = 'x'", odd), 'undefined');
  assert.equal(tri("a-b = 'x'", odd), 'true');
  assert.equal(tri("temp*2 = 'y'", odd), 'true');
});

test('$name: an application property "$name" wins; {$name} reads only the system property', () => {
  check([
    ["$sys1 = 'sysvalue1'", 'true'],
    ["$SYS1 = 'sysvalue1'", 'true'],
    ["{$sys1} = 'sysvalue1'", 'true'],
    ["{ $sys1 } = 'sysvalue1'", 'true'],
    ["$sys4 = 'value4'", 'true'],
    ["{$sys4} = 'sysvalue4'", 'true'],
    ["$sys2 = '4'", 'true'],
    ['as_number($sys2) = 4', 'true'],
    ['is_defined($none)', 'false'],
    ['is_defined($sys1[0])', 'false'],
  ]);
});

test('system properties by IoT Hub name, edgeHub aliases, and connection ids from the sender', () => {
  const msg = message({
    properties: { $contentType: 'app-wins' },
    systemProperties: {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      messageId: 'mid-1',
      correlationId: 'cid-1',
      userId: 'user-1',
      to: '/devices/x',
      absoluteExpiryTime: '2030-01-01T00:00:00Z',
      creationTimeUtc: '2024-01-01T00:00:00Z',
      connectionDeviceId: 'spoofed',
    },
  });
  const from = fromModule('filter', 'out1', 'edge1');
  const cases: [string, Tri][] = [
    ["{$contentType} = 'application/json'", 'true'],
    ["$contentType = 'app-wins'", 'true'],
    ["$contentEncoding = 'utf-8'", 'true'],
    ["$messageId = 'mid-1'", 'true'],
    ["$correlationId = 'cid-1'", 'true'],
    ["$cid = 'cid-1'", 'true'],
    ["$userId = 'user-1'", 'true'],
    ["$to = '/devices/x'", 'true'],
    ["$absoluteExpiryTime = '2030-01-01T00:00:00Z'", 'true'],
    ["$absolute-expiry-time = '2030-01-01T00:00:00Z'", 'true'],
    ["$creationTime = '2024-01-01T00:00:00Z'", 'true'],
    ["$connectionDeviceId = 'edge1'", 'true'],
    ["$connectionModuleId = 'filter'", 'true'],
    ["$outputName = 'out1'", 'true'],
    ["$nothing = 'x'", 'undefined'],
  ];
  for (const [condition, expected] of cases) assert.equal(tri(condition, msg, from), expected, condition);
  assert.equal(tri("$connectionDeviceId = 'dev1'", msg, telemetry), 'true');
  assert.equal(tri('is_defined($connectionModuleId)', msg, telemetry), 'false');
  assert.equal(tri('is_defined($outputName)', msg, fromModule('m', '')), 'false');
});

test('a condition that is not exactly true never matches', () => {
  for (const c of ['3', "'a string'", 'undefined', 'null', 'key1', 'none', '$body.x', "none = 'x'"]) {
    assert.equal(evaluateCondition(where(c), propsMessage, telemetry), false, c);
  }
  assert.equal(evaluateCondition(where('true'), propsMessage, telemetry), true);
});
