/**
 * From an accepted PUBLISH to durable records: stamp the message with the properties IoT Hub
 * adds (connection ids, enqueued time, a stable message id), evaluate the routes, and append
 * one record per endpoint in a single atomic append. The caller acknowledges only after the
 * returned promise resolves (G1); per-sender order follows the append order (G2).
 */
import { randomUUID } from 'node:crypto';
import { endpointKey, type RouteTable, routeMessage } from '../core/routes/index.js';
import type { AppendItem, Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import type { Endpoints } from './endpoints.js';
import type { HubMessage, MessageSource } from './message.js';
import { encodeMessage } from './message-codec.js';
import type { HubMetrics } from './metrics.js';

export interface IngressContext {
  readonly store: Store;
  readonly endpoints: Endpoints;
  readonly clock: Clock;
  readonly metrics: HubMetrics;
  /** The current route table; replaced as a whole when a deployment changes. */
  routes(): RouteTable;
  /** TTL when neither the route nor the message sets one (storeAndForwardConfiguration). */
  defaultTtlSecs(): number;
  /** Tells observers (`tandem monitor`) where a message went, after it is durable. */
  routed?(msg: HubMessage, source: MessageSource, items: readonly { readonly stream: string }[]): void;
}

export interface IncomingMessage {
  readonly source: MessageSource;
  readonly body: Uint8Array;
  readonly systemProperties: Record<string, string>;
  readonly properties: Record<string, string>;
}

/** Builds the message as the router and the receivers see it. */
function stampMessage(incoming: IncomingMessage, nowMs: number): HubMessage {
  const sys: Record<string, string> = { ...incoming.systemProperties };
  // The sender cannot claim another identity: connection ids come from the authenticated connection.
  sys.connectionDeviceId = incoming.source.deviceId;
  if (incoming.source.kind === 'module') {
    sys.connectionModuleId = incoming.source.moduleId;
    sys.outputName = incoming.source.outputName;
  } else {
    delete sys.connectionModuleId;
    delete sys.outputName;
  }
  sys.enqueuedTime = new Date(nowMs).toISOString();
  // G3: every message carries a stable id; the sender's own message id is kept when given.
  if (!sys.messageId) sys.messageId = randomUUID();
  return { id: sys.messageId, body: incoming.body, systemProperties: sys, properties: incoming.properties };
}

/** Resolves once every endpoint's record is durable; 0 endpoints means nothing was stored. */
export async function ingest(
  ctx: IngressContext,
  incoming: IncomingMessage,
  senderKey: string,
): Promise<number> {
  const now = ctx.clock.nowMs();
  const msg = stampMessage(incoming, now);
  const routed = routeMessage(ctx.routes(), msg, incoming.source);
  if (routed.length === 0) {
    // IoT Edge acknowledges and drops a message no route takes; we count it.
    ctx.metrics.add(ctx.metrics.dropped, 'no_route');
    ctx.metrics.add(ctx.metrics.received, senderKey);
    ctx.routed?.(msg, incoming.source, []);
    return 0;
  }
  const data = encodeMessage(msg);
  const items: AppendItem[] = routed.map((r) => {
    const ttlSecs = r.timeToLiveSecs ?? ctx.defaultTtlSecs();
    // A TTL of 0 or less means "keep until delivered", as an explicit operator choice.
    return { stream: endpointKey(r.endpoint), data, expiresAtMs: ttlSecs > 0 ? now + ttlSecs * 1000 : 0 };
  });
  await ctx.store.log.append(items);
  ctx.metrics.add(ctx.metrics.received, senderKey);
  for (const item of items) ctx.endpoints.get(item.stream).notify();
  ctx.routed?.(msg, incoming.source, items);
  return items.length;
}
