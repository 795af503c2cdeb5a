/**
 * The local HTTP API (loopback by default): what the CLI and tests use to look at and steer
 * a running hub. A face: it only calls the Hub's public methods.
 */
import http from 'node:http';
import { isTandemError, TandemError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import { limits } from '../limits.js';
import { renderMetrics } from './prometheus.js';

export interface ApiInfo {
  readonly hubName: string;
  readonly edgeDeviceId: string;
  readonly ports: Record<string, number>;
}

type Handler = (
  hub: Hub,
  body: unknown,
  params: string[],
) => Promise<{ status: number; json?: unknown; text?: string }>;

const routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [];

function route(method: string, pattern: RegExp, handler: Handler): void {
  routes.push({ method, pattern, handler });
}

route('GET', /^\/healthz$/, async () => ({ status: 200, json: { status: 'ok' } }));
route('GET', /^\/metrics$/, async (hub) => ({
  status: 200,
  text: renderMetrics(hub.metrics, await hub.endpointStatus()),
}));
route('GET', /^\/api\/v1\/endpoints$/, async (hub) => ({ status: 200, json: await hub.endpointStatus() }));
route('GET', /^\/api\/v1\/twins\/([^/]+)$/, async (hub, _b, [id]) => ({
  status: 200,
  json: await hub.getTwin(id!),
}));
route('PATCH', /^\/api\/v1\/twins\/([^/]+)\/desired$/, async (hub, body, [id]) => ({
  status: 200,
  json: { version: await hub.patchDesired(id!, body) },
}));
route('POST', /^\/api\/v1\/methods\/([^/]+)\/([^/]+)$/, async (hub, body, [id, name]) => {
  const b = (body ?? {}) as { payload?: unknown; responseTimeoutInSeconds?: number };
  const r = await hub.invokeMethod({
    identity: id!,
    methodName: name!,
    payload: b.payload,
    responseTimeoutSec: b.responseTimeoutInSeconds,
  });
  return { status: 200, json: r };
});
route('POST', /^\/api\/v1\/devices\/([^/]+)\/messages$/, async (hub, body, [id]) => {
  const b = (body ?? {}) as { body?: string; properties?: Record<string, string>; messageId?: string };
  if (typeof b.body !== 'string')
    throw new TandemError('TANDEM_E_API', 'body must be {"body": string, "properties"?: {...}}');
  return {
    status: 201,
    json: {
      messageId: await hub.sendCloudToDevice(id!, Buffer.from(b.body), b.properties ?? {}, b.messageId),
    },
  };
});

const STATUS_BY_CODE: Record<string, number> = {
  TANDEM_E_API: 400,
  TANDEM_E_TWIN: 400,
  TANDEM_E_TOO_LARGE: 413,
  TANDEM_E_METHOD_OFFLINE: 404,
  TANDEM_E_METHOD_TIMEOUT: 504,
  TANDEM_E_IDENTITY_NOT_FOUND: 404,
  TANDEM_E_STORE_FULL: 507,
};

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limits.apiBodyBytesMax) throw new TandemError('TANDEM_E_TOO_LARGE', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new TandemError('TANDEM_E_API', 'request body is not JSON');
  }
}

async function serve(
  hub: Hub,
  info: ApiInfo,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const reply = (status: number, json?: unknown, text?: string): void => {
    res.writeHead(status, {
      'content-type': text !== undefined ? 'text/plain; version=0.0.4' : 'application/json',
    });
    res.end(text ?? JSON.stringify(json));
  };
  try {
    if (req.method === 'GET' && url.pathname === '/api/v1/status') {
      const endpoints = await hub.endpointStatus();
      return reply(200, { ...info, connected: hub.connectedIdentities(), endpoints });
    }
    for (const r of routes) {
      const m = r.method === req.method ? r.pattern.exec(url.pathname) : null;
      if (!m) continue;
      const params = m.slice(1).map((p) => decodeURIComponent(p));
      const out = await r.handler(hub, await readBody(req), params);
      return reply(out.status, out.json, out.text);
    }
    reply(404, { code: 'TANDEM_E_API', message: `no such endpoint: ${req.method} ${url.pathname}` });
  } catch (err) {
    if (!isTandemError(err)) return reply(500, { code: 'TANDEM_E_ASSERT', message: String(err) });
    reply(STATUS_BY_CODE[err.code] ?? 400, { code: err.code, message: err.message });
  }
}

export async function startApi(
  hub: Hub,
  info: ApiInfo,
  host: string,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => void serve(hub, info, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
