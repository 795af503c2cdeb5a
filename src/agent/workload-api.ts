/**
 * The IoT Edge workload API for one module, on that module's own unix socket (as IoT Edge
 * >= 1.2 mounts one socket per module): what `ModuleClient.fromEnvironment` calls when it runs
 * with IOTEDGE_WORKLOADURI instead of a connection string. Implemented operations, named as in
 * iotedged's swagger (edgelet/api/workloadVersion_2018_06_28.yaml):
 *
 * - `TrustBundle`: `GET /trust-bundle?api-version=...` -> 200 `{certificate: pem}`; the SDK
 *   passes `certificate` to TLS as its CA, so it is the PEM text itself.
 * - `Sign`: `POST /modules/{name}/genid/{genid}/sign?api-version=...` with `SignRequest`
 *   `{keyId, algo, data: base64}` -> 200 `SignResponse` `{digest: base64}`, the HMAC-SHA256 of
 *   `data` under the module identity's primary key. The SDK signs its SAS tokens this way and
 *   never holds the key.
 *
 * Every refusal is `ErrorResponse` `{message}` with iotedged's status: 403 for another module's
 * name (aziot-edged's `auth_caller`), 404 for an unknown path, a stale generation id or an
 * unknown key (iotedged 1.1 looked the key up as `{keyId}{genid}` and answered "Module not
 * found"), 400 for a bad body or api-version, 422 for data that is not base64 (iotedged's
 * "Invalid base64 string"), 405 for a wrong method, 413 over the size limits, 500 when the key
 * cannot be read. Encrypt, decrypt and the certificate operations are not implemented (404).
 */
import { createHmac } from 'node:crypto';
import { chmod } from 'node:fs/promises';
import http from 'node:http';
import { isTandemError, TandemError } from '../errors.js';
import { limits } from '../limits.js';
import { prepareSocketPath, workloadUri } from './workload-socket.js';

export { workloadSocketPath, workloadUri } from './workload-socket.js';

/** The oldest workload API version, and the one the Node SDK always asks for. */
export const workloadApiVersionMin = '2018-06-28';

export interface WorkloadApiOptions {
  /** An absolute path, normally from workloadSocketPath(). */
  readonly socketPath: string;
  /** The only module this socket signs for. */
  readonly moduleId: string;
  /** The module's current generation id (IOTEDGE_MODULEGENERATIONID); asked on every request. */
  generationId(): string;
  /** The module identity's primary key: base64 text as src/identity stores it, or its bytes. */
  key(): Promise<Buffer | string>;
  /** PEM of the CA(s) that issued the hub's server certificate. */
  trustBundlePem(): string;
  /** Told about every answered request (for logs and metrics); must not throw. */
  readonly onRequest?: (event: WorkloadRequestEvent) => void;
  /** Where failures that are not refusals go (a listener error, an unreadable key). */
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

export type WorkloadOperation = 'TrustBundle' | 'Sign' | 'Unknown';

export interface WorkloadRequestEvent {
  readonly operation: WorkloadOperation;
  readonly status: number;
  /** Why a request was refused. */
  readonly message?: string;
}

export interface WorkloadApi {
  readonly socketPath: string;
  /** IOTEDGE_WORKLOADURI for this socket. */
  readonly uri: string;
  /** Stops listening, ends open connections and removes the socket file. */
  close(): Promise<void>;
}

interface Reply {
  readonly status: number;
  readonly body: Record<string, string>;
  readonly headers?: Record<string, string>;
}

function refuse(status: number, message: string, headers?: Record<string, string>): TandemError {
  return new TandemError('TANDEM_E_WORKLOAD', message, { details: { status, headers } });
}

/** At most 200 characters of caller-chosen text go back into a message. */
function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text);
}

interface Target {
  readonly operation: WorkloadOperation;
  readonly segments: readonly string[];
  readonly apiVersion: string | null;
}

function parseTarget(url: string): Target {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const apiVersion = new URLSearchParams(q === -1 ? '' : url.slice(q + 1)).get('api-version');
  let segments: string[];
  try {
    // The SDK percent-encodes module and generation ids (encodeUriComponentStrict).
    segments = rawPath.split('/').slice(1).map(decodeURIComponent);
  } catch {
    throw refuse(400, 'malformed percent-encoding in the request path');
  }
  const isSign = segments.length === 5 && segments[0] === 'modules' && segments[2] === 'genid';
  const operation: WorkloadOperation =
    segments.length === 1 && segments[0] === 'trust-bundle' ? 'TrustBundle' : isSign ? 'Sign' : 'Unknown';
  if (operation === 'Unknown' || (isSign && segments[4] !== 'sign')) {
    throw refuse(
      404,
      `no workload API operation at ${quote(rawPath)} (Tandem implements trust-bundle and sign)`,
    );
  }
  return { operation, segments, apiVersion };
}

function checkApiVersion(apiVersion: string | null): void {
  if (apiVersion === null) throw refuse(400, 'the api-version query parameter is required');
  // Versions are dates; every one from the first (2018-06-28) keeps these two operations as they are.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(apiVersion) || apiVersion < workloadApiVersionMin) {
    throw refuse(400, `unsupported api-version ${quote(apiVersion)}`);
  }
}

function checkMethod(req: http.IncomingMessage, allowed: string): void {
  if (req.method !== allowed) {
    throw refuse(405, `method ${quote(req.method ?? '')} not allowed; use ${allowed}`, { allow: allowed });
  }
}

/** The request body, refused with 413 past limits.workloadRequestBodyBytesMax without buffering more. */
function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const max = limits.workloadRequestBodyBytesMax;
  const tooLarge = (): TandemError => refuse(413, `request body over ${max} bytes`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const strictBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** SignRequest checked field by field; returns the bytes to sign. */
function parseSignRequest(body: Buffer): Buffer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw refuse(400, 'bad body: not JSON');
  }
  const r = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  for (const field of ['keyId', 'algo', 'data']) {
    if (typeof r[field] !== 'string') throw refuse(400, `bad body: ${field} must be a string`);
  }
  const { keyId, algo, data } = r as { keyId: string; algo: string; data: string };
  // The swagger's SignRequest.algo enum has one value.
  if (algo !== 'HMACSHA256') throw refuse(400, `bad body: unsupported algo ${quote(algo)}; use HMACSHA256`);
  // Only the primary key is handed to this socket; the SDK always signs with it.
  if (keyId !== 'primary') throw refuse(404, `key ${quote(keyId)} not found for this module`);
  if (!strictBase64.test(data)) throw refuse(422, 'invalid base64 string in data');
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length > limits.workloadSignDataBytesMax) {
    throw refuse(413, `data over ${limits.workloadSignDataBytesMax} bytes`);
  }
  return bytes;
}

async function keyBytes(o: WorkloadApiOptions): Promise<Buffer> {
  let key: Buffer | string;
  try {
    key = await o.key();
  } catch (cause) {
    throw new TandemError('TANDEM_E_WORKLOAD', `cannot read the key of module ${o.moduleId}`, {
      cause,
      details: { status: 500 },
    });
  }
  const bytes = typeof key === 'string' ? Buffer.from(key, 'base64') : key;
  if (bytes.length === 0) throw refuse(500, `module ${o.moduleId} has an empty key`);
  return bytes;
}

async function sign(req: http.IncomingMessage, target: Target, o: WorkloadApiOptions): Promise<Reply> {
  const [, name = '', , genId = ''] = target.segments;
  // Least privilege: this socket is mounted for one module only (aziot-edged's auth_caller).
  if (name !== o.moduleId) throw refuse(403, `module not authorized to sign for ${quote(name)}`);
  // A restarted module with a new identity generation must not keep using the old one's tokens.
  if (genId !== o.generationId()) {
    throw refuse(404, `module ${quote(name)} has no generation ${quote(genId)}`);
  }
  const data = parseSignRequest(await readBody(req));
  const digest = createHmac('sha256', await keyBytes(o))
    .update(data)
    .digest('base64');
  return { status: 200, body: { digest } };
}

async function handle(req: http.IncomingMessage, target: Target, o: WorkloadApiOptions): Promise<Reply> {
  checkApiVersion(target.apiVersion);
  if (target.operation === 'TrustBundle') {
    checkMethod(req, 'GET');
    return { status: 200, body: { certificate: o.trustBundlePem() } };
  }
  checkMethod(req, 'POST');
  return sign(req, target, o);
}

function replyFor(err: unknown): Reply & { message: string } {
  if (isTandemError(err, 'TANDEM_E_WORKLOAD') && typeof err.details.status === 'number') {
    const headers = err.details.headers as Record<string, string> | undefined;
    return { status: err.details.status, body: { message: err.message }, headers, message: err.message };
  }
  // Not a refusal: a bug or an I/O failure. Its details stay in the agent's log, not the module's.
  return { status: 500, body: { message: 'internal error' }, message: describeFailure(err) };
}

function describeFailure(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${text}${cause}`;
}

function send(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply): void {
  // The server may have answered already (408 on requestTimeout) or the caller may be gone.
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    // The SDK parses a response as JSON only when its content type says so.
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...reply.headers,
    // A body left unread (refused before or while reading) must not be parsed as the next request.
    ...(req.complete ? {} : { connection: 'close' }),
  });
  res.end(text);
}

function serve(o: WorkloadApiOptions, req: http.IncomingMessage, res: http.ServerResponse): void {
  let operation: WorkloadOperation = 'Unknown';
  const work = (async (): Promise<Reply> => {
    const target = parseTarget(req.url ?? '/');
    operation = target.operation;
    return handle(req, target, o);
  })();
  work
    .then(
      (reply) => {
        send(req, res, reply);
        o.onRequest?.({ operation, status: reply.status });
      },
      (err: unknown) => {
        const reply = replyFor(err);
        if (reply.status >= 500) o.log?.('warn', `${o.moduleId}: ${describeFailure(err)}`);
        send(req, res, reply);
        o.onRequest?.({ operation, status: reply.status, message: reply.message });
      },
    )
    // Nothing a caller does may end the agent with an unhandled rejection.
    .catch((err: unknown) => o.log?.('warn', `workload API ${o.moduleId}: ${describeFailure(err)}`));
}

/** Listens on `socketPath` (0600, in a 0700 directory), replacing a stale socket file. */
export async function startWorkloadApi(o: WorkloadApiOptions): Promise<WorkloadApi> {
  const uri = workloadUri(o.socketPath);
  await prepareSocketPath(o.socketPath);
  const server = http.createServer(
    { requestTimeout: limits.workloadRequestTimeoutMs, headersTimeout: limits.workloadRequestTimeoutMs },
    (req, res) => serve(o, req, res),
  );
  server.maxConnections = limits.workloadConnectionsMax;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.socketPath, () => {
      server.off('error', reject);
      // An error after listening (e.g. out of file descriptors) must not end the agent.
      server.on('error', (err) => o.log?.('warn', `workload socket ${o.socketPath}: ${err.message}`));
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    // libuv unlinks a listening unix socket's file when the server closes.
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  try {
    // The 0700 directory already keeps others out between bind and chmod.
    await chmod(o.socketPath, 0o600);
  } catch (err) {
    await close();
    throw new TandemError('TANDEM_E_WORKLOAD', `cannot restrict ${o.socketPath} to its owner`, {
      cause: err,
    });
  }
  return { socketPath: o.socketPath, uri, close };
}
