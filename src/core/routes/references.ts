/**
 * Property references, compiled: `name` (application property), `$name` and `{$name}` (system
 * property), `$body.path` and `{$body.path}` (JSON body). Rules from edgeHub's
 * query/ConditionVisitor.cs (VisitProperty, VisitSysProperty, VisitSysPropertyEscaped).
 */
import type { BodyRef, PropertyRef, SystemPropertyRef } from './ast.js';
import { parseBodyQuery, readBody } from './body.js';
import type { EvalContext } from './context.js';
import { RouteProblem } from './errors.js';
import type { Typed } from './functions.js';

type StringReader = (ctx: EvalContext) => string | undefined;

/**
 * edgeHub keeps some system properties under its own names (edge-hub/core/src/
 * Microsoft.Azure.Devices.Edge.Hub.Core/SystemProperties.cs): `$cid`, `$absolute-expiry-time`
 * and `$creationTime` work there. Tandem stores IoT Hub's long names, so those are aliases.
 */
const EDGEHUB_NAMES: Readonly<Record<string, string>> = {
  cid: 'correlationId',
  'absolute-expiry-time': 'absoluteExpiryTime',
  creationtime: 'creationTimeUtc',
};

/**
 * A system property by route name. The connection ids and output name come from where the
 * message came from: edgeHub stamps them from the authenticated connection, never from the sender.
 */
function systemReader(name: string): StringReader {
  const lower = name.toLowerCase();
  switch (lower) {
    case 'connectiondeviceid':
      return (ctx) => ctx.from.deviceId;
    case 'connectionmoduleid':
      return (ctx) => (ctx.from.kind === 'module' ? ctx.from.moduleId : undefined);
    case 'outputname':
      return (ctx) =>
        ctx.from.kind === 'module' && ctx.from.outputName !== '' ? ctx.from.outputName : undefined;
  }
  const key = EDGEHUB_NAMES[lower] ?? name;
  const keyLower = key.toLowerCase();
  return (ctx) => ctx.systemProperty(key, keyLower);
}

/** Unescaped `$name` looks for an application property spelled `$name` first. */
function appFirst(appName: string, otherwise: StringReader): StringReader {
  const lower = appName.toLowerCase();
  return (ctx) => ctx.appProperty(appName, lower) ?? otherwise(ctx);
}

export function compileProperty(e: PropertyRef): Typed {
  const lower = e.name.toLowerCase();
  return { type: 'string', run: (ctx) => ctx.appProperty(e.name, lower) };
}

export function compileSystem(e: SystemPropertyRef): Typed {
  // Names with '[' or ']' cannot be properties; edgeHub gives them the undefined type.
  if (e.name.includes('[') || e.name.includes(']')) return { type: 'undefined', run: () => undefined };
  const sys = systemReader(e.name);
  return { type: 'string', run: e.escaped ? sys : appFirst(`$${e.name}`, sys) };
}

export function compileBody(e: BodyRef): Typed {
  const query = parseBodyQuery(e.query);
  if (typeof query === 'string') throw new RouteProblem(e.pos, `invalid $body query: ${query}`);
  const fromBody = (ctx: EvalContext): string | number | boolean | null | undefined => {
    const root = ctx.body();
    return root === null ? undefined : readBody(root, query);
  };
  if (e.escaped || /[[\]]/.test(e.query)) return { type: 'dynamic', run: fromBody };
  // An application property named like the query wins over the body (BodyQueryTest.BodyQuery_SysPropertyConflict).
  const appName = `$body.${e.query}`;
  const lower = appName.toLowerCase();
  return { type: 'dynamic', run: (ctx) => ctx.appProperty(appName, lower) ?? fromBody(ctx) };
}
