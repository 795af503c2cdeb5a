/**
 * Running conditions. Each condition is compiled once (when its route is parsed) into a closure
 * tree; this module keeps the closure beside the AST so callers only ever hold the AST.
 */
import type { HubMessage, MessageSource } from '../../hub/message.js';
import type { Expr } from './ast.js';
import { type CompiledCondition, compileCondition } from './compile.js';
import { EvalContext } from './context.js';
import { RouteProblem, routeError } from './errors.js';

const compiled = new WeakMap<Expr, CompiledCondition>();

/** Compiles `expr` (once) and remembers the result; throws TANDEM_E_ROUTE_SYNTAX for an ill-typed AST. */
export function conditionFor(expr: Expr, name?: string, text = ''): CompiledCondition {
  let fn = compiled.get(expr);
  if (fn === undefined) {
    try {
      fn = compileCondition(expr);
    } catch (err) {
      if (err instanceof RouteProblem) throw routeError({ name, text }, err);
      throw err;
    }
    compiled.set(expr, fn);
  }
  return fn;
}

/**
 * Whether `msg`, sent from `from`, satisfies `expr`: true only when the condition is exactly
 * true (undefined and null are false, as in edgeHub and IoT Hub). Never throws on message
 * content: a body that is not JSON only makes `$body` references undefined.
 */
export function evaluateCondition(expr: Expr, msg: HubMessage, from: MessageSource): boolean {
  return conditionFor(expr)(new EvalContext(msg, from));
}
