/** Routes over the hub alone: health, metrics, endpoints, twins, direct methods, cloud-to-device. */
import { TandemError } from '../errors.js';
import { renderMetrics } from './prometheus.js';
import type { ApiRoute } from './router.js';
import { collectStatus } from './status.js';

export const hubRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    pattern: /^\/healthz$/,
    handler: async () => ({ status: 200, json: { status: 'ok' } }),
  },
  {
    method: 'GET',
    pattern: /^\/metrics$/,
    handler: async ({ hub, agent, workloads }) => ({
      status: 200,
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      text: renderMetrics(
        hub.metrics,
        await hub.endpointStatus(),
        (await agent?.status())?.modules,
        workloads?.metrics(),
      ),
    }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/status$/,
    handler: async (deps) => ({ status: 200, json: await collectStatus(deps) }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/endpoints$/,
    handler: async ({ hub }) => ({ status: 200, json: await hub.endpointStatus() }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/twins\/([^/]+)$/,
    handler: async ({ hub }, { params: [id] }) => ({ status: 200, json: await hub.getTwin(id!) }),
  },
  {
    method: 'PATCH',
    pattern: /^\/api\/v1\/twins\/([^/]+)\/desired$/,
    handler: async ({ hub }, { params: [id], body }) => ({
      status: 200,
      json: { version: await hub.patchDesired(id!, body) },
    }),
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/methods\/([^/]+)\/([^/]+)$/,
    handler: async ({ hub }, { params: [id, name], body }) => {
      const b = (body ?? {}) as { payload?: unknown; responseTimeoutInSeconds?: number };
      const result = await hub.invokeMethod({
        identity: id!,
        methodName: name!,
        payload: b.payload,
        responseTimeoutSec: b.responseTimeoutInSeconds,
      });
      return { status: 200, json: result };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/devices\/([^/]+)\/messages$/,
    handler: async ({ hub }, { params: [id], body }) => {
      const b = (body ?? {}) as { body?: string; properties?: Record<string, string>; messageId?: string };
      if (typeof b.body !== 'string')
        throw new TandemError('TANDEM_E_API', 'body must be {"body": string, "properties"?: {...}}');
      const messageId = await hub.sendCloudToDevice(
        id!,
        Buffer.from(b.body),
        b.properties ?? {},
        b.messageId,
      );
      return { status: 201, json: { messageId } };
    },
  },
];
