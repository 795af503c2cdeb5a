/**
 * Twin documents as IoT Hub shapes them: `desired` and `reported` sections, each with a
 * `$version`, changed by JSON merge patches (null deletes a key). Pure functions; the
 * TwinStore persists the result.
 */
import { TandemError } from '../errors.js';
import { limits } from '../limits.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface TwinDocument {
  desired: JsonObject;
  reported: JsonObject;
}

export function emptyTwin(): TwinDocument {
  return { desired: { $version: 1 }, reported: { $version: 1 } };
}

export function sectionVersion(section: JsonObject): number {
  const v = section.$version;
  return typeof v === 'number' ? v : 1;
}

/**
 * Checks a patch as IoT Hub does: an object, keys without `.`, `$`, spaces or control
 * characters, nesting at most limits.twinDepthMax, serialised size within the section cap.
 */
export function validatePatch(patch: unknown, what: string): JsonObject {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new TandemError('TANDEM_E_TWIN', `${what} patch must be a JSON object`);
  }
  checkNode(patch as JsonObject, what, 1);
  return patch as JsonObject;
}

function checkNode(node: JsonObject, path: string, depth: number): void {
  if (depth > limits.twinDepthMax) {
    throw new TandemError('TANDEM_E_TWIN', `${path}: nested deeper than ${limits.twinDepthMax} levels`);
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === '$version' && depth === 1) continue;
    // IoT Hub twin key rules: no '.', '$', space, or control characters.
    if (key.length === 0 || hasForbiddenKeyChar(key)) {
      throw new TandemError('TANDEM_E_TWIN', `${path}: invalid property name ${JSON.stringify(key)}`);
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      checkNode(value, `${path}.${key}`, depth + 1);
    }
  }
}

/** RFC 7396 merge patch, returning a new object. */
export function mergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$version') continue;
    if (value === null) {
      delete out[key];
    } else if (typeof value === 'object' && !Array.isArray(value)) {
      const current = out[key];
      const base = current !== null && typeof current === 'object' && !Array.isArray(current) ? current : {};
      out[key] = mergePatch(base, value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Applies a patch to one section, bumps its version and enforces the size cap. */
export function applySectionPatch(section: JsonObject, patch: JsonObject, what: string): JsonObject {
  const next = mergePatch(section, patch);
  next.$version = sectionVersion(section) + 1;
  const bytes = Buffer.byteLength(JSON.stringify(next));
  if (bytes > limits.twinSectionBytesMax) {
    throw new TandemError(
      'TANDEM_E_TOO_LARGE',
      `${what} properties would be ${bytes} bytes, over ${limits.twinSectionBytesMax}`,
    );
  }
  return next;
}

function hasForbiddenKeyChar(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x20 || c === 0x2e /* . */ || c === 0x24 /* $ */) return true;
  }
  return false;
}

/**
 * The JSON merge patch that turns `from` into `to` (keys starting with `$` are metadata and
 * left alone). Empty when they are equal, so replacing a section with itself is a no-op.
 */
export function patchBetween(from: JsonObject, to: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(from)) {
    if (!key.startsWith('$') && !(key in to)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(to)) {
    const old = from[key];
    if (isPlainObject(old) && isPlainObject(value)) {
      const inner = patchBetween(old, value);
      if (Object.keys(inner).length > 0) patch[key] = inner;
    } else if (JSON.stringify(old) !== JSON.stringify(value)) {
      patch[key] = value;
    }
  }
  return patch;
}

function isPlainObject(v: JsonValue | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
