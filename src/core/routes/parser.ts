/**
 * Tokens to a route: `[SELECT *] FROM <path> [WHERE <condition>] INTO <sink>`, after edgeHub's
 * grammar/Route.g4 and grammar/Condition.g4. Precedence is Condition.g4's alternative order:
 * prefix `-` and NOT bind tightest, then `* / %`, `+ - ||`, `< <= > >=`, `= != <>`, AND, OR, `??`;
 * every binary operator is left-associative.
 */
import type { Endpoint } from '../../hub/message.js';
import { limits } from '../../limits.js';
import { BINARY_PRECEDENCE, type BinaryOp, type Expr } from './ast.js';
import { parseEndpointAddress } from './endpoint.js';
import { quote, RouteProblem } from './errors.js';
import type { Token, TokenType } from './lexer.js';
import { decimalValue, hexValue, unescapeString } from './literals.js';

const nestingDepthMax = limits.routeNestingDepthMax;

const BINARY_LEVEL: Partial<Record<TokenType, number>> = BINARY_PRECEDENCE;

export interface ParsedRoute {
  /** The FROM path, tokens joined as edgeHub's `context.GetText()` does. */
  readonly path: string;
  readonly condition: Expr | undefined;
  readonly endpoint: Endpoint;
}

function describe(t: Token): string {
  return t.type === 'EOF' ? 'end of route' : quote(t.text);
}

export class RouteParser {
  readonly #tokens: readonly Token[];
  #at = 0;
  #depth = 0;

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  parseRoute(): ParsedRoute {
    if (this.#peek().type === 'SELECT') {
      this.#next();
      this.#expect('*', "expected '*' after SELECT");
    }
    this.#expect('FROM', 'expected FROM');
    const path = this.#parsePath();
    let condition: Expr | undefined;
    if (this.#peek().type === 'WHERE') {
      this.#next();
      condition = this.#parseExpr(0);
      this.#expectInto('expected INTO');
    } else {
      this.#expectInto('expected WHERE or INTO');
    }
    const endpoint = this.#parseSink();
    // Deviation, on purpose: edgeHub's `route` rule has no EOF, so ANTLR silently drops text
    // after the sink (even a second WHERE). We refuse it rather than ignore part of a route.
    this.#expect('EOF', 'expected end of route after the endpoint');
    return { path, condition, endpoint };
  }

  #peek(offset = 0): Token {
    return this.#tokens[Math.min(this.#at + offset, this.#tokens.length - 1)]!;
  }

  #next(): Token {
    const t = this.#peek();
    if (t.type !== 'EOF') this.#at++;
    return t;
  }

  #fail(t: Token, expected: string): never {
    throw new RouteProblem(t.pos, `${expected}, found ${describe(t)}`);
  }

  #expect(type: TokenType, expected: string): Token {
    const t = this.#peek();
    if (t.type !== type) this.#fail(t, expected);
    return this.#next();
  }

  #expectInto(expected: string): void {
    const t = this.#peek();
    if (t.type === ')') throw new RouteProblem(t.pos, "unmatched closing ')'");
    if (t.type === 'UNKNOWN_CHAR') throw new RouteProblem(t.pos, `invalid symbol ${quote(t.text)}`);
    this.#expect('INTO', expected);
  }

  /** Route.g4 `path: '/' item path | '/' item` with `item: '*' | ID`. */
  #parsePath(): string {
    this.#expect('/', "expected a source path starting with '/', such as /messages/*");
    let path = '/';
    for (;;) {
      const item = this.#peek();
      if (item.type !== '*' && item.type !== 'ID') this.#fail(item, "expected a path segment or '*'");
      path += this.#next().text;
      if (this.#peek().type !== '/') return path;
      path += this.#next().text;
    }
  }

  /** Route.g4 `sink: SYS_PROP | ID '(' STRING ')'`. */
  #parseSink(): Endpoint {
    const t = this.#peek();
    if (t.type === 'SYS_PROP') {
      this.#next();
      // EndpointFactory.CreateSystemEndpoint: only $upstream, any case.
      if (t.text.toLowerCase() === '$upstream') return { kind: 'upstream' };
      throw new RouteProblem(t.pos, `unsupported system endpoint ${quote(t.text)}, expected $upstream`);
    }
    if (t.type !== 'ID')
      this.#fail(t, 'expected $upstream or BrokeredEndpoint("/modules/{module}/inputs/{input}")');
    this.#next();
    this.#expect('(', `expected '(' after ${t.text}`);
    const address = this.#peek();
    if (address.type === 'UNTERMINATED_STRING') throw new RouteProblem(address.pos, 'unterminated string');
    this.#expect('STRING', 'expected a quoted endpoint address');
    this.#expect(')', "expected ')' after the endpoint address");
    // EndpointFactory.CreateFunctionEndpoint: only BrokeredEndpoint, any case.
    if (t.text.toLowerCase() !== 'brokeredendpoint') {
      throw new RouteProblem(t.pos, `unknown endpoint function ${quote(t.text)}, expected BrokeredEndpoint`);
    }
    const endpoint = parseEndpointAddress(address.text.slice(1, -1));
    if (typeof endpoint === 'string') throw new RouteProblem(address.pos, endpoint);
    return endpoint;
  }

  #parseExpr(minLevel: number): Expr {
    let left = this.#parseUnary();
    for (;;) {
      const t = this.#peek();
      const level = BINARY_LEVEL[t.type];
      if (level === undefined || level < minLevel) return left;
      this.#next();
      const right = this.#parseExpr(level + 1);
      const op: BinaryOp = t.type === 'AND' || t.type === 'OR' ? t.type : (t.text as BinaryOp);
      left = { kind: 'binary', op, left, right, pos: t.pos };
    }
  }

  #enter(t: Token): void {
    if (++this.#depth > nestingDepthMax) {
      throw new RouteProblem(t.pos, `expression nested deeper than ${nestingDepthMax} levels`);
    }
  }

  #parseUnary(): Expr {
    const t = this.#peek();
    if (t.type !== '-' && t.type !== 'NOT') return this.#parsePrimary();
    this.#enter(t);
    this.#next();
    const operand = this.#parseUnary();
    this.#depth--;
    return { kind: 'unary', op: t.type === 'NOT' ? 'NOT' : '-', operand, pos: t.pos };
  }

  #parsePrimary(): Expr {
    const t = this.#peek();
    switch (t.type) {
      case '(':
        return this.#parseNested();
      case 'STRING':
        this.#next();
        return { kind: 'string', value: unescapeString(t.text.slice(1, -1)), pos: t.pos };
      case 'INTEGER':
      case 'REAL':
      case 'HEX':
        return this.#parseNumber();
      case 'TRUE':
      case 'FALSE':
        this.#next();
        return { kind: 'bool', value: t.type === 'TRUE', pos: t.pos };
      case 'NULL':
        this.#next();
        return { kind: 'null', pos: t.pos };
      case 'UNDEFINED':
        this.#next();
        return { kind: 'undefined', pos: t.pos };
      case 'SYS_PROP':
        this.#next();
        return sysPropRef(t, false);
      case '{':
        return this.#parseEscaped();
      case 'ID':
        return this.#peek(1).type === '(' ? this.#parseCall() : this.#parseProperty();
      default:
        return this.#failPrimary(t);
    }
  }

  #failPrimary(t: Token): never {
    if (t.type === 'UNTERMINATED_STRING') throw new RouteProblem(t.pos, 'unterminated string');
    if (t.type === 'UNKNOWN_CHAR') throw new RouteProblem(t.pos, `invalid symbol ${quote(t.text)}`);
    if (t.type === 'QUERY_PATH') {
      throw new RouteProblem(
        t.pos,
        `unexpected ${quote(t.text)}: '[' and ']' may appear only in $body queries`,
      );
    }
    return this.#fail(t, 'expected an expression');
  }

  #parseNested(): Expr {
    const open = this.#next();
    this.#enter(open);
    const inner = this.#parseExpr(0);
    const close = this.#peek();
    if (close.type !== ')') {
      const where = `line ${open.pos.line}, column ${open.pos.column}`;
      if (close.type === 'UNKNOWN_CHAR')
        throw new RouteProblem(close.pos, `invalid symbol ${quote(close.text)}`);
      this.#fail(close, `expected ')' to close the '(' at ${where}`);
    }
    this.#next();
    this.#depth--;
    return inner;
  }

  #parseNumber(): Expr {
    const t = this.#next();
    const value = t.type === 'HEX' ? hexValue(t.text) : decimalValue(t.text);
    return value === undefined ? { kind: 'undefined', pos: t.pos } : { kind: 'number', value, pos: t.pos };
  }

  #parseProperty(): Expr {
    const t = this.#next();
    return { kind: 'property', name: t.text, pos: t.pos };
  }

  /** Condition.g4 `'{' SYS_PROP '}'`: a system property (or $body query) that ignores application properties. */
  #parseEscaped(): Expr {
    this.#next();
    const prop = this.#expect('SYS_PROP', 'expected a system property such as $contentType after {');
    this.#expect('}', "expected '}'");
    return sysPropRef(prop, true);
  }

  /** Condition.g4 `fcall: ID '(' exprList? ')'`. */
  #parseCall(): Expr {
    const name = this.#next();
    this.#enter(name);
    this.#next();
    const args: Expr[] = [];
    if (this.#peek().type !== ')') {
      for (;;) {
        args.push(this.#parseExpr(0));
        const t = this.#peek();
        if (t.type === ')') break;
        if (t.type === 'UNKNOWN_CHAR') throw new RouteProblem(t.pos, `invalid symbol ${quote(t.text)}`);
        this.#expect(',', `expected ',' or ')' in the arguments of ${name.text}`);
      }
    }
    this.#next();
    this.#depth--;
    return { kind: 'call', name: name.text, args, pos: name.pos };
  }
}

/** `$name`: a `$body.` prefix (any case) makes it a body query, as in IsBodyQueryExpression. */
function sysPropRef(t: Token, escaped: boolean): Expr {
  if (t.text.slice(0, 6).toLowerCase() === '$body.') {
    return { kind: 'body', query: t.text.slice(6), escaped, pos: t.pos };
  }
  return { kind: 'system', name: t.text.slice(1), escaped, pos: t.pos };
}
