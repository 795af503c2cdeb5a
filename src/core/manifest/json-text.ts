/**
 * A strict JSON (RFC 8259) reader for manifests. JSON.parse keeps the last of two equal keys,
 * so a manifest naming one module twice would silently lose the first; here a duplicate key is
 * an error naming its JSON path. Syntax errors name line and column (1-based; columns count
 * UTF-16 code units, as route errors do). Nesting is bounded, so hostile text cannot exhaust
 * the stack. Pure: text in, value out.
 */
import { TandemError } from '../../errors.js';
import { childPath } from './json-path.js';

/**
 * Nesting depth accepted. A manifest is about 6 levels deep around a module twin that IoT Hub
 * caps at limits.twinDepthMax (10); 64 leaves room for any real document and keeps recursion small.
 * (A format rule of this parser, not a tunable, hence not in limits.ts.)
 */
export const jsonDepthMax = 64;

export type JsonTextResult =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      /** JSON path of the value being read when the problem was found. */
      readonly path: string;
      readonly line: number;
      readonly column: number;
      readonly problem: string;
    };

/** Thrown inside the reader only; `readJsonText` turns it into a result. */
class JsonProblem extends Error {
  constructor(
    readonly offset: number,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const escapes: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

const numberPattern = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

class Reader {
  private pos = 0;

  constructor(private readonly text: string) {
    // RFC 8259 §8.1 lets a parser ignore a byte order mark; Windows editors write one.
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  readDocument(root: string): unknown {
    const value = this.readValue(root, 0);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(root, 'unexpected text after the JSON value');
    return value;
  }

  private fail(path: string, expected: string, at = this.pos): never {
    throw new JsonProblem(at, path, `${expected}, found ${this.found(at)}`);
  }

  private found(at: number): string {
    if (at >= this.text.length) return 'the end of the text';
    const ch = this.text.charCodeAt(at);
    if (ch < 0x20) return `control character U+${ch.toString(16).padStart(4, '0')}`;
    return `'${this.text.slice(at, at + 10).split(/[\r\n]/)[0]}'`;
  }

  private skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  private readValue(path: string, depth: number): unknown {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{' || c === '[') {
      if (depth >= jsonDepthMax)
        throw new JsonProblem(this.pos, path, `nested deeper than ${jsonDepthMax} levels`);
      return c === '{' ? this.readObject(path, depth + 1) : this.readArray(path, depth + 1);
    }
    if (c === '"') return this.readString(path);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.readNumber(path);
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail(path, 'expected a JSON value');
  }

  private readObject(path: string, depth: number): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    this.pos++; // '{'
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return obj;
    }
    for (;;) {
      this.skipSpace();
      const keyAt = this.pos;
      // The empty object was handled above, so a '}' here follows a comma.
      if (this.text[this.pos] === '}') this.fail(path, 'trailing comma (not JSON)');
      if (this.text[this.pos] !== '"') this.fail(path, 'expected a "quoted" key');
      const key = this.readString(path);
      const memberPath = childPath(path, key);
      if (Object.hasOwn(obj, key)) throw new JsonProblem(keyAt, memberPath, 'duplicate key');
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail(memberPath, "expected ':' after the key");
      this.pos++;
      // defineProperty, not assignment: a "__proto__" key must stay data, as JSON.parse keeps it.
      Object.defineProperty(obj, key, {
        value: this.readValue(memberPath, depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skipSpace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === '}') return obj;
      if (next !== ',') this.fail(path, "expected ',' or '}' after an object member", this.pos - 1);
    }
  }

  private readArray(path: string, depth: number): unknown[] {
    const items: unknown[] = [];
    this.pos++; // '['
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return items;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ']') this.fail(path, 'trailing comma (not JSON)');
      items.push(this.readValue(childPath(path, items.length), depth));
      this.skipSpace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === ']') return items;
      if (next !== ',') this.fail(path, "expected ',' or ']' after an array item", this.pos - 1);
    }
  }

  private readString(path: string): string {
    const t = this.text;
    let out = '';
    let runStart = ++this.pos; // after the opening quote
    for (;;) {
      if (this.pos >= t.length) this.fail(path, 'unterminated string');
      const c = t.charCodeAt(this.pos);
      if (c === 0x22 /* " */) {
        out += t.slice(runStart, this.pos++);
        return out;
      }
      if (c < 0x20) this.fail(path, 'control characters in a string must be escaped');
      if (c !== 0x5c /* \ */) {
        this.pos++;
        continue;
      }
      out += t.slice(runStart, this.pos);
      out += this.readEscape(path);
      runStart = this.pos;
    }
  }

  private readEscape(path: string): string {
    const at = this.pos;
    const e = this.text[at + 1];
    if (e === 'u') {
      const hex = this.text.slice(at + 2, at + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(path, 'expected 4 hex digits after \\u', at);
      this.pos = at + 6;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    const plain = e === undefined ? undefined : escapes[e];
    if (plain === undefined) this.fail(path, 'invalid escape in a string', at);
    this.pos = at + 2;
    return plain;
  }

  private readNumber(path: string): number {
    numberPattern.lastIndex = this.pos;
    const m = numberPattern.exec(this.text);
    const after = this.text[this.pos + (m?.[0].length ?? 0)];
    // "01", "1." and "1e" stop the pattern early; say "invalid number", not "expected ','".
    if (m === null || (after !== undefined && /[0-9.eE]/.test(after)))
      return this.fail(path, 'invalid number');
    const value = Number(m[0]);
    // JSON.parse would give Infinity, which no manifest field means.
    if (!Number.isFinite(value)) this.fail(path, 'number out of range');
    this.pos += m[0].length;
    return value;
  }
}

/** 1-based line and column of a UTF-16 offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Reads JSON text strictly; never throws for bad input. `root` prefixes the paths in problems. */
export function readJsonText(text: string, root = '$'): JsonTextResult {
  try {
    return { ok: true, value: new Reader(text).readDocument(root) };
  } catch (err) {
    if (!(err instanceof JsonProblem)) throw err;
    return { ok: false, path: err.path, problem: err.message, ...lineColumn(text, err.offset) };
  }
}

/**
 * Parses manifest text as JSON, refusing duplicate keys. Throws TANDEM_E_MANIFEST, e.g.
 * `$.modulesContent.$edgeAgent['properties.desired'].modules.filter: line 12, column 9: duplicate key`.
 */
export function parseManifestText(text: string): unknown {
  const result = readJsonText(text);
  if (result.ok) return result.value;
  const { path, line, column, problem } = result;
  const expected = `line ${line}, column ${column}: ${problem}`;
  throw new TandemError('TANDEM_E_MANIFEST', `${path}: ${expected}`, {
    details: { path, line, column, errors: [{ path, expected, line, column }] },
  });
}
