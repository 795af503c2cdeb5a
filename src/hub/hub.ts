/**
 * The edge hub: composes the protocol head, sessions, router, endpoints, twins and methods
 * over one Store. Faces (CLI, HTTP API) use the methods here, never the parts.
 */

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { RouteTable } from '../core/routes/index.js';
import { formatDesiredPatch, formatMethodRequest } from '../core/topics/index.js';
import { TandemError } from '../errors.js';
import { limits } from '../limits.js';
import { REASON } from '../protocol/codes.js';
import { MqttConnection } from '../protocol/connection.js';
import type { Store } from '../store/types.js';
import type { TransportSocket } from '../transport/listener.js';
import { type Clock, systemClock } from '../util/clock.js';
import { type Authenticator, decideConnect } from './connect.js';
import { c2dStream, type HubContext, moduleOfInputStream } from './context.js';
import type { DeliverySink, OwnershipHolder } from './endpoint-delivery.js';
import { Endpoints } from './endpoints.js';
import type { HubMessage, MessageSource } from './message.js';
import { encodeMessage } from './message-codec.js';
import { type InvokeOptions, MethodInvoker, type MethodResult } from './methods.js';
import { HubMetrics } from './metrics.js';
import { type EndpointOwnership, LocalOwnership } from './ownership.js';
import type { SessionDirectory } from './session-directory.js';
import { SessionRegistry } from './session-registry.js';
import { type JsonObject, patchBetween, sectionVersion, type TwinDocument } from './twin-document.js';
import { TwinStore } from './twin-store.js';

export interface HubOptions {
  readonly store: Store;
  readonly authenticate: Authenticator;
  readonly routes: RouteTable;
  readonly edgeDeviceId: string;
  readonly defaultTtlSecs?: number;
  readonly clock?: Clock;
  readonly windowMax?: number;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
  /** Who delivers which endpoint; default: this hub delivers all (one node). A cluster passes its leases. */
  readonly ownership?: EndpointOwnership;
  /** The cluster's one-live-session-per-identity directory; absent on one node. */
  readonly sessionDirectory?: SessionDirectory;
}

export interface EndpointStatus {
  readonly stream: string;
  readonly queueLength: number;
  readonly attached: boolean;
  readonly inflight: number;
  /** Messages delivered and acknowledged since the hub started (so a view can show flow). */
  readonly delivered: number;
  /** Messages that expired by their TTL before delivery since the hub started. */
  readonly expired: number;
}

export interface SubscribedEvent {
  readonly identity: string;
  readonly kind: string;
  readonly filter: string;
}

/** A message made durable and where it went (no streams: no route took it). */
export interface RoutedEvent {
  readonly message: HubMessage;
  readonly source: MessageSource;
  readonly streams: readonly string[];
}

/** A consumer attached to an endpoint stream from outside the protocol head (the upstream connector). */
export interface EndpointConsumer {
  /** Call when the sink has room again, so delivery resumes. */
  notify(): void;
  /** Stops consuming; unacknowledged messages will be delivered again to the next consumer. */
  detach(): void;
}

export class Hub {
  readonly metrics = new HubMetrics();
  /** 'subscribed' (SubscribedEvent) once a SUBACK granted a subscription; 'routed' (RoutedEvent). */
  readonly events = new EventEmitter();
  readonly context: HubContext;
  readonly #o: HubOptions;
  #routes: RouteTable;
  #defaultTtlSecs: number;
  #unwatchLog: (() => void) | undefined;

  constructor(options: HubOptions) {
    this.#o = options;
    this.#routes = options.routes;
    this.#defaultTtlSecs = options.defaultTtlSecs ?? limits.messageTtlSecondsDefault;
    const clock = options.clock ?? systemClock;
    const sessions = new SessionRegistry();
    const endpoints = new Endpoints({
      store: options.store,
      ownership:
        options.ownership ??
        new LocalOwnership(options.store.checkpoints, (err) => this.#warn('checkpoint read failed', err)),
      clock,
      windowMax: options.windowMax,
      onError: (err) => this.#warn('endpoint delivery failed', err),
      observer: {
        delivered: (stream, n) => this.metrics.add(this.metrics.sent, stream, n),
        expired: (stream, n) => {
          this.metrics.add(this.metrics.dropped, 'ttl_expiry', n);
          this.metrics.add(this.metrics.expired, stream, n);
        },
      },
    });
    const methods = new MethodInvoker({
      sendMethodRequest: (id, name, rid, payload) => this.#sendMethod(id, name, rid, payload),
    });
    this.context = {
      store: options.store,
      kv: options.store.kv,
      events: this.events,
      clock,
      metrics: this.metrics,
      endpoints,
      sessions,
      methods,
      twins: new TwinStore(options.store.kv),
      sessionDirectory: options.sessionDirectory,
      edgeDeviceId: options.edgeDeviceId,
      routes: () => this.#routes,
      defaultTtlSecs: () => this.#defaultTtlSecs,
      warn: (message, err) => this.#warn(message, err),
      routed: (message, source, items) => {
        // Building the event costs nothing on the publish path unless someone (`tandem monitor`) listens.
        if (this.events.listenerCount('routed') === 0) return;
        const streams = items.map((i) => i.stream);
        this.events.emit('routed', { message, source, streams } satisfies RoutedEvent);
      },
    };
    endpoints.onNewStream = (stream, delivery) => {
      const moduleId = moduleOfInputStream(stream);
      if (moduleId !== undefined)
        sessions.get(`${options.edgeDeviceId}/${moduleId}`)?.subscriptions.offerStream(delivery);
    };
  }

  async start(): Promise<void> {
    await this.context.endpoints.start();
    // A shared log (cluster): records appended by other replicas wake the endpoints here.
    this.#unwatchLog = this.context.store.log.watch?.((streams) => {
      for (const stream of streams) this.context.endpoints.get(stream).notify();
    });
  }

  /**
   * The cluster says `sessionId` is now the live session of `identity` (it may be on another
   * replica): any other session of that identity here is closed, as a takeover (MQTT 5: 0x8E).
   */
  sessionClaimed(identity: string, sessionId: string): void {
    const local = this.context.sessions.get(identity);
    if (!local || local.id === sessionId) return;
    local.connection.disconnect(
      REASON.sessionTakenOver,
      `session of ${identity} taken over on another replica`,
    );
  }

  /** Hands a freshly accepted socket to the protocol head. */
  accept(socket: TransportSocket): void {
    this.metrics.connectionsOpen++;
    this.metrics.connectionsTotal++;
    socket.once('close', () => this.metrics.connectionsOpen--);
    new MqttConnection(
      socket,
      (conn, packet) => decideConnect(this.context, this.#o.authenticate, conn, packet),
      {
        onProtocolError: (conn, err) => {
          this.metrics.add(this.metrics.protocolErrors, err.code);
          this.#o.log?.('info', `closed ${conn.clientId || conn.remoteAddress}: ${err.message}`);
        },
      },
    );
  }

  /** Replaces the route table; queued messages stay where they are (they were routed on arrival). */
  setRoutes(routes: RouteTable, defaultTtlSecs?: number): void {
    this.#routes = routes;
    if (defaultTtlSecs !== undefined) this.#defaultTtlSecs = defaultTtlSecs;
  }

  /** Makes `sink` the one consumer of an endpoint stream, such as `upstream`. */
  consumeEndpoint(stream: string, sink: DeliverySink): EndpointConsumer {
    const delivery = this.context.endpoints.get(stream);
    delivery.attach(sink);
    return { notify: () => delivery.notify(), detach: () => delivery.detach(sink) };
  }

  /**
   * Keeps this hub wanting an endpoint with no consumer attached, and says when it owns it
   * (always, soon, on one node; while it holds the lease in a cluster). Returns the release.
   */
  holdEndpoint(stream: string, holder: OwnershipHolder): () => void {
    return this.context.endpoints.get(stream).hold(holder);
  }

  invokeMethod(options: InvokeOptions): Promise<MethodResult> {
    return this.context.methods.invoke(options);
  }

  getTwin(identity: string): Promise<TwinDocument> {
    return this.context.twins.get(identity);
  }

  /** Updates desired properties and notifies the twin's client if it listens. */
  async patchDesired(identity: string, patch: unknown): Promise<number> {
    const { version, notification } = await this.context.twins.patchDesired(identity, patch);
    this.#notifyDesired(identity, notification, version);
    return version;
  }

  /** Merges reported properties, as the twin's own client would (the agent's `$edgeAgent` twin). */
  patchReported(identity: string, patch: unknown): Promise<number> {
    return this.context.twins.patchReported(identity, patch);
  }

  /**
   * Makes desired properties exactly `desired` (a deployment sets module twins as a whole):
   * keys it no longer has are removed with null, as an IoT Hub twin patch does. A no-op
   * when nothing changed, so redeploying the same manifest sends no notification.
   */
  async replaceDesired(identity: string, desired: JsonObject): Promise<number> {
    const current = (await this.getTwin(identity)).desired;
    const patch = patchBetween(current, desired);
    if (Object.keys(patch).length === 0) return sectionVersion(current);
    return this.patchDesired(identity, patch);
  }

  /** Queues a cloud-to-device message durably; resolves with its id once stored. */
  async sendCloudToDevice(
    deviceId: string,
    body: Uint8Array,
    properties: Record<string, string> = {},
    messageId?: string,
  ): Promise<string> {
    const now = this.context.clock.nowMs();
    const id = messageId ?? randomUUID();
    const msg: HubMessage = {
      id,
      body,
      properties,
      systemProperties: {
        messageId: id,
        to: `/devices/${deviceId}/messages/devicebound`,
        enqueuedTime: new Date(now).toISOString(),
      },
    };
    const stream = c2dStream(deviceId);
    await this.context.store.log.append([
      { stream, data: encodeMessage(msg), expiresAtMs: now + this.#defaultTtlSecs * 1000 },
    ]);
    this.context.endpoints.get(stream).notify();
    return id;
  }

  async endpointStatus(): Promise<EndpointStatus[]> {
    const out: EndpointStatus[] = [];
    for (const d of this.context.endpoints.all()) {
      out.push({
        stream: d.stream,
        queueLength: await d.queueLength(),
        attached: d.attached,
        inflight: d.inflight,
        delivered: this.metrics.sent.get(d.stream) ?? 0,
        expired: this.metrics.expired.get(d.stream) ?? 0,
      });
    }
    return out.sort((a, b) => a.stream.localeCompare(b.stream));
  }

  /** Length of one endpoint's queue, e.g. `upstream`. */
  queueLength(stream: string): Promise<number> {
    return this.context.endpoints.get(stream).queueLength();
  }

  connectedIdentities(): string[] {
    return [...this.context.sessions.all()].map((s) => s.principal.key).sort();
  }

  async close(): Promise<void> {
    this.#unwatchLog?.();
    this.context.methods.close();
    for (const s of [...this.context.sessions.all()]) s.connection.close('hub shutting down');
    await this.context.endpoints.close();
  }

  #notifyDesired(identity: string, patch: JsonObject, version: number): void {
    const session = this.context.sessions.get(identity);
    if (!session?.subscriptions.has('desiredPatches')) return;
    session.connection.send({
      cmd: 'publish',
      topic: formatDesiredPatch(version),
      payload: Buffer.from(JSON.stringify(patch)),
      qos: 0,
      dup: false,
      retain: false,
    });
  }

  #sendMethod(identity: string, name: string, rid: string, payload: Uint8Array): boolean {
    const session = this.context.sessions.get(identity);
    if (!session?.subscriptions.has('methods')) return false;
    session.connection.send({
      cmd: 'publish',
      topic: formatMethodRequest(name, rid),
      payload: Buffer.from(payload),
      qos: 0,
      dup: false,
      retain: false,
    });
    return true;
  }

  #warn(message: string, err?: unknown): void {
    const detail =
      err instanceof TandemError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : '';
    this.#o.log?.('warn', detail ? `${message}: ${detail}` : message);
  }
}
