/**
 * Route text to tokens, reproducing edgeHub's ANTLR lexer (grammar/GrammarLexer.g4): at each
 * position the longest match wins and, on a tie, the rule listed first. That is why edgeHub
 * reads `a+b` or `3+4` as one identifier, `-x` as an identifier but `- x` as a minus, and
 * `e5` as a (broken) number: identifiers may hold almost any character. We keep those quirks
 * so a route means here what it means on IoT Edge.
 */
import type { Pos } from './ast.js';

export type TokenType =
  | '{'
  | '}'
  | 'SELECT'
  | 'FROM'
  | 'WHERE'
  | 'INTO'
  | 'STRING'
  | 'UNTERMINATED_STRING'
  | 'INTEGER'
  | 'HEX'
  | 'REAL'
  | 'TRUE'
  | 'FALSE'
  | 'NULL'
  | 'UNDEFINED'
  | '('
  | ')'
  | ','
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | 'AND'
  | 'OR'
  | 'NOT'
  | '='
  | '!='
  | '<>'
  | '<='
  | '>='
  | '>'
  | '<'
  | '||'
  | '??'
  | 'SYS_PROP'
  | 'ID'
  | 'QUERY_PATH'
  | 'UNKNOWN_CHAR'
  | 'EOF';

export interface Token {
  readonly type: TokenType;
  readonly text: string;
  readonly pos: Pos;
}

/** Fixed-text rules in GrammarLexer.g4 order; `ci` ones ignore case (keywords and AND/OR/NOT). */
const FIXED: readonly (readonly [TokenType, string, boolean])[] = [
  ['{', '{', false],
  ['}', '}', false],
  ['SELECT', 'SELECT', true],
  ['FROM', 'FROM', true],
  ['WHERE', 'WHERE', true],
  ['INTO', 'INTO', true],
];
const FIXED_AFTER_NUMBERS: readonly (readonly [TokenType, string, boolean])[] = [
  ['TRUE', 'true', false],
  ['FALSE', 'false', false],
  ['NULL', 'null', false],
  ['UNDEFINED', 'undefined', false],
  ['(', '(', false],
  [')', ')', false],
  [',', ',', false],
  ['+', '+', false],
  ['-', '-', false],
  ['*', '*', false],
  ['/', '/', false],
  ['%', '%', false],
  ['AND', 'AND', true],
  ['OR', 'OR', true],
  ['NOT', 'NOT', true],
  ['=', '=', false],
  ['!=', '!=', false],
  ['<>', '<>', false],
  ['<=', '<=', false],
  ['>=', '>=', false],
  ['>', '>', false],
  ['<', '<', false],
  ['||', '||', false],
  ['??', '??', false],
];

const INTEGER_RE = /-?[0-9]+/y;
const HEX_RE = /0[xX][0-9a-fA-F]+/y;
const REAL_RE = /-?[0-9]*(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)/y;

/** Characters no identifier may hold (ID_CHARS in GrammarLexer.g4); QUERY_PATH also allows '[' and ']'. */
const NOT_ID = new Set('()<>@,;:\\"/[]?={} \t\n\r');

function isIdChar(c: string): boolean {
  return !NOT_ID.has(c);
}

function isQueryPathChar(c: string): boolean {
  return c === '[' || c === ']' || !NOT_ID.has(c);
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

function runLength(text: string, start: number, accept: (c: string) => boolean): number {
  let i = start;
  while (i < text.length && accept(text[i]!)) i++;
  return i - start;
}

function regexLength(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  const m = re.exec(text);
  return m === null ? 0 : m[0].length;
}

/** STRING or UNTERMINATED_STRING: escapes are \" \' \\ and \uXXXX; any other backslash ends the token. */
function stringLength(text: string, at: number): { length: number; terminated: boolean } {
  const q = text[at];
  let i = at + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === q) return { length: i + 1 - at, terminated: true };
    if (c === '\\') {
      const e = text[i + 1];
      if (e === '"' || e === "'" || e === '\\') i += 2;
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
      else break;
    } else {
      i++;
    }
  }
  return { length: i - at, terminated: false };
}

function fixedLength(text: string, at: number, rule: readonly [TokenType, string, boolean]): number {
  const [, word, ci] = rule;
  const got = text.slice(at, at + word.length);
  return (ci ? got.toUpperCase() : got) === word ? word.length : 0;
}

/** The token at `at` by longest match; ties go to the rule listed first, as in ANTLR. */
function matchAt(text: string, at: number): { type: TokenType; length: number } {
  let best: { type: TokenType; length: number } = { type: 'UNKNOWN_CHAR', length: 0 };
  const offer = (type: TokenType, length: number): void => {
    if (length > best.length) best = { type, length };
  };
  for (const rule of FIXED) offer(rule[0], fixedLength(text, at, rule));
  const c = text[at]!;
  if (c === '"' || c === "'") {
    const s = stringLength(text, at);
    offer(s.terminated ? 'STRING' : 'UNTERMINATED_STRING', s.length);
  }
  offer('INTEGER', regexLength(INTEGER_RE, text, at));
  offer('HEX', regexLength(HEX_RE, text, at));
  offer('REAL', regexLength(REAL_RE, text, at));
  for (const rule of FIXED_AFTER_NUMBERS) offer(rule[0], fixedLength(text, at, rule));
  if (c === '$') {
    const rest = runLength(text, at + 1, isQueryPathChar);
    if (rest > 0) offer('SYS_PROP', 1 + rest);
  }
  offer('ID', runLength(text, at, isIdChar));
  offer('QUERY_PATH', runLength(text, at, isQueryPathChar));
  offer('UNKNOWN_CHAR', 1);
  return best;
}

/** Length of a `/* ... *\/` comment at `at` (hidden from the parser), or 0. */
function commentLength(text: string, at: number): number {
  if (!text.startsWith('/*', at)) return 0;
  const end = text.indexOf('*/', at + 2);
  return end < 0 ? 0 : end + 2 - at;
}

/** Splits route text into tokens, dropping whitespace and comments; the last token is EOF. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let at = 0;
  const advance = (to: number): void => {
    for (let i = at; i < to; i++) {
      if (text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    at = to;
  };
  while (at < text.length) {
    if (isSpace(text[at])) {
      advance(at + runLength(text, at, isSpace));
      continue;
    }
    const comment = commentLength(text, at);
    if (comment > 0) {
      advance(at + comment);
      continue;
    }
    const { type, length } = matchAt(text, at);
    tokens.push({ type, text: text.slice(at, at + length), pos: { line, column: at - lineStart + 1 } });
    advance(at + length);
  }
  tokens.push({ type: 'EOF', text: '', pos: { line, column: at - lineStart + 1 } });
  return tokens;
}
