/**
 * The built-in functions edgeHub implements (Routing.Core/query/ConditionVisitor.cs `Builtins`,
 * one class each in query/builtins/), with their argument types and undefined rules. Names
 * match case-insensitively. A `$body` argument ('dynamic') fits any parameter edgeHub marks
 * IsQueryValueSupported; a value of the wrong run-time type then gives undefined.
 *
 * Not here, like edgeHub: IS_OBJECT, IS_PRIMITIVE, LOG, RTRIM, etc. from IoT Hub's docs.
 * TWIN_CHANGE_INCLUDES exists in edgeHub but only for a source class a parsed route never has,
 * so edgeHub rejects it in every route; it is an unknown function here too.
 */
import type { ValueType } from './ast.js';
import type { EvalContext } from './context.js';
import { type Evaluator, isDefined, type Value } from './values.js';

export interface Typed {
  readonly type: ValueType;
  readonly run: Evaluator;
}

export interface Builtin {
  /** Accepted signatures, for error messages. */
  readonly usage: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** The compiled call, or undefined when the argument types fit no signature. */
  readonly build: (args: readonly Typed[]) => Typed | undefined;
}

const isNum = (t: ValueType): boolean => t === 'number' || t === 'dynamic';
const isStr = (t: ValueType): boolean => t === 'string' || t === 'dynamic';
const constant = (type: ValueType, v: Value): Typed => ({ type, run: () => v });

function num(v: Value): v is number {
  return typeof v === 'number' && !Number.isNaN(v);
}

/** Math.Pow follows IEEE 754: pow(1, y) and pow(-1, ±Infinity) are 1, where JS gives NaN. */
function pow(x: number, y: number): number {
  if (x === 1 || (x === -1 && !Number.isFinite(y))) return 1;
  return x ** y;
}

function math1(usage: string, fn: (v: number) => number): Builtin {
  return {
    usage,
    minArgs: 1,
    maxArgs: 1,
    build: ([a]) =>
      a !== undefined && isNum(a.type)
        ? {
            type: 'number',
            run: (ctx) => {
              const v = a.run(ctx);
              return num(v) ? fn(v) : Number.NaN;
            },
          }
        : undefined,
  };
}

/** STARTS_WITH, ENDS_WITH, CONTAINS, INDEX_OF: two strings, ordinal comparison. */
function strings2(usage: string, type: ValueType, fn: (s: string, f: string) => Value, none: Value): Builtin {
  return {
    usage,
    minArgs: 2,
    maxArgs: 2,
    build: ([a, b]) =>
      a !== undefined && b !== undefined && isStr(a.type) && isStr(b.type)
        ? {
            type,
            run: (ctx) => {
              const s = a.run(ctx);
              const f = b.run(ctx);
              return typeof s === 'string' && typeof f === 'string' ? fn(s, f) : none;
            },
          }
        : undefined,
  };
}

function string1(usage: string, type: ValueType, fn: (s: string) => Value, none: Value): Builtin {
  return {
    usage,
    minArgs: 1,
    maxArgs: 1,
    build: ([a]) =>
      a !== undefined && isStr(a.type)
        ? {
            type,
            run: (ctx) => {
              const s = a.run(ctx);
              return typeof s === 'string' ? fn(s) : none;
            },
          }
        : undefined,
  };
}

/** A one-argument type test: `fits` types run `test`, other types are constantly false. */
function typeTest(usage: string, fits: (t: ValueType) => boolean, test: (v: Value) => Value): Builtin {
  return {
    usage,
    minArgs: 1,
    maxArgs: 1,
    build: ([a]) => {
      if (a === undefined) return undefined;
      if (!fits(a.type)) return constant('bool', false);
      return { type: 'bool', run: (ctx: EvalContext) => test(a.run(ctx)) };
    },
  };
}

const DOTNET_SPACE = /^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g;
const DOTNET_NUMBER = /^(\()?([+-])?((?:[0-9][0-9,]*)?(?:\.[0-9]*)?)(?:[eE]([+-]?[0-9]+))?([+-])?(\))?$/;

/**
 * AS_NUMBER's double.TryParse(s, NumberStyles.Any, InvariantCulture), approximated: outer
 * whitespace, a leading or trailing sign or parentheses, ',' group separators, '.', exponent,
 * and Infinity; overflow gives ±Infinity as on .NET Core. Currency symbols are not accepted.
 */
export function parseDotNetNumber(text: string): number {
  const s = text.replace(DOTNET_SPACE, '');
  const inf = /^([+-]?)(?:infinity|∞)$/i.exec(s);
  if (inf !== null) return inf[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  const m = DOTNET_NUMBER.exec(s);
  if (m === null) return Number.NaN;
  const [, open, lead, mantissa = '', exp, trail, close] = m;
  const parens = open !== undefined;
  if (!/[0-9]/.test(mantissa) || parens !== (close !== undefined)) return Number.NaN;
  if (
    (lead !== undefined && trail !== undefined) ||
    (parens && (lead !== undefined || trail !== undefined))
  ) {
    return Number.NaN;
  }
  const value = Number(mantissa.replace(/,/g, '') + (exp === undefined ? '' : `e${exp}`));
  return parens || lead === '-' || trail === '-' ? -value : value;
}

const asNumber: Builtin = {
  usage: 'AS_NUMBER(string) or AS_NUMBER(number)',
  minArgs: 1,
  maxArgs: 1,
  build: ([a]) => {
    if (a === undefined) return undefined;
    if (a.type === 'number') return a;
    if (!isStr(a.type)) return undefined;
    return {
      type: 'number',
      run: (ctx) => {
        const v = a.run(ctx);
        return typeof v === 'string' ? parseDotNetNumber(v) : num(v) ? v : Number.NaN;
      },
    };
  },
};

const power: Builtin = {
  usage: 'POWER(number, number)',
  minArgs: 2,
  maxArgs: 2,
  build: ([a, b]) =>
    a !== undefined && b !== undefined && isNum(a.type) && isNum(b.type)
      ? {
          type: 'number',
          run: (ctx) => {
            const x = a.run(ctx);
            const y = b.run(ctx);
            return num(x) && num(y) ? pow(x, y) : Number.NaN;
          },
        }
      : undefined,
};

/** CONCAT takes two or more strings (VarArgs(string, string, string)); `||` uses it too. */
const concat: Builtin = {
  usage: 'CONCAT(string, string, ...)',
  minArgs: 2,
  maxArgs: Number.POSITIVE_INFINITY,
  build: (args) => {
    if (args.length < 2 || !args.every((a) => isStr(a.type))) return undefined;
    const runs = args.map((a) => a.run);
    return {
      type: 'string',
      run: (ctx) => {
        let out = '';
        for (const r of runs) {
          const v = r(ctx);
          if (typeof v !== 'string') return undefined;
          out += v;
        }
        return out;
      },
    };
  },
};

/** Substring.cs, one argument: start in [0, length]; (int) casts truncate. */
function substringFrom(s: string, start: Value): Value {
  return num(start) && start >= 0 && start <= s.length ? s.substring(Math.trunc(start)) : undefined;
}

/** Substring.cs, two arguments: start < length and start + count <= length. */
function substringRange(s: string, start: Value, count: Value): Value {
  if (!num(start) || !num(count) || start < 0 || start >= s.length || count < 0 || count > s.length - start) {
    return undefined;
  }
  const from = Math.trunc(start);
  return s.substring(from, from + Math.trunc(count));
}

const substring: Builtin = {
  usage: 'SUBSTRING(string, number) or SUBSTRING(string, number, number)',
  minArgs: 2,
  maxArgs: 3,
  build: (args) => {
    const [a, b, c] = args;
    if (a === undefined || b === undefined || !isStr(a.type) || !isNum(b.type)) return undefined;
    if (c !== undefined && !isNum(c.type)) return undefined;
    return {
      type: 'string',
      run: (ctx) => {
        const s = a.run(ctx);
        if (typeof s !== 'string') return undefined;
        return c === undefined ? substringFrom(s, b.run(ctx)) : substringRange(s, b.run(ctx), c.run(ctx));
      },
    };
  },
};

/** IsNull.cs compares a $body value by reference to a shared instance, which is true for every JSON value but a missing one; we test for null, as documented. */
const isNull: Builtin = {
  usage: 'IS_NULL(any)',
  minArgs: 1,
  maxArgs: 1,
  build: ([a]) => {
    if (a === undefined) return undefined;
    if (a.type === 'null') return constant('bool', true);
    if (a.type !== 'dynamic') return constant('bool', false);
    return {
      type: 'bool',
      run: (ctx) => {
        const v = a.run(ctx);
        return v === undefined ? undefined : v === null;
      },
    };
  },
};

export const builtins: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ['abs', math1('ABS(number)', Math.abs)],
  ['exp', math1('EXP(number)', Math.exp)],
  ['power', power],
  ['square', math1('SQUARE(number)', (v) => pow(v, 2))],
  ['ceiling', math1('CEILING(number)', Math.ceil)],
  ['floor', math1('FLOOR(number)', Math.floor)],
  // Math.Sign gives 0 for -0; Math.sign would give -0.
  ['sign', math1('SIGN(number)', (v) => (v > 0 ? 1 : v < 0 ? -1 : 0))],
  ['sqrt', math1('SQRT(number)', Math.sqrt)],
  ['as_number', asNumber],
  // IsBool.cs: a bool (or $body value) that is undefined stays undefined; other types are false.
  [
    'is_bool',
    typeTest(
      'IS_BOOL(any)',
      (t) => t === 'bool' || t === 'dynamic',
      (v) => (isDefined(v) ? typeof v === 'boolean' : undefined),
    ),
  ],
  ['is_defined', typeTest('IS_DEFINED(any)', () => true, isDefined)],
  ['is_null', isNull],
  // IsNumber.cs: Infinity is not a number.
  ['is_number', typeTest('IS_NUMBER(any)', isNum, (v) => typeof v === 'number' && Number.isFinite(v))],
  ['is_string', typeTest('IS_STRING(any)', isStr, (v) => typeof v === 'string')],
  ['concat', concat],
  ['length', string1('LENGTH(string)', 'number', (s) => s.length, Number.NaN)],
  // ToLowerInvariant/ToUpperInvariant; JS case mapping differs only for a few special letters.
  ['lower', string1('LOWER(string)', 'string', (s) => s.toLowerCase(), undefined)],
  ['upper', string1('UPPER(string)', 'string', (s) => s.toUpperCase(), undefined)],
  ['substring', substring],
  ['index_of', strings2('INDEX_OF(string, string)', 'number', (s, f) => s.indexOf(f), Number.NaN)],
  ['starts_with', strings2('STARTS_WITH(string, string)', 'bool', (s, f) => s.startsWith(f), undefined)],
  ['ends_with', strings2('ENDS_WITH(string, string)', 'bool', (s, f) => s.endsWith(f), undefined)],
  ['contains', strings2('CONTAINS(string, string)', 'bool', (s, f) => s.includes(f), undefined)],
]);
