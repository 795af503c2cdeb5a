/**
 * The API's plumbing: the route table type, request bodies, and errors as JSON with stable
 * codes and HTTP statuses. Routes live in their own files; this one knows no route.
 */
import type http from 'node:http';
import type { AgentFace } from '../agent/face.js';
import type { ClusterWorkloads } from '../cluster/workloads.js';
import { isTandemError, TandemError } from '../errors.js';
import type { Hub } from '../hub/hub.js';
import { limits } from '../limits.js';
import type { ErrorResponse } from './types.js';

export interface ApiInfo {
  readonly hubName: string;
  readonly edgeDeviceId: string;
  readonly ports: Record<string, number>;
}

/** What routes may use: the hub, and the agent and upstream connector when the instance has them. */
export interface ApiDeps {
  readonly hub: Hub;
  readonly info: ApiInfo;
  readonly agent?: AgentFace;
  readonly upstreamStatus?: () => unknown;
  /** A cluster node's workloads: placement, maintenance, events (absent on one node). */
  readonly workloads?: ClusterWorkloads;
  /** A cluster replica's view: replica id, live replicas, leases held, what the nats-server allows. */
  readonly cluster?: () => unknown;
}

export interface ApiRequest {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  /** Path captures, URI-decoded. */
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly body: unknown;
  /** Aborted when the client goes away or the API shuts down: streaming routes stop on it. */
  readonly signal: AbortSignal;
}

/** A route either answers in one go or has taken over the response (a stream). */
export type ApiReply =
  | {
      readonly status: number;
      readonly json?: unknown;
      readonly text?: string;
      readonly contentType?: string;
    }
  | { readonly streamed: true };

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PATCH';
  readonly pattern: RegExp;
  readonly handler: (deps: ApiDeps, r: ApiRequest) => Promise<ApiReply>;
}

const STATUS_BY_CODE: Partial<Record<string, number>> = {
  TANDEM_E_API: 400,
  TANDEM_E_TWIN: 400,
  TANDEM_E_MANIFEST: 400,
  TANDEM_E_ROUTE_SYNTAX: 400,
  TANDEM_E_CONFIG: 400,
  TANDEM_E_HEADROOM: 409,
  TANDEM_E_UNSUPPORTED: 501,
  TANDEM_E_NODE_NOT_FOUND: 404,
  TANDEM_E_TOO_LARGE: 413,
  TANDEM_E_METHOD_OFFLINE: 404,
  TANDEM_E_METHOD_TIMEOUT: 504,
  TANDEM_E_IDENTITY_NOT_FOUND: 404,
  TANDEM_E_MODULE_NOT_FOUND: 404,
  TANDEM_E_STORE_FULL: 507,
};

/** The JSON body of a request; undefined when empty. */
export async function readBody(req: http.IncomingMessage): Promise<unknown> {
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

/** Status and body for a failure: TandemErrors keep their code and details, anything else is a bug. */
export function errorReply(err: unknown): { status: number; json: ErrorResponse } {
  if (!isTandemError(err)) {
    return { status: 500, json: { code: 'TANDEM_E_ASSERT', message: String(err) } };
  }
  const details = Object.keys(err.details).length > 0 ? { details: err.details } : {};
  return {
    status: STATUS_BY_CODE[err.code] ?? 400,
    json: { code: err.code, message: err.message, ...details },
  };
}

/** A 503 for routes that need a part this instance does not run (e.g. no agent yet). */
export function unavailable(what: string): ApiReply {
  return { status: 503, json: { code: 'TANDEM_E_API', message: `this instance runs no ${what}` } };
}

/** A path capture, URI-decoded; a malformed escape is the client's mistake, not a bug. */
export function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new TandemError('TANDEM_E_API', `malformed URL escape in '${raw}'`);
  }
}

/** Reads an optional non-negative integer query parameter. */
export function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (raw === '' || !Number.isSafeInteger(n) || n < 0)
    throw new TandemError('TANDEM_E_API', `${name} must be a non-negative integer, got '${raw}'`);
  return n;
}

/** True for `1`, `true` or an empty value (`?follow`). */
export function flagParam(query: URLSearchParams, name: string): boolean {
  const raw = query.get(name);
  return raw !== null && (raw === '' || raw === '1' || raw === 'true');
}
