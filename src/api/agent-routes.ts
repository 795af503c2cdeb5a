/** Routes over the agent: deployments and module logs. Answer 503 when the instance runs no agent. */
import path from 'node:path';
import { followLog, readLogTail } from '../agent/log-reader.js';
import { TandemError } from '../errors.js';
import { type ApiReply, type ApiRequest, type ApiRoute, flagParam, intParam, unavailable } from './router.js';
import { startStream, writeOrWait } from './streaming.js';
import type { DeployRequest } from './types.js';

function deployRequest(body: unknown): DeployRequest {
  const b = (body ?? {}) as Partial<Record<keyof DeployRequest, unknown>>;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || b.manifest === undefined)
    throw new TandemError(
      'TANDEM_E_API',
      'body must be {"manifest": {...}, "baseDir": "/abs/dir", "dryRun"?: bool}',
    );
  // A relative baseDir would resolve against the server's working directory, not the caller's.
  if (typeof b.baseDir !== 'string' || !path.isAbsolute(b.baseDir))
    throw new TandemError('TANDEM_E_API', 'baseDir must be an absolute directory path');
  if (b.dryRun !== undefined && typeof b.dryRun !== 'boolean')
    throw new TandemError('TANDEM_E_API', 'dryRun must be a boolean');
  if (b.acceptDegraded !== undefined && typeof b.acceptDegraded !== 'boolean')
    throw new TandemError('TANDEM_E_API', 'acceptDegraded must be a boolean');
  return {
    manifest: b.manifest,
    baseDir: b.baseDir,
    dryRun: b.dryRun === true,
    ...(b.acceptDegraded === true && { acceptDegraded: true }),
  };
}

/** Module names come from the URL; one that is not a plain file name cannot be ours. */
function moduleName(name: string): string {
  if (name !== path.basename(name) || name === '.' || name === '..' || name.includes('\\'))
    throw new TandemError('TANDEM_E_MODULE_NOT_FOUND', `no module '${name}' in the current deployment`);
  return name;
}

async function logs(logDir: string, module: string, r: ApiRequest): Promise<ApiReply> {
  const tail = intParam(r.query, 'tail');
  const { text, position } = await readLogTail(logDir, module, tail);
  if (!flagParam(r.query, 'follow')) return { status: 200, text };
  startStream(r.res, 'text/plain; charset=utf-8');
  await writeOrWait(r.res, text, r.signal);
  await followLog(logDir, module, position, (b) => writeOrWait(r.res, b, r.signal), r.signal);
  return { streamed: true };
}

export const agentRoutes: readonly ApiRoute[] = [
  {
    method: 'POST',
    pattern: /^\/api\/v1\/deployment$/,
    handler: async ({ agent }, { body }) => {
      if (!agent) return unavailable('agent (modules are not supervised)');
      const req = deployRequest(body);
      const result = await agent.deploy(req.manifest, {
        baseDir: req.baseDir,
        dryRun: req.dryRun ?? false,
        ...(req.acceptDegraded && { acceptDegraded: true }),
      });
      return { status: 200, json: result };
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/modules\/([^/]+)\/logs$/,
    handler: async ({ agent }, r) => {
      if (!agent) return unavailable('agent (modules are not supervised)');
      const name = moduleName(r.params[0]!);
      if (!agent.hasModule(name))
        throw new TandemError('TANDEM_E_MODULE_NOT_FOUND', `no module '${name}' in the current deployment`);
      return logs(agent.logDir, name, r);
    },
  },
];
