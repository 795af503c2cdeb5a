import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRoute, printExpr } from '../../../src/core/routes/index.js';
import { syntaxOf, where, withoutPos } from './helpers.js';

test('every source form: path kept as written, selection and prefix normalized like edgeHub', () => {
  const cases: [string, unknown, string][] = [
    ['/*', { kind: 'all' }, '/'],
    ['/messages/*', { kind: 'messages' }, '/messages/'],
    ['/messages', { kind: 'messages' }, '/messages/'],
    ['/messages/modules/*', { kind: 'modules' }, '/messages/modules/'],
    ['/messages/modules', { kind: 'modules' }, '/messages/modules/'],
    ['/messages/modules/filter/*', { kind: 'module', moduleId: 'filter' }, '/messages/modules/filter/'],
    ['/messages/modules/filter', { kind: 'module', moduleId: 'filter' }, '/messages/modules/filter/'],
    [
      '/messages/modules/Filter/outputs/*',
      { kind: 'outputs', moduleId: 'Filter' },
      '/messages/modules/filter/outputs/',
    ],
    [
      '/messages/modules/filter/outputs/alerts',
      { kind: 'output', moduleId: 'filter', outputName: 'alerts' },
      '/messages/modules/filter/outputs/alerts/',
    ],
    ['/twinChangeNotifications', { kind: 'twinChangeNotifications' }, '/twinchangenotifications/'],
    ['/messages/events', { kind: 'other' }, '/messages/events/'],
    [
      '/Messages/Modules/m-1.x/Outputs/o_2',
      { kind: 'output', moduleId: 'm-1.x', outputName: 'o_2' },
      '/messages/modules/m-1.x/outputs/o_2/',
    ],
  ];
  for (const [path, selects, prefix] of cases) {
    const r = parseRoute(`FROM ${path} INTO $upstream`);
    assert.deepEqual(r.source, { path, selects, prefix }, path);
  }
});

test('source path tokens are joined without whitespace or comments, as edgeHub reads them', () => {
  const r = parseRoute('FROM / messages /* any comment */ / modules / m / * INTO $upstream');
  assert.equal(r.source.path, '/messages/modules/m/*');
  assert.deepEqual(r.source.selects, { kind: 'module', moduleId: 'm' });
});

test('sinks: $upstream and BrokeredEndpoint in both quote styles and any case', () => {
  assert.deepEqual(parseRoute('FROM /* INTO $upstream').endpoint, { kind: 'upstream' });
  assert.deepEqual(parseRoute('FROM /* INTO $UPSTREAM').endpoint, { kind: 'upstream' });
  const module = { kind: 'module', moduleId: 'alertLogic', inputName: 'in' };
  assert.deepEqual(
    parseRoute('FROM /* INTO BrokeredEndpoint("/modules/alertLogic/inputs/in")').endpoint,
    module,
  );
  assert.deepEqual(
    parseRoute("FROM /* INTO brokeredEndpoint('/modules/alertLogic/inputs/in')").endpoint,
    module,
  );
  assert.deepEqual(
    parseRoute('FROM /* INTO BROKEREDENDPOINT ( " modules/alertLogic/inputs/in/ " )').endpoint,
    module,
  );
});

test('keywords in any case, SELECT * prefix, no WHERE, surrounding whitespace', () => {
  const r = parseRoute("  select * from /messages/* where a = 'b' into $upstream  ", 'r');
  assert.equal(r.name, 'r');
  assert.equal(r.source.path, '/messages/*');
  assert.deepEqual(withoutPos(r.condition!), {
    kind: 'binary',
    op: '=',
    left: { kind: 'property', name: 'a' },
    right: { kind: 'string', value: 'b' },
  });
  const plain = parseRoute('FROM /messages/* INTO $upstream');
  assert.equal(plain.condition, undefined);
  assert.equal('condition' in plain, false);
});

test('multi-line routes keep line numbers in the AST', () => {
  const r = parseRoute('FROM /messages/*\n  WHERE\n    $body.t > 5\n  INTO $upstream');
  assert.equal(r.condition?.kind, 'binary');
  assert.deepEqual(r.condition?.pos, { line: 3, column: 13 });
  if (r.condition?.kind !== 'binary') throw new Error('unreachable');
  assert.deepEqual(r.condition.left.pos, { line: 3, column: 5 });
});

test('precedence follows Condition.g4: prefix operators bind tightest, ?? loosest, all left-assoc', () => {
  const shape = (c: string): string => printExpr(where(c)).replace(/\s+/g, ' ');
  const grouped = (c: string): unknown => withoutPos(syntaxOf(c));
  assert.deepEqual(grouped('1 + 2 * 3 = 7'), grouped('(1 + (2 * 3)) = 7'));
  assert.deepEqual(grouped('1 - 2 - 3 = 7'), grouped('((1 - 2) - 3) = 7'));
  assert.deepEqual(grouped('a = b OR c = d AND e = f'), grouped('(a = b) OR ((c = d) AND (e = f))'));
  assert.deepEqual(grouped('1 < 2 = true'), grouped('(1 < 2) = true'));
  assert.deepEqual(grouped("a ?? 'x' = 'y'"), grouped("a ?? ('x' = 'y')"));
  assert.deepEqual(grouped('NOT a = b'), grouped('(NOT a) = b'));
  assert.deepEqual(grouped('- 2 * 3 = -6'), grouped('(- 2) * 3 = -6'));
  assert.deepEqual(grouped("'a' || 'b' = 'ab'"), grouped("('a' || 'b') = 'ab'"));
  assert.equal(shape('NOT (a = b)'), 'NOT (a = b)');
  assert.equal(shape('(((3))) = 3'), '3 = 3');
});

test('literals: numbers as edgeHub reads them, strings unescaped, undefined for unreadable numbers', () => {
  const lit = (c: string): unknown => {
    const e = syntaxOf(`${c} = 0`);
    return e.kind === 'binary' ? withoutPos(e.left) : undefined;
  };
  assert.deepEqual(lit('0100'), { kind: 'number', value: 100 });
  assert.deepEqual(lit('-12'), { kind: 'number', value: -12 });
  assert.deepEqual(lit('1.234e-1'), { kind: 'number', value: 0.1234 });
  assert.deepEqual(lit('0xDeadBeef'), { kind: 'number', value: 3735928559 });
  assert.deepEqual(lit('0xFFFFFFFFFFFFFFFF'), { kind: 'number', value: -1 });
  assert.deepEqual(lit('0x1FFFFFFFFFFFFFFFF'), { kind: 'undefined' });
  assert.deepEqual(lit('10e1000'), { kind: 'number', value: Number.POSITIVE_INFINITY });
  assert.deepEqual(lit('e5'), { kind: 'undefined' });
  assert.deepEqual(lit('"he said, \\"Tch\\u00FCss!\\""'), { kind: 'string', value: 'he said, "Tchüss!"' });
  assert.deepEqual(lit("'it\\'s \\\\ ok'"), { kind: 'string', value: "it's \\ ok" });
  // edgeHub unescapes \uXXXX before \\, so '\\u0041' ends up as \A.
  assert.deepEqual(lit("'\\\\u0041'"), { kind: 'string', value: '\\A' });
});

test('references: properties, system properties, escaped forms, $body queries, calls', () => {
  assert.deepEqual(withoutPos(where('$body.a.b[1] = 1 AND {$body.x} = 1')), {
    kind: 'binary',
    op: 'AND',
    left: {
      kind: 'binary',
      op: '=',
      left: { kind: 'body', query: 'a.b[1]', escaped: false },
      right: { kind: 'number', value: 1 },
    },
    right: {
      kind: 'binary',
      op: '=',
      left: { kind: 'body', query: 'x', escaped: true },
      right: { kind: 'number', value: 1 },
    },
  });
  assert.deepEqual(withoutPos(where("{ $contentType } = 'a' OR $messageId = 'b'")), {
    kind: 'binary',
    op: 'OR',
    left: {
      kind: 'binary',
      op: '=',
      left: { kind: 'system', name: 'contentType', escaped: true },
      right: { kind: 'string', value: 'a' },
    },
    right: {
      kind: 'binary',
      op: '=',
      left: { kind: 'system', name: 'messageId', escaped: false },
      right: { kind: 'string', value: 'b' },
    },
  });
  assert.deepEqual(withoutPos(where("Starts_With(key1, concat('a', key2))")), {
    kind: 'call',
    name: 'Starts_With',
    args: [
      { kind: 'property', name: 'key1' },
      {
        kind: 'call',
        name: 'concat',
        args: [
          { kind: 'string', value: 'a' },
          { kind: 'property', name: 'key2' },
        ],
      },
    ],
  });
});

test('parsed routes are frozen', () => {
  const r = parseRoute("FROM /* WHERE a = 'b' INTO $upstream");
  assert.ok(Object.isFrozen(r));
  assert.ok(Object.isFrozen(r.source));
  assert.ok(Object.isFrozen(r.condition));
});

test("printed strings survive edgeHub's two-pass unescape, even when they contain \\uXXXX text", () => {
  const values = ['\\u0041', '\\\\u0041', "\\'", "'", '\\', 'a"b', 'ü\n\t', '\\U00e9x', ''];
  for (const value of values) {
    const e = where(`${printExpr({ kind: 'string', value, pos: { line: 1, column: 1 } })} = 'x'`);
    assert.ok(e.kind === 'binary' && e.left.kind === 'string');
    assert.equal(e.left.value, value, JSON.stringify(value));
  }
});
