/**
 * Run-time values of a condition and the operations on them, after edgeHub's query types
 * (Routing.Core/query: Bool.cs, Null.cs, Undefined.cs, ComparisonOperators.cs, types/QueryValue.cs).
 *
 * edgeHub's undefined is per type: a sentinel string, NaN for numbers, Bool.Undefined. Here a
 * value is a JS primitive; `undefined` is undefined, and a number is undefined when it is NaN.
 */
import type { EvalContext } from './context.js';

export type Value = string | number | boolean | null | undefined;
export type Evaluator = (ctx: EvalContext) => Value;

/** IS_DEFINED for every type: NaN is edgeHub's undefined number; null is defined. */
export function isDefined(v: Value): boolean {
  return v !== undefined && !Number.isNaN(v);
}

/** A value as a QueryValue (edgeHub converts operands when one side is a $body value): NaN becomes undefined. */
export function toDynamic(v: Value): Value {
  return Number.isNaN(v) ? undefined : v;
}

/** QueryValue.Compare orders values of different types by QueryValueType: Bool < Double < String < Null. */
function typeRank(v: string | number | boolean | null): number {
  if (typeof v === 'boolean') return 1;
  if (typeof v === 'number') return 2;
  if (typeof v === 'string') return 3;
  return 4;
}

/**
 * Three-way comparison, undefined when either side is undefined. Strings compare by UTF-16
 * code unit (StringComparison.Ordinal), false < true, null = null. Values of different types
 * can only meet through a $body value; edgeHub then orders them by type, so `$body.t = '50'`
 * is false (not undefined) when t is the number 50.
 */
export function compare(a: Value, b: Value): number | undefined {
  if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b)) return undefined;
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (a === null || b === null) return 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Kleene AND over bool values (Bool.cs operator &): false wins, then undefined. */
export function and3(a: Value, b: Value): Value {
  if (a === false || b === false) return false;
  return a === true && b === true ? true : undefined;
}

/** Kleene OR over bool values (Bool.cs operator |): true wins, then undefined. */
export function or3(a: Value, b: Value): Value {
  if (a === true || b === true) return true;
  return a === false && b === false ? false : undefined;
}

/** Bool.cs operator !: undefined stays undefined. */
export function not3(a: Value): Value {
  return a === true ? false : a === false ? true : undefined;
}
