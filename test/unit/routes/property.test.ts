import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { BinaryOp, Expr } from '../../../src/core/routes/ast.js';
import {
  endpointKey,
  evaluateCondition,
  parseRoute,
  printExpr,
  printRoute,
} from '../../../src/core/routes/index.js';
import { tokenize } from '../../../src/core/routes/lexer.js';
import { RouteParser } from '../../../src/core/routes/parser.js';
import { isTandemError } from '../../../src/errors.js';
import type { Endpoint } from '../../../src/hub/message.js';
import { fromModule, message, syntaxOf, telemetry, withoutPos } from './helpers.js';

const pos = { line: 1, column: 1 };

/** True when `text` lexes as exactly one token of `type` (so the printer's output re-lexes the same). */
function oneToken(text: string, type: string): boolean {
  const t = tokenize(text);
  return t.length === 2 && t[0]!.type === type && t[0]!.text === text;
}

const nameChars = fc.constantFrom(..."abcxyzABCXYZ019_.-!%*+|&#~^'".split(''));
const identifier = fc
  .tuple(fc.constantFrom(...'abeEnNtTfFuUsSwWiIoO_'.split('')), fc.string({ unit: nameChars, maxLength: 6 }))
  .map(([h, t]) => h + t)
  .filter((n) => oneToken(n, 'ID'));
const sysName = identifier.filter(
  (n) => oneToken(`$${n}`, 'SYS_PROP') && !n.toLowerCase().startsWith('body.'),
);
const segment = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_!%]{0,5}$/);
const bodyQuery = fc
  .array(fc.tuple(segment, fc.option(fc.nat(20), { nil: undefined })), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.map(([s, i]) => (i === undefined ? s : `${s}[${i}]`)).join('.'));
const tricky = fc.string({ unit: fc.constantFrom('\\', "'", '"', 'u', 'U', '0', '4', '1', 'A', '\n', ' ') });
const stringValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), tricky);
const binaryOps: BinaryOp[] = [
  '*',
  '/',
  '%',
  '+',
  '-',
  '||',
  '<',
  '<=',
  '>',
  '>=',
  '=',
  '!=',
  '<>',
  'AND',
  'OR',
  '??',
];
const functionName = fc.constantFrom(
  'abs',
  'CONCAT',
  'Is_Defined',
  'substring',
  'starts_with',
  'as_number',
  'nope',
);

const leaf: fc.Arbitrary<Expr> = fc.oneof(
  stringValue.map((value): Expr => ({ kind: 'string', value, pos })),
  fc
    .double()
    .filter((v) => !Number.isNaN(v))
    .map((value): Expr => ({ kind: 'number', value, pos })),
  fc.boolean().map((value): Expr => ({ kind: 'bool', value, pos })),
  fc.constant<Expr>({ kind: 'null', pos }),
  fc.constant<Expr>({ kind: 'undefined', pos }),
  identifier.map((name): Expr => ({ kind: 'property', name, pos })),
  fc.tuple(sysName, fc.boolean()).map(([name, escaped]): Expr => ({ kind: 'system', name, escaped, pos })),
  fc.tuple(bodyQuery, fc.boolean()).map(([query, escaped]): Expr => ({ kind: 'body', query, escaped, pos })),
);

const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 5, depthIdentifier: 'expr' },
    leaf,
    fc
      .tuple(fc.constantFrom<'-' | 'NOT'>('-', 'NOT'), tie('expr'))
      .map(([op, operand]): Expr => ({ kind: 'unary', op, operand, pos })),
    fc
      .tuple(fc.constantFrom(...binaryOps), tie('expr'), tie('expr'))
      .map(([op, left, right]): Expr => ({ kind: 'binary', op, left, right, pos })),
    fc
      .tuple(functionName, fc.array(tie('expr'), { maxLength: 3 }))
      .map(([name, args]): Expr => ({ kind: 'call', name, args, pos })),
  ),
}));

const endpoint: fc.Arbitrary<Endpoint> = fc.oneof(
  fc.constant<Endpoint>({ kind: 'upstream' }),
  fc
    .tuple(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,8}$/), fc.stringMatching(/^[a-zA-Z0-9_]{1,8}$/))
    .map(([moduleId, inputName]): Endpoint => ({ kind: 'module', moduleId, inputName })),
);
const sourcePath = fc.oneof(
  fc.constantFrom('/*', '/messages/*', '/messages/modules/*', '/twinChangeNotifications', '/messages'),
  // A module called E0 lexes as a (broken) number, in edgeHub too; such names cannot be routed.
  fc
    .stringMatching(/^[a-zA-Z][a-zA-Z0-9_-]{0,8}$/)
    .filter((m) => oneToken(m, 'ID'))
    .map((m) => `/messages/modules/${m}/outputs/*`),
);

test('printing a random AST and parsing it back gives the same AST', () => {
  fc.assert(
    fc.property(expr, (e) => {
      assert.deepEqual(withoutPos(syntaxOf(printExpr(e))), withoutPos(e));
    }),
    { numRuns: 1500 },
  );
});

test('printing a random route and parsing it back gives the same route; type errors are TandemErrors', () => {
  fc.assert(
    fc.property(sourcePath, fc.option(expr, { nil: undefined }), endpoint, (path, condition, sink) => {
      const text = printRoute({ source: { path }, condition, endpoint: sink });
      const parsed = new RouteParser(tokenize(text)).parseRoute();
      assert.equal(parsed.path, path);
      assert.equal(endpointKey(parsed.endpoint), endpointKey(sink));
      assert.deepEqual(
        parsed.condition === undefined ? undefined : withoutPos(parsed.condition),
        condition && withoutPos(condition),
      );
      try {
        const route = parseRoute(text);
        // Whatever compiles evaluates without throwing, whatever the message holds.
        if (route.condition !== undefined) {
          evaluateCondition(
            route.condition,
            message({
              body: '{"a":[1,{"b":null}]}',
              systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8' },
            }),
            telemetry,
          );
        }
      } catch (err) {
        assert.ok(isTandemError(err, 'TANDEM_E_ROUTE_SYNTAX'), String(err));
      }
    }),
    { numRuns: 1000 },
  );
});

const fragments = fc.constantFrom(
  'FROM',
  'SELECT',
  '*',
  'WHERE',
  'INTO',
  '/messages/*',
  '/',
  '$upstream',
  'BrokeredEndpoint(',
  '"/modules/a/inputs/b"',
  ')',
  '(',
  "'",
  '"',
  '$body.',
  '$body.a[0]',
  '{',
  '}',
  '[',
  ']',
  'AND',
  'NOT',
  '-',
  '=',
  '<>',
  '??',
  '||',
  ',',
  '1e999',
  '0x',
  'abs',
  '/*',
  '*/',
  '\n',
  '\\',
  '@',
);
const garbage = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc
    .array(fc.tuple(fragments, fc.constantFrom('', ' ', '\t', '\r\n')), { maxLength: 30 })
    .map((xs) => xs.map(([f, s]) => f + s).join('')),
  fc.tuple(fc.string({ maxLength: 5 }), fc.nat(60)).map(([s, at]) => {
    const valid =
      'FROM /messages/modules/m/outputs/* WHERE $body.t > 3 AND NOT (a = \'x\') INTO BrokeredEndpoint("/modules/b/inputs/c")';
    return valid.slice(0, at) + s + valid.slice(at + 1);
  }),
);

test('random garbage never throws anything but TandemError TANDEM_E_ROUTE_SYNTAX', () => {
  fc.assert(
    fc.property(garbage, (text) => {
      try {
        const route = parseRoute(text, 'g');
        if (route.condition !== undefined)
          evaluateCondition(route.condition, message(), fromModule('m', 'o'));
      } catch (err) {
        assert.ok(isTandemError(err, 'TANDEM_E_ROUTE_SYNTAX'), `${JSON.stringify(text)}: ${String(err)}`);
        const { line, column } = err.details as { line: number; column: number };
        assert.ok(Number.isInteger(line) && line >= 1 && Number.isInteger(column) && column >= 1);
        assert.match(err.message, /^route "g": line \d+, column \d+: /);
      }
    }),
    { numRuns: 3000 },
  );
});
