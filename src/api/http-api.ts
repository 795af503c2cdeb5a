/**
 * The local HTTP API (loopback by default): what the CLI and tests use to look at and steer
 * a running instance. A face: it only calls the public methods of the Hub, the agent
 * (AgentFace) and the upstream connector's status. Routes live in *-routes.ts files.
 */

import http from 'node:http';
import type { AgentFace } from '../agent/face.js';
import type { ClusterWorkloads } from '../cluster/workloads.js';
import type { Hub } from '../hub/hub.js';
import { agentRoutes } from './agent-routes.js';
import { clusterRoutes } from './cluster-routes.js';
import { hubRoutes } from './hub-routes.js';
import { monitorRoutes } from './monitor.js';
import { type ApiDeps, type ApiInfo, type ApiRoute, decodeParam, errorReply, readBody } from './router.js';

export type { ApiInfo } from './router.js';

export interface ApiOptions {
  readonly hub: Hub;
  readonly info: ApiInfo;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The agent, when this instance supervises modules: status modules, deployments, logs. */
  readonly agent?: AgentFace;
  /** What the upstream connector says about itself (a value or a promise); `upstream` in status. */
  readonly upstreamStatus?: () => unknown;
  /** A cluster replica's status (`cluster` in status). */
  readonly cluster?: () => unknown;
  /** A cluster node's workloads (plan, drain, events). */
  readonly workloads?: ClusterWorkloads;
}

export interface RunningApi {
  readonly port: number;
  /** Ends open streams (log follows, monitors) and stops listening. */
  close(): Promise<void>;
}

const routes: readonly ApiRoute[] = [...hubRoutes, ...agentRoutes, ...clusterRoutes, ...monitorRoutes];

function reply(
  res: http.ServerResponse,
  out: { status: number; json?: unknown; text?: string; contentType?: string },
): void {
  const type = out.contentType ?? (out.text !== undefined ? 'text/plain; charset=utf-8' : 'application/json');
  res.writeHead(out.status, { 'content-type': type });
  res.end(out.text ?? JSON.stringify(out.json));
}

async function serve(
  deps: ApiDeps,
  active: Set<AbortController>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // One signal per request: aborted when the client goes away or the API shuts down.
  const done = new AbortController();
  active.add(done);
  res.once('close', () => done.abort());
  try {
    for (const r of routes) {
      const m = r.method === req.method ? r.pattern.exec(url.pathname) : null;
      if (!m) continue;
      const params = m.slice(1).map(decodeParam);
      const body = req.method === 'GET' ? undefined : await readBody(req);
      const out = await r.handler(deps, {
        req,
        res,
        params,
        query: url.searchParams,
        body,
        signal: done.signal,
      });
      if ('streamed' in out) return void res.end();
      return reply(res, out);
    }
    reply(res, {
      status: 404,
      json: { code: 'TANDEM_E_API', message: `no such endpoint: ${req.method} ${url.pathname}` },
    });
  } catch (err) {
    // Once a stream has begun its status is sent; all that is left is to end it.
    if (res.headersSent) return void res.end();
    reply(res, errorReply(err));
  } finally {
    active.delete(done);
  }
}

export async function startApi(o: ApiOptions): Promise<RunningApi> {
  const deps: ApiDeps = {
    hub: o.hub,
    info: o.info,
    agent: o.agent,
    upstreamStatus: o.upstreamStatus,
    cluster: o.cluster,
    workloads: o.workloads,
  };
  const active = new Set<AbortController>();
  const server = http.createServer((req, res) => void serve(deps, active, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : o.port,
    close: async () => {
      for (const request of active) request.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets and streams that were just ended would otherwise hold close() open.
      server.closeAllConnections();
      await closed;
    },
  };
}
