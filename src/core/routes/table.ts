/**
 * The route table of a deployment (`$edgeHub` `properties.desired.routes`) and the per-message
 * routing decision, after edgeHub's Evaluator.cs: every route whose source and condition match
 * yields its endpoint; several routes to one endpoint collapse into one delivery.
 */

import { TandemError } from '../../errors.js';
import type { Endpoint, HubMessage, MessageSource } from '../../hub/message.js';
import { limits } from '../../limits.js';
import type { RoutedEndpoint, RouteSpec, RouteTable, TableRoute } from './ast.js';
import { EvalContext } from './context.js';
import { endpointKey } from './endpoint.js';
import { conditionFor } from './evaluate.js';
import { parseRoute } from './route.js';
import { messagePath } from './source.js';

/**
 * edgeHub's RouteFactory.DefaultPriority: a route without a priority ranks below 0-9.
 * (Config/RouteSpec.cs allows only 0-9 or this value.)
 */
export const routePriorityDefault = 2_000_000_000;

/** Manifest TTLs are uint in edgeHub (RouteSpec.TimeToLiveSecs). */
const ttlSecsMax = 0xffffffff;

interface RouteIssue {
  readonly route: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

function specIssue(name: string, spec: unknown): string | undefined {
  if (name.trim() === '') return 'route name must not be empty';
  if (typeof spec === 'string') return undefined;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    return 'expected a route string or an object with "route"';
  }
  const o = spec as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'route' && k !== 'priority' && k !== 'timeToLiveSecs');
  if (unknown.length > 0) return `unknown field "${unknown[0]}" (expected route, priority, timeToLiveSecs)`;
  if (typeof o.route !== 'string') return '"route" must be a string';
  const p = o.priority;
  if (p !== undefined && (!Number.isInteger(p) || (p as number) < 0 || (p as number) > 9)) {
    return '"priority" must be an integer from 0 (highest) to 9';
  }
  const t = o.timeToLiveSecs;
  if (t !== undefined && (!Number.isInteger(t) || (t as number) < 0 || (t as number) > ttlSecsMax)) {
    return `"timeToLiveSecs" must be an integer from 0 to ${ttlSecsMax}`;
  }
  return undefined;
}

function tableRoute(name: string, spec: RouteSpec): TableRoute {
  const text = typeof spec === 'string' ? spec : spec.route;
  const priority = typeof spec === 'string' ? undefined : spec.priority;
  const ttl = typeof spec === 'string' ? undefined : spec.timeToLiveSecs;
  // RouteSpec.cs: a TTL of 0 means "not set", and storeAndForwardConfiguration's TTL applies.
  return Object.freeze({
    ...parseRoute(text, name),
    priority: priority ?? routePriorityDefault,
    timeToLiveSecs: ttl === undefined || ttl === 0 ? undefined : ttl,
  });
}

function issueOf(name: string, err: unknown): RouteIssue {
  if (err instanceof TandemError && err.code === 'TANDEM_E_ROUTE_SYNTAX') {
    const { line, column } = err.details as { line?: number; column?: number };
    return { route: name, line, column, message: err.message };
  }
  throw err;
}

/**
 * Parses every route of a deployment. All problems are collected and thrown together as one
 * TANDEM_E_ROUTE_SYNTAX whose details.errors lists `{ route, line, column, message }` for each.
 */
export function parseRoutes(routes: Readonly<Record<string, RouteSpec>>): RouteTable {
  const names = Object.keys(routes);
  if (names.length > limits.routesCountMax) {
    throw new TandemError(
      'TANDEM_E_MANIFEST',
      `${names.length} routes, more than the ${limits.routesCountMax} allowed`,
    );
  }
  const table: TableRoute[] = [];
  const issues: RouteIssue[] = [];
  for (const name of names) {
    const spec = routes[name];
    const problem = specIssue(name, spec);
    if (problem !== undefined) {
      issues.push({ route: name, message: `route "${name}": ${problem}` });
      continue;
    }
    try {
      table.push(tableRoute(name, spec as RouteSpec));
    } catch (err) {
      issues.push(issueOf(name, err));
    }
  }
  if (issues.length > 0) {
    const head = issues.length === 1 ? '1 route is invalid' : `${issues.length} routes are invalid`;
    throw new TandemError('TANDEM_E_ROUTE_SYNTAX', `${head}:\n${issues.map((i) => i.message).join('\n')}`, {
      details: { errors: issues },
    });
  }
  return Object.freeze({ routes: Object.freeze(table) });
}

/** A table prepared for the hot path: lower-cased prefixes, compiled conditions, endpoint slots. */
interface Plan {
  readonly prefixes: readonly string[];
  readonly tests: readonly (((ctx: EvalContext) => boolean) | undefined)[];
  /** Index of each route's endpoint among the table's distinct endpoints. */
  readonly slots: readonly number[];
  readonly slotCount: number;
}

const plans = new WeakMap<RouteTable, Plan>();

function planFor(table: RouteTable): Plan {
  let plan = plans.get(table);
  if (plan !== undefined) return plan;
  const keys = new Map<string, number>();
  const slots = table.routes.map((r) => {
    const key = endpointKey(r.endpoint);
    const known = keys.get(key);
    if (known !== undefined) return known;
    keys.set(key, keys.size);
    return keys.size - 1;
  });
  plan = {
    prefixes: table.routes.map((r) => r.source.prefix),
    tests: table.routes.map((r) =>
      r.condition === undefined ? undefined : conditionFor(r.condition, r.name, r.text),
    ),
    slots,
    slotCount: keys.size,
  };
  plans.set(table, plan);
  return plan;
}

interface Hit {
  endpoint: Endpoint;
  priority: number;
  timeToLiveSecs: number | undefined;
  routeNames: string[];
}

/**
 * Whether route `r` should carry the delivery instead of the current `best`. edgeHub keeps the
 * highest priority (lowest number) and that route's TTL (Evaluator.Evaluate). It breaks ties
 * by dictionary order, which is arbitrary; we keep the largest explicit TTL, deterministically.
 */
function better(r: TableRoute, best: Hit): boolean {
  if (r.priority !== best.priority) return r.priority < best.priority;
  if (r.timeToLiveSecs === undefined) return false;
  return best.timeToLiveSecs === undefined || r.timeToLiveSecs > best.timeToLiveSecs;
}

/**
 * The endpoints `msg` goes to, one entry per endpoint, in table order. Never throws on message
 * content; the body is parsed at most once, and only if a matching-source route reads `$body`.
 */
export function routeMessage(table: RouteTable, msg: HubMessage, from: MessageSource): RoutedEndpoint[] {
  const plan = planFor(table);
  const path = messagePath(from);
  const ctx = new EvalContext(msg, from);
  const hits: (Hit | undefined)[] = new Array(plan.slotCount);
  const order: Hit[] = [];
  for (let i = 0; i < plan.prefixes.length; i++) {
    if (!path.startsWith(plan.prefixes[i]!)) continue;
    const test = plan.tests[i];
    if (test !== undefined && !test(ctx)) continue;
    const r = table.routes[i]!;
    const slot = plan.slots[i]!;
    const hit = hits[slot];
    if (hit === undefined) {
      const fresh = {
        endpoint: r.endpoint,
        priority: r.priority,
        timeToLiveSecs: r.timeToLiveSecs,
        routeNames: [r.name],
      };
      hits[slot] = fresh;
      order.push(fresh);
    } else {
      hit.routeNames.push(r.name);
      if (better(r, hit)) {
        hit.priority = r.priority;
        hit.timeToLiveSecs = r.timeToLiveSecs;
      }
    }
  }
  return order;
}
