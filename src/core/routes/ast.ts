/**
 * The data a parsed route is made of. The shapes follow edgeHub's route compiler
 * (Azure/iotedge edge-hub/core/src/Microsoft.Azure.Devices.Routing.Core: grammar/Route.g4,
 * grammar/Condition.g4, query/ConditionVisitor.cs), which is the language Tandem accepts.
 */
import type { Endpoint } from '../../hub/message.js';

/** A 1-based position in the route text (line counts '\n', column counts UTF-16 code units). */
export interface Pos {
  readonly line: number;
  readonly column: number;
}

/**
 * edgeHub types a condition at compile time (query/ConditionVisitor.cs) and rejects routes whose
 * operands do not fit. 'dynamic' is edgeHub's QueryValue: a `$body` value whose type is only
 * known per message (bool, number, string or null at run time, or undefined).
 */
export type ValueType = 'string' | 'number' | 'bool' | 'null' | 'undefined' | 'dynamic';

/** Binary operators from Condition.g4, by precedence: `* / %`, `+ - ||`, `< <= > >=`, `= != <>`, AND, OR, `??`. */
export type BinaryOp =
  | '*'
  | '/'
  | '%'
  | '+'
  | '-'
  | '||'
  | '<'
  | '<='
  | '>'
  | '>='
  | '='
  | '!='
  | '<>'
  | 'AND'
  | 'OR'
  | '??';

/** Prefix operators; in Condition.g4 they bind tighter than every binary operator (`NOT a = b` is `(NOT a) = b`). */
export type UnaryOp = '-' | 'NOT';

export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
  readonly pos: Pos;
}

export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
  readonly pos: Pos;
}

export interface BoolLiteral {
  readonly kind: 'bool';
  readonly value: boolean;
  readonly pos: Pos;
}

export interface NullLiteral {
  readonly kind: 'null';
  readonly pos: Pos;
}

/** `undefined`, or a number literal edgeHub cannot read (`e5`, a hex literal past 64 bits). */
export interface UndefinedLiteral {
  readonly kind: 'undefined';
  readonly pos: Pos;
}

/** A bare identifier: an application property, looked up case-insensitively; always a string. */
export interface PropertyRef {
  readonly kind: 'property';
  readonly name: string;
  readonly pos: Pos;
}

/**
 * `$name` or `{$name}` (name kept without the `$`). Unescaped, an application property called
 * `$name` wins over the system property `name`, as in edgeHub's VisitSysProperty.
 */
export interface SystemPropertyRef {
  readonly kind: 'system';
  readonly name: string;
  readonly escaped: boolean;
  readonly pos: Pos;
}

/**
 * `$body.query` or `{$body.query}`: a JSON path into the message body. Unescaped and without
 * brackets, an application property spelled `$body.query` wins (edgeHub's GetPropertyOrElse).
 */
export interface BodyRef {
  readonly kind: 'body';
  /** The text after `$body.`, e.g. `Weather.Temperature` or `readings[0].value`. */
  readonly query: string;
  readonly escaped: boolean;
  readonly pos: Pos;
}

/** A built-in function call; `name` is as written (functions are matched case-insensitively). */
export interface CallExpr {
  readonly kind: 'call';
  readonly name: string;
  readonly args: readonly Expr[];
  readonly pos: Pos;
}

export interface UnaryExpr {
  readonly kind: 'unary';
  readonly op: UnaryOp;
  readonly operand: Expr;
  /** Position of the operator. */
  readonly pos: Pos;
}

export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  /** Position of the operator (where edgeHub reports operand errors). */
  readonly pos: Pos;
}

export type Expr =
  | StringLiteral
  | NumberLiteral
  | BoolLiteral
  | NullLiteral
  | UndefinedLiteral
  | PropertyRef
  | SystemPropertyRef
  | BodyRef
  | CallExpr
  | UnaryExpr
  | BinaryExpr;

/**
 * What a FROM path selects, after edgeHub's normalization (CustomMessageSource.Create trims
 * trailing `*` and `/`). Matching itself is by prefix (see RouteSource.prefix).
 */
export type SourceSelection =
  /** `/` or `/*`: every message, twin change notifications included. */
  | { readonly kind: 'all' }
  /** `/messages/*`: device telemetry and every module output. */
  | { readonly kind: 'messages' }
  /** `/messages/modules/*`: every module output. */
  | { readonly kind: 'modules' }
  /** `/messages/modules/{m}/*`: everything module m sends. */
  | { readonly kind: 'module'; readonly moduleId: string }
  /** `/messages/modules/{m}/outputs/*`: every named output of module m. */
  | { readonly kind: 'outputs'; readonly moduleId: string }
  /** `/messages/modules/{m}/outputs/{o}`: one output. */
  | { readonly kind: 'output'; readonly moduleId: string; readonly outputName: string }
  /** `/twinChangeNotifications`: parsed like edgeHub; Tandem produces no such messages yet. */
  | { readonly kind: 'twinChangeNotifications' }
  /** Any other path edgeHub accepts (e.g. `/messages/events`); it matches no message. */
  | { readonly kind: 'other' };

export interface RouteSource {
  /** The FROM path as edgeHub reads it: its tokens joined, whitespace and comments dropped. */
  readonly path: string;
  readonly selects: SourceSelection;
  /**
   * Lower-cased normalized path ending in one '/'. A message matches when its own path
   * (`/messages/` or `/messages/modules/{m}/outputs/{o}/`) starts with it, ignoring case
   * (BaseMessageSource.Match).
   */
  readonly prefix: string;
}

export interface CompiledRoute {
  readonly name: string;
  readonly text: string;
  readonly source: RouteSource;
  /** Absent when the route has no WHERE clause (edgeHub uses the condition `true`). */
  readonly condition?: Expr;
  readonly endpoint: Endpoint;
}

/** A route as the table holds it, with its manifest priority and TTL. */
export interface TableRoute extends CompiledRoute {
  /** 0 (highest) to 9, or routePriorityDefault when the manifest sets none. */
  readonly priority: number;
  /** Seconds; undefined means the hub's storeAndForwardConfiguration TTL applies. */
  readonly timeToLiveSecs: number | undefined;
}

export interface RouteTable {
  /** In manifest order. */
  readonly routes: readonly TableRoute[];
}

/** The `$edgeHub` `properties.desired.routes` value of one route (manifest schema 1.0 or 1.1). */
export type RouteSpec =
  | string
  | { readonly route: string; readonly priority?: number; readonly timeToLiveSecs?: number };

/** One endpoint a message goes to, after several routes to it were merged. */
export interface RoutedEndpoint {
  readonly endpoint: Endpoint;
  readonly priority: number;
  readonly timeToLiveSecs: number | undefined;
  /** Every route that matched and points here, in table order. */
  readonly routeNames: readonly string[];
}

/**
 * Binary operator precedence, loosest first, after edgeHub's Condition.g4 alternative order;
 * every binary operator is left-associative. The parser and the printer share it.
 */
export const BINARY_PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
  '??': 0,
  OR: 1,
  AND: 2,
  '=': 3,
  '!=': 3,
  '<>': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '+': 5,
  '-': 5,
  '||': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};
