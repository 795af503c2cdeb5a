/**
 * The CLI's way to a running instance: finds its API through `{data-dir}/ports.json`, talks
 * HTTP on loopback, and turns the API's `{code, message, details}` answers back into
 * TandemErrors with the server's code. Nothing answering is TANDEM_E_NOT_RUNNING.
 */
import http from 'node:http';
import path from 'node:path';
import { type ErrorCode, errorCodes, TandemError } from '../errors.js';
import { limits } from '../limits.js';
import { readPorts } from '../runtime/data-dir.js';

export interface RequestOptions {
  /** Overall time for the answer (not for streams); default limits.apiRequestTimeoutMs, 0 for none. */
  readonly timeoutMs?: number;
}

function notRunning(dataDir: string, why: string): TandemError {
  const dir = path.resolve(dataDir);
  return new TandemError(
    'TANDEM_E_NOT_RUNNING',
    `no running Tandem instance for data directory ${dir} (${why}); start one with 'tandem up --data-dir ${dataDir}'`,
    { details: { dataDir: dir } },
  );
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A wildcard bind address is reached on loopback. */
function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorCodes, code);
}

export class ApiClient {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;

  private constructor(dataDir: string, host: string, port: number) {
    this.dataDir = dataDir;
    this.host = host;
    this.port = port;
  }

  /** Finds the instance of `dataDir`; TANDEM_E_NOT_RUNNING when it has none. */
  static async open(dataDir: string): Promise<ApiClient> {
    const ports = await readPorts(dataDir).catch(() => undefined);
    if (!ports || typeof ports.api !== 'number') throw notRunning(dataDir, 'no ports.json');
    if (typeof ports.pid === 'number' && !processExists(ports.pid))
      throw notRunning(dataDir, `process ${ports.pid} has exited`);
    return new ApiClient(dataDir, connectHost(ports.host ?? '127.0.0.1'), ports.api);
  }

  /** A JSON request; a non-2xx answer throws the server's error. */
  async json<T>(method: string, urlPath: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    const res = await this.#request(method, urlPath, body, options);
    const text = await readAll(res);
    if ((res.statusCode ?? 500) >= 300) throw apiError(res.statusCode ?? 500, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TandemError('TANDEM_E_API', `${method} ${urlPath}: the answer is not JSON`);
    }
  }

  /** A text GET (logs). */
  async text(urlPath: string, options: RequestOptions = {}): Promise<string> {
    const res = await this.#request('GET', urlPath, undefined, options);
    const text = await readAll(res);
    if ((res.statusCode ?? 500) >= 300) throw apiError(res.statusCode ?? 500, text);
    return text;
  }

  /**
   * A streaming GET: `onOpen` once the server answered, then `onText` with decoded text as it
   * arrives until the server ends the stream or `signal` aborts (Ctrl-C), which resolves normally.
   */
  async stream(
    urlPath: string,
    onText: (text: string) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<void> {
    try {
      const res = await this.#request('GET', urlPath, undefined, { timeoutMs: 0 }, signal);
      if ((res.statusCode ?? 500) >= 300) throw apiError(res.statusCode ?? 500, await readAll(res));
      onOpen?.();
      res.setEncoding('utf8');
      for await (const chunk of res) onText(chunk as string);
    } catch (err) {
      if (signal.aborted) return;
      throw this.#lost(err);
    }
  }

  #request(
    method: string,
    urlPath: string,
    body: unknown,
    options: RequestOptions,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const timeoutMs = options.timeoutMs ?? limits.apiRequestTimeoutMs;
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: this.host,
        port: this.port,
        method,
        path: urlPath,
        agent: false, // one connection per call: nothing keeps the CLI alive afterwards
        signal,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      });
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              req.destroy(notRunning(this.dataDir, `its API did not answer within ${timeoutMs / 1000} s`));
            }, timeoutMs)
          : undefined;
      req.once('response', (res) => {
        if (timer) res.once('end', () => clearTimeout(timer)).once('close', () => clearTimeout(timer));
        resolve(res);
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(signal?.aborted ? err : this.#lost(err));
      });
      req.end(payload);
    });
  }

  /** A failure to talk at all: refused means nobody listens on the port the instance wrote. */
  #lost(err: unknown): Error {
    if (err instanceof TandemError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return notRunning(this.dataDir, `nothing answers on port ${this.port}`);
    return new TandemError('TANDEM_E_API', `lost the connection to the instance's API: ${String(err)}`, {
      cause: err,
    });
  }
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function apiError(status: number, text: string): TandemError {
  let parsed: { code?: unknown; message?: unknown; details?: unknown } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // Not our JSON error shape; keep the raw text below.
  }
  const code = isErrorCode(parsed.code) ? parsed.code : 'TANDEM_E_API';
  const message =
    typeof parsed.message === 'string' ? parsed.message : `HTTP ${status}: ${text.slice(0, 200)}`;
  const details =
    parsed.details && typeof parsed.details === 'object' ? (parsed.details as Record<string, unknown>) : {};
  return new TandemError(code, message, { details: { ...details, httpStatus: status } });
}
