/**
 * Condition AST to a closure tree, once per route. Like edgeHub's ConditionVisitor.cs we type
 * every node and reject what edgeHub rejects: an application property is a string, so
 * `temperature > 30` is an error (edgeHub does not convert; write `AS_NUMBER(temperature) > 30`).
 * A route matches only when its condition is exactly true; undefined and null do not match.
 */
import type { BinaryExpr, BinaryOp, CallExpr, Expr, UnaryExpr, ValueType } from './ast.js';
import type { EvalContext } from './context.js';
import { quote, RouteProblem } from './errors.js';
import { type Builtin, builtins, type Typed } from './functions.js';
import { compileBody, compileProperty, compileSystem } from './references.js';
import { and3, compare, isDefined, not3, or3, toDynamic, type Value } from './values.js';

export type CompiledCondition = (ctx: EvalContext) => boolean;

/** Type names as edgeHub's ErrorListener prints them; its QueryValue ('unknown') is a $body value. */
function typeName(t: ValueType): string {
  return t === 'dynamic' ? '$body value' : t;
}

function operandError(e: BinaryExpr, l: ValueType, r: ValueType, expected: ValueType, hint = ''): never {
  const want = typeName(expected);
  throw new RouteProblem(
    e.pos,
    `invalid operands to binary operator '${e.op}': have '${typeName(l)}' and '${typeName(r)}', expected '${want}' and '${want}'${hint}`,
  );
}

const numeric = (t: ValueType): boolean => t === 'number' || t === 'dynamic';
const stringy = (t: ValueType): boolean => t === 'string' || t === 'dynamic';
/** QueryValue.IsSupportedType: the static types a $body value may be compared with. */
const comparable = (t: ValueType): boolean =>
  t === 'null' || t === 'number' || t === 'string' || t === 'bool';

/** CheckOperands with the left type expected on both sides (comparisons, equality, `??`). */
function sameTypes(l: ValueType, r: ValueType): boolean {
  return l === r || (r === 'dynamic' && comparable(l)) || (l === 'dynamic' && comparable(r));
}

function arithmetic(e: BinaryExpr, l: Typed, r: Typed): Typed {
  if (!numeric(l.type) || !numeric(r.type)) {
    const hint = l.type === 'string' || r.type === 'string' ? ' (properties are strings; use AS_NUMBER)' : '';
    operandError(e, l.type, r.type, 'number', hint);
  }
  const op = arithmeticOp(e.op);
  if (l.type === 'number' && r.type === 'number')
    return { type: 'number', run: (ctx) => op(l.run(ctx) as number, r.run(ctx) as number) };
  // edgeHub has no `%` and no unary minus for QueryValue: those fail to compile with a $body operand.
  if (e.op === '%')
    throw new RouteProblem(e.pos, "operator '%' does not take a $body value; wrap it in AS_NUMBER()");
  return {
    type: 'dynamic',
    run: (ctx) => {
      const a = toDynamic(l.run(ctx));
      const b = toDynamic(r.run(ctx));
      return typeof a === 'number' && typeof b === 'number' ? toDynamic(op(a, b)) : undefined;
    },
  };
}

function arithmeticOp(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case '*':
      return (a, b) => a * b;
    case '/':
      return (a, b) => a / b;
    case '%':
      return (a, b) => a % b;
    case '+':
      return (a, b) => a + b;
    default:
      return (a, b) => a - b;
  }
}

function comparison(e: BinaryExpr, l: Typed, r: Typed): Typed {
  if (!sameTypes(l.type, r.type)) {
    const mixed =
      (l.type === 'string' && r.type === 'number') || (l.type === 'number' && r.type === 'string');
    operandError(
      e,
      l.type,
      r.type,
      l.type,
      mixed ? ' (properties are strings; compare with a string or use AS_NUMBER)' : '',
    );
  }
  const test = compareTest(e.op);
  return {
    type: 'bool',
    run: (ctx) => {
      const c = compare(l.run(ctx), r.run(ctx));
      return c === undefined ? undefined : test(c);
    },
  };
}

function compareTest(op: BinaryOp): (c: number) => boolean {
  switch (op) {
    case '=':
      return (c) => c === 0;
    case '!=':
    case '<>':
      return (c) => c !== 0;
    case '<':
      return (c) => c < 0;
    case '<=':
      return (c) => c <= 0;
    case '>':
      return (c) => c > 0;
    default:
      return (c) => c >= 0;
  }
}

function concatOp(e: BinaryExpr, l: Typed, r: Typed): Typed {
  if (!stringy(l.type) || !stringy(r.type)) operandError(e, l.type, r.type, 'string');
  return {
    type: 'string',
    run: (ctx) => {
      const a = l.run(ctx);
      const b = r.run(ctx);
      return typeof a === 'string' && typeof b === 'string' ? a + b : undefined;
    },
  };
}

/** `a ?? b`: a when defined, else b (VisitCoalesce). */
function coalesce(e: BinaryExpr, l: Typed, r: Typed): Typed {
  if (!sameTypes(l.type, r.type)) operandError(e, l.type, r.type, l.type);
  if (l.type === 'undefined') return r;
  const dynamic = l.type === 'dynamic' || r.type === 'dynamic';
  return {
    type: dynamic ? 'dynamic' : l.type,
    run: (ctx) => {
      const a = l.run(ctx);
      const v = isDefined(a) ? a : r.run(ctx);
      return dynamic ? toDynamic(v) : v;
    },
  };
}

function compileBinary(e: BinaryExpr): Typed {
  const l = compileNode(e.left);
  const r = compileNode(e.right);
  switch (e.op) {
    case '*':
    case '/':
    case '%':
    case '+':
    case '-':
      return arithmetic(e, l, r);
    case '||':
      return concatOp(e, l, r);
    case 'AND':
    case 'OR':
      return logical(e, l, r);
    case '??':
      return coalesce(e, l, r);
    default:
      return comparison(e, l, r);
  }
}

/** AND/OR (VisitAnd, VisitOr, CheckBooleanOperands, and the Bool, Null, Undefined and QueryValue operators). */
function logical(e: BinaryExpr, l: Typed, r: Typed): Typed {
  const boolish = (t: ValueType): boolean => t === 'null' || t === 'bool' || t === 'undefined';
  // edgeHub checks the right side against the left's type by mistake: a bare $body value is
  // accepted on the right only when the left is one too. We accept exactly what edgeHub accepts.
  const valid = (boolish(l.type) || l.type === 'dynamic') && (boolish(r.type) || l.type === 'dynamic');
  const hint =
    r.type === 'dynamic' ? ' (edgeHub needs an explicit test on the right, e.g. $body.flag = true)' : '';
  if (!valid) operandError(e, l.type, r.type, 'bool', hint);
  const isAnd = e.op === 'AND';
  if (l.type === 'dynamic' || r.type === 'dynamic') {
    // No conversion from QueryValue to Null exists, so `null AND $body.x` does not compile in edgeHub.
    if (isAnd && (l.type === 'null' || r.type === 'null')) operandError(e, l.type, r.type, 'bool');
    return { type: 'bool', run: (ctx) => dynamicLogic(isAnd, toDynamic(l.run(ctx)), toDynamic(r.run(ctx))) };
  }
  if ((l.type === 'null' && r.type === 'undefined') || (l.type === 'undefined' && r.type === 'null')) {
    operandError(e, l.type, r.type, 'bool');
  }
  return (
    nullLogic(isAnd, l, r) ?? {
      type: 'bool',
      run: isAnd ? (ctx) => and3(l.run(ctx), r.run(ctx)) : (ctx) => or3(l.run(ctx), r.run(ctx)),
    }
  );
}

/** QueryValue & and |: both sides must be bools, else undefined (even `false AND <null>`). */
function dynamicLogic(isAnd: boolean, a: Value, b: Value): Value {
  if (typeof a !== 'boolean' || typeof b !== 'boolean') return undefined;
  return isAnd ? a && b : a || b;
}

/** Null.cs: `null AND x` is null; `null OR x` is x; null is false as a result. */
function nullLogic(isAnd: boolean, l: Typed, r: Typed): Typed | undefined {
  if (l.type !== 'null' && r.type !== 'null') return undefined;
  if (isAnd || (l.type === 'null' && r.type === 'null')) return { type: 'null', run: () => null };
  return l.type === 'null' ? r : l;
}

/** Unary minus takes numbers only: edgeHub's QueryValue has no negation operator. */
function negate(e: UnaryExpr, x: Typed): Typed {
  if (x.type === 'dynamic') {
    throw new RouteProblem(e.pos, "unary '-' does not take a $body value; write 0 - x");
  }
  if (x.type !== 'number') {
    const have = typeName(x.type);
    throw new RouteProblem(e.pos, `invalid operand to unary operator '-': have '${have}', expected 'number'`);
  }
  return { type: 'number', run: (ctx) => -(x.run(ctx) as number) };
}

/** NOT takes bools, $body values and null (`NOT null` is true, Null.cs). */
function not(e: UnaryExpr, x: Typed): Typed {
  switch (x.type) {
    case 'null':
      return { type: 'bool', run: () => true };
    case 'bool':
      return { type: 'bool', run: (ctx) => not3(x.run(ctx)) };
    case 'dynamic':
      return { type: 'bool', run: (ctx) => not3(toDynamic(x.run(ctx))) };
    default: {
      const hint = x.type === 'string' ? " (NOT binds tighter than '=': write NOT (a = b))" : '';
      const have = typeName(x.type);
      throw new RouteProblem(
        e.pos,
        `invalid operand to unary operator 'NOT': have '${have}', expected 'bool'${hint}`,
      );
    }
  }
}

function compileUnary(e: UnaryExpr): Typed {
  const x = compileNode(e.operand);
  return e.op === '-' ? negate(e, x) : not(e, x);
}

function arityText(fn: Builtin): string {
  if (fn.minArgs === fn.maxArgs) return `${fn.minArgs} argument${fn.minArgs === 1 ? '' : 's'}`;
  if (fn.maxArgs === Number.POSITIVE_INFINITY) return `at least ${fn.minArgs} arguments`;
  return `${fn.minArgs} or ${fn.maxArgs} arguments`;
}

/** VisitFunc: the name is checked first, then the arguments are compiled, then their types. */
function compileCall(e: CallExpr): Typed {
  const fn = builtins.get(e.name.toLowerCase());
  if (fn === undefined) throw new RouteProblem(e.pos, `unknown function ${quote(e.name)}`);
  const args = e.args.map(compileNode);
  const n = args.length;
  if (n < fn.minArgs || n > fn.maxArgs) {
    throw new RouteProblem(e.pos, `function ${e.name} takes ${arityText(fn)}, found ${n}`);
  }
  const call = fn.build(args);
  if (call === undefined) {
    const have = `${e.name}(${args.map((a) => typeName(a.type)).join(', ')})`;
    throw new RouteProblem(
      e.pos,
      `invalid arguments to function ${e.name}: have ${have}, expected ${fn.usage}`,
    );
  }
  return call;
}

function constant(type: ValueType, v: Value): Typed {
  return { type, run: () => v };
}

function compileNode(e: Expr): Typed {
  switch (e.kind) {
    case 'string':
      return constant('string', e.value);
    case 'number':
      return constant('number', e.value);
    case 'bool':
      return constant('bool', e.value);
    case 'null':
      return constant('null', null);
    case 'undefined':
      return constant('undefined', undefined);
    case 'property':
      return compileProperty(e);
    case 'system':
      return compileSystem(e);
    case 'body':
      return compileBody(e);
    case 'call':
      return compileCall(e);
    case 'unary':
      return compileUnary(e);
    case 'binary':
      return compileBinary(e);
  }
}

/** Type-checks and compiles a condition; throws RouteProblem at the first error, in edgeHub's visiting order. */
export function compileCondition(expr: Expr): CompiledCondition {
  const { run } = compileNode(expr);
  // The final Convert(expression, Bool): only a true bool (or a $body true) routes the message.
  return (ctx) => run(ctx) === true;
}
