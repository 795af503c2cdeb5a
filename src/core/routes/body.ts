/**
 * `$body` queries. edgeHub reads the body only when contentType is `application/json` and
 * contentEncoding is utf-8, utf-16 or utf-32 (Routing.Core/Message.cs, Constants.cs; the IoT Hub
 * routing query docs say the same), parses it as one JSON object, and reads a JSON path from it
 * (JsonMessageQueryValueProvider.cs, query/builtins/BodyQuery.cs):
 * - a path that selects nothing is null, not undefined;
 * - an object or array value is undefined (edgeHub does not compare objects);
 * - a body that does not decode or parse makes every query undefined.
 * Known differences, both from Newtonsoft.Json under edgeHub: it turns ISO-8601-looking strings
 * into dates (which edgeHub then treats as undefined), and it accepts lenient JSON (comments,
 * single quotes). We keep such strings as strings and read strict JSON (JSON.parse) only.
 */

/** A step of a path: a property name or an array index. */
export type BodySegment = string | number;

export interface BodyQuery {
  readonly segments: readonly BodySegment[];
  /** False when text after the validated part is not a path we can follow; the query is then always undefined. */
  readonly followable: boolean;
}

const SEGMENT = /^([^.[\]]+)(?:\[([0-9]+)\])?/;
const TAIL_STEP = /^(?:\.([^.[\]]+)|\[([0-9]+)\])/;

/**
 * Checks a query against edgeHub's query/jsonpath/JsonPath.g4 (`name ([int])? ('.' name ([int])?)*`)
 * and returns its steps, or an error message. JsonPath.g4 has no EOF, so text after a valid
 * prefix passes edgeHub's check and is left to Newtonsoft at run time; we follow `.name` and
 * `[n]` steps there and treat anything else as never defined.
 */
export function parseBodyQuery(query: string): BodyQuery | string {
  const segments: BodySegment[] = [];
  let rest = query;
  for (;;) {
    const m = SEGMENT.exec(rest);
    if (m === null) return `expected a property name at ${quote(rest)}`;
    const name = m[1]!;
    // JsonPath.g4 lexes an all-digit name as INT, which is not a property name.
    if (/^[0-9]+$/.test(name)) return `property name ${quote(name)} cannot be all digits`;
    if (rest[name.length] === '[' && m[2] === undefined)
      return `expected [index] at ${quote(rest.slice(name.length))}`;
    segments.push(name);
    if (m[2] !== undefined) segments.push(Number(m[2]));
    rest = rest.slice(m[0].length);
    if (rest === '') return { segments, followable: true };
    if (rest[0] !== '.') return followTail(segments, rest);
    rest = rest.slice(1);
  }
}

function quote(text: string): string {
  return text === '' ? 'end of query' : `'${text}'`;
}

function followTail(segments: BodySegment[], tail: string): BodyQuery {
  let rest = tail;
  while (rest !== '') {
    const m = TAIL_STEP.exec(rest);
    if (m === null) return { segments, followable: false };
    segments.push(m[1] ?? Number(m[2]));
    rest = rest.slice(m[0].length);
  }
  return { segments, followable: true };
}

/** A JSON object body, parsed; `null` when the message has no queryable body. */
export type JsonRoot = Readonly<Record<string, unknown>>;

const utf8 = new TextDecoder('utf-8');
const utf16le = new TextDecoder('utf-16le');

/** .NET's Encoding.UTF32 is little-endian; TextDecoder has no UTF-32, so decode by hand (bad units become U+FFFD). */
function decodeUtf32le(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const units: string[] = [];
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) {
    const cp = view.getUint32(i, true);
    const ok = cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    units.push(String.fromCodePoint(ok ? cp : 0xfffd));
  }
  if (i < bytes.length) units.push('\ufffd');
  const text = units.join('');
  return text.startsWith('\ufeff') ? text.slice(1) : text;
}

function decode(bytes: Uint8Array, encoding: string): string | undefined {
  switch (encoding.toLowerCase()) {
    case 'utf-8':
      return utf8.decode(bytes);
    case 'utf-16':
      return utf16le.decode(bytes);
    case 'utf-32':
      return decodeUtf32le(bytes);
    default:
      return undefined;
  }
}

/** The body as a JSON object, or null when the headers or the bytes do not allow a query. */
export function parseJsonBody(
  body: Uint8Array,
  contentType: string | undefined,
  contentEncoding: string | undefined,
): JsonRoot | null {
  if (contentType === undefined || contentType.toLowerCase() !== 'application/json') return null;
  if (contentEncoding === undefined) return null;
  try {
    const text = decode(body, contentEncoding);
    if (text === undefined) return null;
    const root: unknown = JSON.parse(text);
    // JObject.Parse: the body must be one JSON object.
    return typeof root === 'object' && root !== null && !Array.isArray(root) ? (root as JsonRoot) : null;
  } catch {
    return null;
  }
}

/** The query's value: a JSON primitive, null when nothing is selected, undefined for objects and arrays. */
export function readBody(root: JsonRoot, query: BodyQuery): string | number | boolean | null | undefined {
  if (!query.followable) return undefined;
  let cur: unknown = root;
  for (const step of query.segments) {
    if (typeof step === 'number') {
      if (!Array.isArray(cur) || step >= cur.length) return null;
      cur = cur[step];
    } else {
      if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, step))
        return null;
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  if (cur === null || typeof cur === 'string' || typeof cur === 'number' || typeof cur === 'boolean')
    return cur;
  return undefined;
}
