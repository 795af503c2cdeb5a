/**
 * Schema validation of a manifest with ajv, and the translation of ajv's errors into Tandem's:
 * a JSON path in our style (not a JSON Pointer) and what was expected, in words an operator
 * can act on ("expected one of running, stopped", "unknown field (expected one of ...)").
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { TandemError } from '../../errors.js';
import { childPath, isRecord, pointerToPath } from './json-path.js';
import { manifestSchema } from './schema.js';

/** One problem in a manifest: where, and what was expected there. */
export interface ManifestProblem {
  readonly path: string;
  readonly expected: string;
  /** Set when the problem is inside text (a route, createOptions): 1-based. */
  readonly line?: number;
  readonly column?: number;
}

type Schema = Record<string, unknown>;

let compiled: ValidateFunction | undefined;

/** Compiled on first use, once per process: compiling costs milliseconds, validating microseconds. */
function validator(): ValidateFunction {
  if (compiled === undefined) {
    // allErrors: report every problem at once; verbose: the failing schema explains the error;
    // allowUnionTypes: a route is a string or an object, an env value a string, number or boolean.
    const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true });
    compiled = ajv.compile(manifestSchema);
  }
  return compiled;
}

/**
 * Every schema problem of `manifest`, in the order they appear in the document (ajv reports in
 * schema order, which would put "settings.image is missing" before the misspelt `type` that
 * caused it); empty when it is valid.
 */
export function schemaProblems(manifest: unknown): ManifestProblem[] {
  const validate = validator();
  if (validate(manifest)) return [];
  const found: { problem: ManifestProblem; order: number[] }[] = [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    const problem = toProblem(err, manifest);
    if (problem === undefined) continue;
    // A value can fail several keywords that say the same thing (an integer out of range).
    const key = `${problem.path}\u0000${problem.expected}`;
    if (seen.has(key)) continue;
    seen.add(key);
    found.push({ problem, order: documentOrder(manifest, err) });
  }
  return found.sort((a, b) => compareOrder(a.order, b.order)).map((f) => f.problem);
}

/** Where an error sits in the document: the index of each key on its path; absent keys sort last. */
function documentOrder(manifest: unknown, err: ErrorObject): number[] {
  const params = err.params as Record<string, unknown>;
  const named = params.missingProperty ?? params.additionalProperty ?? params.propertyName;
  const keys = err.instancePath === '' ? [] : err.instancePath.slice(1).split('/');
  const segments = keys.map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (typeof named === 'string') segments.push(named);
  const order: number[] = [];
  let node: unknown = manifest;
  for (const segment of segments) {
    const names = Array.isArray(node)
      ? node.map((_, i) => String(i))
      : isRecord(node)
        ? Object.keys(node)
        : [];
    const at = names.indexOf(segment);
    order.push(at < 0 ? names.length : at);
    node = at < 0 ? undefined : (node as Record<string, unknown>)[segment];
  }
  return order;
}

function compareOrder(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/** The error a list of problems makes: the first leads the message, all are in details. */
export function manifestError(problems: readonly ManifestProblem[]): TandemError {
  const first = problems[0];
  if (first === undefined) throw new TandemError('TANDEM_E_ASSERT', 'manifestError needs a problem');
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new TandemError('TANDEM_E_MANIFEST', `${first.path}: ${first.expected}${more}`, {
    details: { path: first.path, errors: problems },
  });
}

function toProblem(err: ErrorObject, manifest: unknown): ManifestProblem | undefined {
  const at = pointerToPath(err.instancePath, manifest);
  const parent = (err.parentSchema ?? {}) as Schema;
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'if':
      // The failing branch reports its own errors; "must match then schema" adds nothing.
      return undefined;
    case 'required': {
      const name = String(params.missingProperty);
      const wanted = describe(propertySchema(parent, name));
      const hint = wanted === 'a value' ? '' : ` (expected ${wanted})`;
      return { path: childPath(at, name), expected: `required field is missing${hint}` };
    }
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const known = isRecord(parent.properties) ? Object.keys(parent.properties) : [];
      const list = known.length > 0 ? ` (expected one of ${known.join(', ')})` : '';
      return { path: childPath(at, name), expected: `unknown field${list}` };
    }
    case 'propertyNames': {
      const names = isRecord(parent.propertyNames) ? resolve(parent.propertyNames) : {};
      const rule = typeof names.description === 'string' ? names.description : 'a valid name';
      return {
        path: childPath(at, String(params.propertyName)),
        expected: `invalid name (expected ${rule})`,
      };
    }
    case 'dependencies':
      return {
        path: childPath(at, String(params.missingProperty)),
        expected: `required because ${String(params.property)} is set (parts go in order)`,
      };
    case 'maxProperties':
      return {
        path: at,
        expected: `at most ${String(params.limit)} entries allowed, found ${countOf(err.data)}`,
      };
    case 'not':
      return {
        path: at,
        expected: typeof parent.description === 'string' ? parent.description : 'not allowed here',
      };
    default:
      // The inner errors of propertyNames name the parent object; the propertyNames error says it better.
      if ((err as { propertyName?: string }).propertyName !== undefined) return undefined;
      return { path: at, expected: `expected ${describe(parent)}` };
  }
}

function countOf(data: unknown): number {
  return isRecord(data) ? Object.keys(data).length : 0;
}

/** Follows a local `$ref` ("#/definitions/x", "#/properties/y") through the manifest schema. */
function resolve(schema: Schema): Schema {
  let s = schema;
  for (let hops = 0; typeof s.$ref === 'string' && hops < 8; hops++) {
    let node: unknown = manifestSchema;
    for (const part of s.$ref.slice(2).split('/')) node = isRecord(node) ? node[part] : undefined;
    if (!isRecord(node)) break;
    s = node;
  }
  return s;
}

function propertySchema(parent: Schema, name: string): Schema {
  const props = isRecord(parent.properties) ? parent.properties : {};
  const own = props[name];
  return isRecord(own) ? resolve(own) : {};
}

const typeNames: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** What a schema accepts, in words: "an integer from 1 to 16", "one of running, stopped". */
function describe(schemaIn: Schema): string {
  const s = resolve(schemaIn);
  if (Array.isArray(s.enum)) return `one of ${s.enum.map(String).join(', ')}`;
  if (s.const !== undefined) return JSON.stringify(s.const);
  const types = (Array.isArray(s.type) ? s.type : [s.type]).filter((t): t is string => typeof t === 'string');
  if (types.length === 0) return 'a value';
  if (types.length > 1) return orList(types.map((t) => typeNames[t] ?? t));
  const type = types[0]!;
  if (type === 'string') return s.minLength === 1 ? 'a non-empty string' : 'a string';
  if (type === 'array' && isRecord(s.items) && s.items.type === 'string') return 'an array of strings';
  if (type === 'integer' || type === 'number') return numberRange(typeNames[type]!, s);
  return typeNames[type] ?? type;
}

/** "a, b or c". */
function orList(items: readonly string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

function numberRange(noun: string, s: Schema): string {
  const { minimum: min, maximum: max, exclusiveMinimum: above } = s;
  if (typeof min === 'number' && typeof max === 'number') return `${noun} from ${min} to ${max}`;
  if (typeof above === 'number') return `${noun} greater than ${above}`;
  if (typeof min === 'number') return `${noun} of at least ${min}`;
  if (typeof max === 'number') return `${noun} of at most ${max}`;
  return noun;
}
