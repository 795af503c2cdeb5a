/**
 * One instance's status as `GET /api/v1/status` answers it. Exported so `tandem up`'s live
 * view can build the same object in-process and render it with `renderStatus`.
 */
import type { ModuleStatus } from '../agent/face.js';
import { moduleQueueLengths } from '../hub/context.js';
import type { EndpointStatus } from '../hub/hub.js';
import type { ApiDeps } from './router.js';
import type { StatusResponse } from './types.js';

/** The hub's queues are the truth for queueLength; the agent does not see the store. */
export function withQueueLengths(
  modules: readonly ModuleStatus[],
  endpoints: readonly EndpointStatus[],
): ModuleStatus[] {
  const queues = moduleQueueLengths(endpoints);
  return modules.map((m) => ({ ...m, queueLength: queues.get(m.name) ?? 0 }));
}

export async function collectStatus(deps: ApiDeps): Promise<StatusResponse> {
  const [endpoints, agentStatus, upstream] = await Promise.all([
    deps.hub.endpointStatus(),
    deps.agent?.status(),
    deps.upstreamStatus?.(),
  ]);
  return {
    ...deps.info,
    connected: deps.hub.connectedIdentities(),
    endpoints,
    ...(agentStatus ? { modules: withQueueLengths(agentStatus.modules, endpoints) } : {}),
    ...(agentStatus?.deployment ? { deployment: agentStatus.deployment } : {}),
    ...(upstream !== undefined ? { upstream } : {}),
    ...(deps.cluster ? { cluster: deps.cluster() } : {}),
  };
}
