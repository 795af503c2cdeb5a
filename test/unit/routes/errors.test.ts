import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRoute } from '../../../src/core/routes/index.js';
import { limits } from '../../../src/limits.js';
import { conditionError, syntaxError } from './helpers.js';

/** [route text, line, column, message after the position]. */
const malformed: [string, number, number, string][] = [
  ['FORM /messages/* INTO $upstream', 1, 1, "expected FROM, found 'FORM'"],
  ['', 1, 1, 'expected FROM, found end of route'],
  ['SELECT FROM /messages/modules/adapter INTO $upstream', 1, 8, "expected '*' after SELECT, found 'FROM'"],
  [
    'FROM INTO $upstream',
    1,
    6,
    "expected a source path starting with '/', such as /messages/*, found 'INTO'",
  ],
  ['FROM /messages/ INTO $upstream', 1, 17, "expected a path segment or '*', found 'INTO'"],
  ['FROM /messages/* WHERE a = 1 INTO2 $upstream', 1, 30, "expected INTO, found 'INTO2'"],
  ['FROM /messages/* INTOO $upstream', 1, 18, "expected WHERE or INTO, found 'INTOO'"],
  ['FROM /messages WHERE temp == 100 INTO $upstream', 1, 28, "expected an expression, found '='"],
  ['FROM /messages WHERE INTO $upstream', 1, 22, "expected an expression, found 'INTO'"],
  [
    "FROM /messages WHERE temp = 'high' INTO",
    1,
    40,
    'expected $upstream or BrokeredEndpoint("/modules/{module}/inputs/{input}"), found end of route',
  ],
  [
    'FROM /messages INTO brokeredEndpoint("/modules/alertLogic/inputs/in"',
    1,
    69,
    "expected ')' after the endpoint address, found end of route",
  ],
  [`FROM /* INTO brokeredEndpoint("/modules/alertLogic/inputs/in')`, 1, 31, 'unterminated string'],
  ['FROM /messages INTO upstream', 1, 29, "expected '(' after upstream, found end of route"],
  ['FROM /messages INTO $downstream', 1, 21, "unsupported system endpoint '$downstream', expected $upstream"],
  [
    'FROM /messages INTO Endpoint("/modules/a/inputs/b")',
    1,
    21,
    "unknown endpoint function 'Endpoint', expected BrokeredEndpoint",
  ],
  [
    'FROM /messages INTO BrokeredEndpoint("/modules/a/input/b")',
    1,
    38,
    "endpoint address '/modules/a/input/b' is not of the form /modules/{moduleId}/inputs/{inputName}",
  ],
  [
    'FROM /messages INTO BrokeredEndpoint("/modules//inputs/b")',
    1,
    38,
    "endpoint address '/modules//inputs/b' is not of the form /modules/{moduleId}/inputs/{inputName}",
  ],
  [
    "FROM /messages/* INTO $upstream WHERE a = 'b'",
    1,
    33,
    "expected end of route after the endpoint, found 'WHERE'",
  ],
  [
    'FROM /* WHERE (2 + 22 = 24 INTO $upstream',
    1,
    28,
    "expected ')' to close the '(' at line 1, column 15, found 'INTO'",
  ],
  ['FROM /* WHERE (2 + 22 )) = 24 INTO $upstream', 1, 24, "unmatched closing ')'"],
  ['FROM /* WHERE @32 = 32 INTO $upstream', 1, 15, "invalid symbol '@'"],
  ['FROM /* WHERE 32 = 32; INTO $upstream', 1, 22, "invalid symbol ';'"],
  [
    'FROM /* WHERE 32 = [32] INTO $upstream',
    1,
    20,
    "unexpected '[32]': '[' and ']' may appear only in $body queries",
  ],
  [`FROM /* WHERE "unterminated = 'x' INTO $upstream`, 1, 15, 'unterminated string'],
  [
    'FROM /* WHERE abs(1 2) = 1 INTO $upstream',
    1,
    21,
    "expected ',' or ')' in the arguments of abs, found '2'",
  ],
  [
    'FROM /* WHERE {contentType} = 1 INTO $upstream',
    1,
    16,
    "expected a system property such as $contentType after {, found 'contentType'",
  ],
];

test('malformed routes report the first offending token, 1-based, and what was expected', () => {
  for (const [text, line, column, what] of malformed) {
    const err = syntaxError(text, 'r1');
    assert.equal(err.message, `route "r1": line ${line}, column ${column}: ${what}`, text);
    assert.deepEqual(err.details, { route: 'r1', line, column, text }, text);
  }
});

test('an unnamed route says just "route"', () => {
  assert.equal(
    syntaxError('FROM /x INTO $nowhere').message,
    "route: line 1, column 14: unsupported system endpoint '$nowhere', expected $upstream",
  );
});

test('multi-line routes report the line of the problem', () => {
  const text = 'FROM /messages/*\nWHERE $body.temperature > 30\n  AND nope($body.x)\nINTO $upstream';
  const err = syntaxError(text, 'hot');
  assert.equal(err.message, `route "hot": line 3, column 7: unknown function 'nope'`);
  assert.equal(err.details.line, 3);
  assert.equal(err.details.column, 7);
  const crlf = syntaxError("FROM /messages/*\r\nWHERE a = 'x'\r\n   INT $upstream", 'w');
  assert.equal(crlf.message, `route "w": line 3, column 4: expected INTO, found 'INT'`);
});

test('type errors are syntax errors at the operator or function, as in edgeHub', () => {
  const cases: [string, string][] = [
    // "FROM /* WHERE " is 14 characters, so the condition starts at column 15.
    [
      'temperature > 30',
      "line 1, column 27: invalid operands to binary operator '>': have 'string' and 'number', expected 'string' and 'string' (properties are strings; compare with a string or use AS_NUMBER)",
    ],
    [
      "3 + '4' = 7",
      "line 1, column 17: invalid operands to binary operator '+': have 'number' and 'string', expected 'number' and 'number' (properties are strings; use AS_NUMBER)",
    ],
    ['nope(true) = true', "line 1, column 15: unknown function 'nope'"],
    [
      "twin_change_includes('properties.desired')",
      "line 1, column 15: unknown function 'twin_change_includes'",
    ],
    ['abs(1, 2) = 1', 'line 1, column 15: function abs takes 1 argument, found 2'],
    ["concat('a') = 'a'", 'line 1, column 15: function concat takes at least 2 arguments, found 1'],
    ["substring('a') = 'a'", 'line 1, column 15: function substring takes 2 or 3 arguments, found 1'],
    [
      'as_number(true) = 1',
      'line 1, column 15: invalid arguments to function as_number: have as_number(bool), expected AS_NUMBER(string) or AS_NUMBER(number)',
    ],
    [
      "UPPER(3) = 'x'",
      'line 1, column 15: invalid arguments to function UPPER: have UPPER(number), expected UPPER(string)',
    ],
    [
      "NOT key1 = 'x'",
      "line 1, column 15: invalid operand to unary operator 'NOT': have 'string', expected 'bool' (NOT binds tighter than '=': write NOT (a = b))",
    ],
    [
      '- key1 = 1',
      "line 1, column 15: invalid operand to unary operator '-': have 'string', expected 'number'",
    ],
    ['- $body.x = 1', "line 1, column 15: unary '-' does not take a $body value; write 0 - x"],
    [
      '$body.x % 2 = 1',
      "line 1, column 23: operator '%' does not take a $body value; wrap it in AS_NUMBER()",
    ],
    [
      "'a' AND true",
      "line 1, column 19: invalid operands to binary operator 'AND': have 'string' and 'bool', expected 'bool' and 'bool'",
    ],
    [
      'true AND $body.flag',
      "line 1, column 20: invalid operands to binary operator 'AND': have 'bool' and '$body value', expected 'bool' and 'bool' (edgeHub needs an explicit test on the right, e.g. $body.flag = true)",
    ],
    [
      'null AND $body.flag',
      "line 1, column 20: invalid operands to binary operator 'AND': have 'null' and '$body value', expected 'bool' and 'bool' (edgeHub needs an explicit test on the right, e.g. $body.flag = true)",
    ],
    [
      'undefined OR null',
      "line 1, column 25: invalid operands to binary operator 'OR': have 'undefined' and 'null', expected 'bool' and 'bool'",
    ],
    [
      'key1 = undefined',
      "line 1, column 20: invalid operands to binary operator '=': have 'string' and 'undefined', expected 'string' and 'string'",
    ],
    [
      "key1 ?? 'x' = 'y'",
      "line 1, column 20: invalid operands to binary operator '??': have 'string' and 'bool', expected 'string' and 'string'",
    ],
    [
      "'a' || 3 = 'a3'",
      "line 1, column 19: invalid operands to binary operator '||': have 'string' and 'number', expected 'string' and 'string'",
    ],
    ['$body.a..b = 1', "line 1, column 15: invalid $body query: expected a property name at '.b'"],
    ['$body.a[] = 1', "line 1, column 15: invalid $body query: expected [index] at '[]'"],
    ['$body.0 = 1', "line 1, column 15: invalid $body query: property name '0' cannot be all digits"],
    ['$body. = 1', 'line 1, column 15: invalid $body query: expected a property name at end of query'],
  ];
  for (const [condition, expected] of cases) {
    assert.equal(conditionError(condition), `route: ${expected}`, condition);
  }
});

test('route text past limits.routeTextBytesMax is refused at the first byte over the limit', () => {
  const head = "FROM /* WHERE a = '";
  const text = `${head}${'é'.repeat(3000)}' INTO $upstream`;
  const err = syntaxError(text, 'big');
  // Each é is two UTF-8 bytes: the 2039th one crosses 4096 bytes.
  const column = head.length + 2039;
  assert.equal(
    err.message,
    `route "big": line 1, column ${column}: route is longer than ${limits.routeTextBytesMax} bytes`,
  );
  const fits = `FROM /* WHERE a = '${'x'.repeat(limits.routeTextBytesMax - 35)}' INTO $upstream`;
  assert.equal(Buffer.byteLength(fits), limits.routeTextBytesMax);
  assert.equal(parseRoute(fits).text, fits);
  assert.match(syntaxError(`${fits} `).message, /column 4097: route is longer than 4096 bytes$/);
});

test('deep nesting is refused instead of exhausting the stack', () => {
  const text = `FROM /* WHERE ${'('.repeat(150)}true${')'.repeat(150)} INTO $upstream`;
  assert.equal(
    syntaxError(text).message,
    'route: line 1, column 115: expression nested deeper than 100 levels',
  );
  const nots = `FROM /* WHERE ${'NOT '.repeat(150)}true INTO $upstream`;
  assert.equal(
    syntaxError(nots).message,
    'route: line 1, column 415: expression nested deeper than 100 levels',
  );
});
