/**
 * JSON paths in the style every manifest error uses: `$.modulesContent.$edgeAgent['properties.desired']`.
 * Keys that are plain identifiers use `.key`, any other key `['key']`, array items `[0]`, so a
 * path can be pasted into a JSONPath tool or read by eye against the file.
 */

export type PathSegment = string | number;

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Keys are user text: a huge one is cut so that one error stays one readable line. */
const keyCharsShown = 100;

/** One step of a path: `.name`, `['odd name']` or `[3]`. */
export function pathStep(segment: PathSegment): string {
  if (typeof segment === 'number') return `[${segment}]`;
  if (identifier.test(segment) && segment.length <= keyCharsShown) return `.${segment}`;
  const shown = segment.length > keyCharsShown ? `${segment.slice(0, keyCharsShown)}...` : segment;
  // JSON escapes make control characters visible; then the quote style is switched to single.
  const escaped = JSON.stringify(shown).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `['${escaped}']`;
}

/** `path` extended by the given keys or indexes. */
export function childPath(path: string, ...segments: readonly PathSegment[]): string {
  let out = path;
  for (const segment of segments) out += pathStep(segment);
  return out;
}

/**
 * Turns a JSON Pointer (RFC 6901, as ajv's `instancePath`) into our path style. `data` is the
 * document the pointer points into: it tells an array index (`[0]`) from an object key named "0".
 */
export function pointerToPath(pointer: string, data: unknown, root = '$'): string {
  if (pointer === '') return root;
  let path = root;
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^(0|[1-9][0-9]*)$/.test(key)) {
      path += pathStep(Number(key));
      node = node[Number(key)];
    } else {
      path += pathStep(key);
      node = isRecord(node) && Object.hasOwn(node, key) ? node[key] : undefined;
    }
  }
  return path;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
