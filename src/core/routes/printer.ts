/**
 * ASTs back to route text that parses to the same AST (positions aside), for logs, the
 * dashboard and round-trip tests. Parentheses are added only where precedence needs them.
 * Names the language cannot spell (an application property called `a b`) print as they are.
 */
import type { Endpoint } from '../../hub/message.js';
import { BINARY_PRECEDENCE, type Expr } from './ast.js';
import { printEndpoint } from './endpoint.js';
import { formatNumber, quoteString } from './literals.js';

const LEVEL = BINARY_PRECEDENCE;
const UNARY_LEVEL = 7;
const PRIMARY_LEVEL = 8;

function levelOf(e: Expr): number {
  if (e.kind === 'binary') return LEVEL[e.op];
  return e.kind === 'unary' ? UNARY_LEVEL : PRIMARY_LEVEL;
}

function wrap(e: Expr, minLevel: number): string {
  const text = printExpr(e);
  return levelOf(e) < minLevel ? `(${text})` : text;
}

export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'string':
      return quoteString(e.value);
    case 'number':
      return formatNumber(e.value);
    case 'bool':
      return e.value ? 'true' : 'false';
    case 'null':
      return 'null';
    case 'undefined':
      return 'undefined';
    case 'property':
      return e.name;
    case 'system':
      return e.escaped ? `{$${e.name}}` : `$${e.name}`;
    case 'body':
      return e.escaped ? `{$body.${e.query}}` : `$body.${e.query}`;
    case 'call':
      return `${e.name}(${e.args.map(printExpr).join(', ')})`;
    case 'unary':
      // Always a space: `-x` would lex as one identifier and `-5` as a negative literal.
      return `${e.op} ${wrap(e.operand, UNARY_LEVEL)}`;
    case 'binary': {
      const level = LEVEL[e.op];
      return `${wrap(e.left, level)} ${e.op} ${wrap(e.right, level + 1)}`;
    }
  }
}

export function printRoute(route: {
  readonly source: { readonly path: string };
  readonly condition?: Expr;
  readonly endpoint: Endpoint;
}): string {
  const where = route.condition === undefined ? '' : ` WHERE ${printExpr(route.condition)}`;
  return `FROM ${route.source.path}${where} INTO ${printEndpoint(route.endpoint)}`;
}
