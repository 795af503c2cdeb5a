/** Routes over a cluster node's workloads: plan, maintenance, events. 503 when not a cluster node. */
import type { NodeAdmin } from '../core/placement/model.js';
import { TandemError } from '../errors.js';
import { type ApiRoute, unavailable } from './router.js';

function planRequest(body: unknown): { manifest?: unknown; fail?: string[] } {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new TandemError('TANDEM_E_API', 'body must be {"manifest"?: {...}, "fail"?: ["node", ...]}');
  const b = body as { manifest?: unknown; fail?: unknown };
  if (b.fail !== undefined && !(Array.isArray(b.fail) && b.fail.every((n) => typeof n === 'string')))
    throw new TandemError('TANDEM_E_API', 'fail must be a list of node names');
  return {
    ...(b.manifest !== undefined && { manifest: b.manifest }),
    ...(b.fail !== undefined && { fail: b.fail as string[] }),
  };
}

const ADMIN: Record<string, NodeAdmin> = { cordon: 'cordoned', drain: 'drained', uncordon: 'active' };

export const clusterRoutes: readonly ApiRoute[] = [
  {
    method: 'POST',
    pattern: /^\/api\/v1\/cluster\/plan$/,
    handler: async ({ workloads }, { body }) => {
      if (!workloads) return unavailable('cluster scheduler (not a cluster node)');
      return { status: 200, json: workloads.plan(planRequest(body)) };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/cluster\/nodes\/([^/]+)\/(cordon|drain|uncordon)$/,
    handler: async ({ workloads }, r) => {
      if (!workloads) return unavailable('cluster scheduler (not a cluster node)');
      const [node, action] = r.params as [string, string];
      await workloads.setAdmin(node, ADMIN[action] as NodeAdmin);
      return { status: 200, json: { node, admin: ADMIN[action] } };
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/cluster\/events$/,
    handler: async ({ workloads }) => {
      if (!workloads) return unavailable('cluster scheduler (not a cluster node)');
      return { status: 200, json: { events: workloads.events() } };
    },
  },
];
