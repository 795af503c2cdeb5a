/** Shared builders for the route tests. */
import assert from 'node:assert/strict';
import { type Expr, evaluateCondition, parseRoute } from '../../../src/core/routes/index.js';
import { tokenize } from '../../../src/core/routes/lexer.js';
import { RouteParser } from '../../../src/core/routes/parser.js';
import { isTandemError, type TandemError } from '../../../src/errors.js';
import type { HubMessage, MessageSource } from '../../../src/hub/message.js';

export const telemetry: MessageSource = { kind: 'telemetry', deviceId: 'dev1' };

export function fromModule(moduleId: string, outputName: string, deviceId = 'edge1'): MessageSource {
  return { kind: 'module', deviceId, moduleId, outputName };
}

export interface MessageParts {
  readonly body?: string | Uint8Array;
  readonly properties?: Record<string, string>;
  readonly systemProperties?: Record<string, string>;
}

export function message(parts: MessageParts = {}): HubMessage {
  const body =
    typeof parts.body === 'string' ? new TextEncoder().encode(parts.body) : (parts.body ?? new Uint8Array());
  return {
    id: 'm1',
    body,
    properties: parts.properties ?? {},
    systemProperties: parts.systemProperties ?? {},
  };
}

/** A JSON message, as the IoT device SDKs send it with contentType/contentEncoding set. */
export function jsonMessage(body: unknown, properties: Record<string, string> = {}): HubMessage {
  return message({
    body: JSON.stringify(body),
    properties,
    systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8' },
  });
}

/** The message edgeHub's ConditionCompilerTest uses (minus its null-valued properties, which MQTT cannot carry). */
export const propsMessage = message({
  properties: { key1: 'value1', key2: '3', key3: 'VALUE3', $sys4: 'value4' },
  systemProperties: { sys1: 'sysvalue1', sys2: '4', sys3: 'SYSVALUE3', sys4: 'sysvalue4' },
});

/** The WHERE clause of a catch-all route; "FROM /* WHERE " is 14 characters. */
export function where(condition: string): Expr {
  const c = parseRoute(`FROM /* WHERE ${condition} INTO $upstream`).condition;
  assert.ok(c !== undefined);
  return c;
}

/** The WHERE clause's syntax tree only, without type checking. */
export function syntaxOf(condition: string): Expr {
  const c = new RouteParser(tokenize(`FROM /* WHERE ${condition} INTO $upstream`)).parseRoute().condition;
  assert.ok(c !== undefined);
  return c;
}

export type Tri = 'true' | 'false' | 'undefined';

/**
 * The three-valued result of a bool condition: a route matches only on true, so undefined is
 * told apart from false by also evaluating `NOT (condition)`.
 */
export function tri(condition: string, msg: HubMessage = propsMessage, from: MessageSource = telemetry): Tri {
  if (evaluateCondition(where(condition), msg, from)) return 'true';
  return evaluateCondition(where(`NOT (${condition})`), msg, from) ? 'false' : 'undefined';
}

/** Parses `text` expecting TANDEM_E_ROUTE_SYNTAX, and returns the error. */
export function syntaxError(text: string, name?: string): TandemError {
  try {
    parseRoute(text, name);
  } catch (err) {
    assert.ok(
      isTandemError(err, 'TANDEM_E_ROUTE_SYNTAX'),
      `expected a route syntax error, got ${String(err)}`,
    );
    return err;
  }
  assert.fail(`route parsed but should not: ${text}`);
}

/** The error message of a condition that must not compile. */
export function conditionError(condition: string): string {
  return syntaxError(`FROM /* WHERE ${condition} INTO $upstream`).message;
}

/** Removes positions so ASTs from different texts compare equal. */
export function withoutPos(e: unknown): unknown {
  if (Array.isArray(e)) return e.map(withoutPos);
  if (typeof e !== 'object' || e === null) return e;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (k !== 'pos') out[k] = withoutPos(v);
  return out;
}
