/**
 * One route's text to a CompiledRoute: size check, tokens, syntax, then condition types.
 */
import { TandemError } from '../../errors.js';
import { limits } from '../../limits.js';
import type { CompiledRoute, Pos } from './ast.js';
import { RouteProblem, routeError } from './errors.js';
import { conditionFor } from './evaluate.js';
import { tokenize } from './lexer.js';
import { RouteParser } from './parser.js';
import { makeRouteSource } from './source.js';

/** The UTF-16 offset of the first character that takes the text past `maxBytes` of UTF-8, or -1. */
function offsetPastBytes(text: string, maxBytes: number): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const isPair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length;
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : isPair ? 4 : 3;
    if (bytes > maxBytes) return i;
    if (isPair) i++;
  }
  return -1;
}

function positionAt(text: string, offset: number): Pos {
  const before = text.slice(0, offset);
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - lastNewline };
}

/**
 * Parses and compiles one route, e.g. `FROM /messages/modules/sensor/outputs/* WHERE
 * $body.temperature > 30 INTO BrokeredEndpoint("/modules/alerts/inputs/in")`.
 * Throws TandemError TANDEM_E_ROUTE_SYNTAX naming the line and column of the first problem.
 */
export function parseRoute(text: string, name?: string): CompiledRoute {
  const label = { name, text: typeof text === 'string' ? text : '' };
  try {
    if (typeof text !== 'string') throw new RouteProblem({ line: 1, column: 1 }, 'route must be a string');
    const over = offsetPastBytes(text, limits.routeTextBytesMax);
    if (over >= 0) {
      throw new RouteProblem(
        positionAt(text, over),
        `route is longer than ${limits.routeTextBytesMax} bytes`,
      );
    }
    const parsed = new RouteParser(tokenize(text)).parseRoute();
    const route: { -readonly [K in keyof CompiledRoute]: CompiledRoute[K] } = {
      name: name ?? '',
      text,
      source: makeRouteSource(parsed.path),
      endpoint: parsed.endpoint,
    };
    if (parsed.condition !== undefined) {
      conditionFor(parsed.condition, name, text);
      route.condition = parsed.condition;
    }
    return deepFreeze(route);
  } catch (err) {
    if (err instanceof RouteProblem) throw routeError(label, err);
    if (err instanceof TandemError) throw err;
    throw new TandemError('TANDEM_E_ASSERT', `route parser failed: ${String(err)}`, { cause: err });
  }
}

/** Routes are shared between the table and every message; freezing keeps a caller from changing one. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
