/**
 * Literal values as edgeHub reads them (ConditionVisitor.cs VisitString/VisitInteger/VisitReal/VisitHex),
 * and the inverse used by the printer.
 */

const UNICODE_ESCAPE = /\\[Uu]([0-9A-Fa-f]{4})/g;
const CHAR_ESCAPE = /\\(["'\\])/g;

/**
 * The value of a string token without its quotes. edgeHub unescapes in two passes, `\uXXXX`
 * first and then `\" \' \\`; we do the same so odd inputs such as `'\\u0041'` agree with it.
 */
export function unescapeString(inner: string): string {
  return inner
    .replace(UNICODE_ESCAPE, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(CHAR_ESCAPE, (_m, c: string) => c);
}

/**
 * A single-quoted literal that unescapeString turns back into `value`. Backslashes are written
 * `\u005C` so the first pass cannot see a `\uXXXX` the value itself contains.
 */
export function quoteString(value: string): string {
  let out = "'";
  for (const c of value) {
    if (c === '\\') out += '\\u005C\\u005C';
    else if (c === "'") out += "\\'";
    else out += c;
  }
  return `${out}'`;
}

/**
 * INTEGER and REAL tokens are parsed as doubles; edgeHub's double.TryParse fails on a mantissa
 * without digits (`e5`, `-e5`), and the literal is then undefined.
 */
export function decimalValue(text: string): number | undefined {
  if (!/[0-9]/.test(text.replace(/[eE].*$/, ''))) return undefined;
  return Number(text);
}

/** HEX tokens: edgeHub's long.TryParse(HexNumber) reads 64-bit two's complement and fails past 16 digits. */
export function hexValue(text: string): number | undefined {
  const digits = text.slice(2).replace(/^0+(?=.)/, '');
  if (digits.length > 16) return undefined;
  return Number(BigInt.asIntN(64, BigInt(`0x${digits}`)));
}

/** A number literal that decimalValue reads back as `value` (every finite double prints exactly). */
export function formatNumber(value: number): string {
  if (Object.is(value, -0)) return '-0';
  if (value === Number.POSITIVE_INFINITY) return '1e999';
  if (value === Number.NEGATIVE_INFINITY) return '-1e999';
  return String(value);
}
