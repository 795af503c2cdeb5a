/**
 * A session's subscriptions: which IoT Hub dialect filters it holds, which endpoint
 * streams they attach it to, and (for persistent sessions) their copy in the store so
 * that a reconnect after a hub restart resumes them [MQTT-3.1.2-4].
 */
import type { ISubscribePacket, IUnsubscribePacket } from 'mqtt-packet';
import {
  formatC2dTopic,
  formatModuleInputTopic,
  parseSubscription,
  type Subscription as SubscriptionTopic,
} from '../core/topics/index.js';
import { isTandemError } from '../errors.js';
import { limits } from '../limits.js';
import { REASON } from '../protocol/codes.js';
import type { ClientSession } from './client-session.js';
import { c2dStream, moduleInputPrefix } from './context.js';
import { TopicSink } from './delivery-sinks.js';
import type { EndpointDelivery } from './endpoint-delivery.js';

export interface StoredSubscription {
  readonly filter: string;
  readonly qos: 0 | 1;
}

interface ActiveSubscription extends StoredSubscription {
  readonly topic: SubscriptionTopic;
  readonly sinks: Map<EndpointDelivery, TopicSink>;
}

const FAILURE_V4 = 0x80;

export function sessionKey(principalKey: string): string {
  return `session/${principalKey}`;
}

export class SessionSubscriptions {
  readonly #session: ClientSession;
  readonly #persistent: boolean;
  readonly #subs = new Map<string, ActiveSubscription>();

  constructor(session: ClientSession, persistent: boolean) {
    this.#session = session;
    this.#persistent = persistent;
  }

  /** Re-creates the subscriptions of a persistent session (before CONNACK; attached on start). */
  restore(stored: readonly StoredSubscription[]): void {
    for (const s of stored) {
      const topic = this.#authorize(s.filter);
      if (typeof topic !== 'number') this.#subs.set(s.filter, { ...s, topic, sinks: new Map() });
    }
  }

  has(kind: SubscriptionTopic['kind']): boolean {
    for (const s of this.#subs.values()) if (s.topic.kind === kind) return true;
    return false;
  }

  async subscribe(packet: ISubscribePacket): Promise<void> {
    const granted: number[] = [];
    const added: ActiveSubscription[] = [];
    for (const { topic: filter, qos } of packet.subscriptions) {
      const topic = this.#authorize(filter);
      if (typeof topic === 'number') {
        granted.push(topic);
        continue;
      }
      // IoT Hub grants at most QoS 1 when QoS 2 is asked (IoT Hub MQTT doc).
      const grantedQos: 0 | 1 = qos === 0 ? 0 : 1;
      const previous = this.#subs.get(filter);
      if (previous) this.#detach(previous);
      const sub: ActiveSubscription = { filter, qos: grantedQos, topic, sinks: new Map() };
      this.#subs.set(filter, sub);
      added.push(sub);
      granted.push(grantedQos);
    }
    await this.#persist();
    // [MQTT-3.8.4-1] SUBACK first; deliveries start after it.
    this.#session.connection.send({ cmd: 'suback', messageId: packet.messageId ?? 0, granted });
    for (const sub of added) {
      this.#attach(sub);
      const event = { identity: this.#session.principal.key, kind: sub.topic.kind, filter: sub.filter };
      this.#session.hub.events.emit('subscribed', event);
    }
  }

  async unsubscribe(packet: IUnsubscribePacket): Promise<void> {
    for (const filter of packet.unsubscriptions) {
      const sub = this.#subs.get(filter);
      if (!sub) continue;
      this.#detach(sub);
      this.#subs.delete(filter);
    }
    await this.#persist();
    const v5 = this.#session.connection.protocolVersion === 5;
    this.#session.connection.send({
      cmd: 'unsuback',
      messageId: packet.messageId ?? 0,
      granted: v5 ? packet.unsubscriptions.map(() => REASON.success) : [],
    });
  }

  activateAll(): void {
    for (const sub of this.#subs.values()) this.#attach(sub);
  }

  notifyAll(): void {
    for (const sub of this.#subs.values()) for (const d of sub.sinks.keys()) d.notify();
  }

  detachAll(): void {
    for (const sub of this.#subs.values()) this.#detach(sub);
  }

  /** A new endpoint stream appeared (routes changed); attach it if one of ours covers it. */
  offerStream(delivery: EndpointDelivery): void {
    for (const sub of this.#subs.values()) {
      const prefix = this.#streamsPrefix(sub);
      if (prefix !== undefined && !sub.sinks.has(delivery) && delivery.stream.startsWith(prefix)) {
        this.#attachOne(sub, delivery, prefix);
      }
    }
  }

  /** A granted topic, or the failure code to put in the SUBACK. */
  #authorize(filter: string): SubscriptionTopic | number {
    const v5 = this.#session.connection.protocolVersion === 5;
    if (this.#subs.size >= limits.subscriptionsPerClientMax && !this.#subs.has(filter)) {
      return v5 ? REASON.quotaExceeded : FAILURE_V4;
    }
    let topic: SubscriptionTopic;
    try {
      topic = parseSubscription(filter);
    } catch (err) {
      if (!isTandemError(err)) throw err;
      return v5 ? REASON.topicFilterInvalid : FAILURE_V4;
    }
    const p = this.#session.principal;
    const own =
      (topic.kind === 'c2d' && p.moduleId === undefined && topic.deviceId === p.deviceId) ||
      (topic.kind === 'moduleInputs' && topic.deviceId === p.deviceId && topic.moduleId === p.moduleId) ||
      topic.kind === 'twinResponses' ||
      topic.kind === 'desiredPatches' ||
      topic.kind === 'methods';
    if (!own) {
      this.#session.hub.metrics.add(this.#session.hub.metrics.protocolErrors, 'TANDEM_E_FORBIDDEN');
      return v5 ? REASON.notAuthorized : FAILURE_V4;
    }
    return topic;
  }

  /** The endpoint-stream prefix a subscription consumes, if it consumes any. */
  #streamsPrefix(sub: ActiveSubscription): string | undefined {
    const t = sub.topic;
    if (t.kind === 'c2d') return c2dStream(t.deviceId);
    if (t.kind === 'moduleInputs' && t.deviceId === this.#session.hub.edgeDeviceId)
      return moduleInputPrefix(t.moduleId);
    return undefined;
  }

  #attach(sub: ActiveSubscription): void {
    const prefix = this.#streamsPrefix(sub);
    if (prefix === undefined) return;
    const endpoints = this.#session.hub.endpoints;
    const deliveries = sub.topic.kind === 'c2d' ? [endpoints.get(prefix)] : endpoints.withPrefix(prefix);
    for (const d of deliveries) this.#attachOne(sub, d, prefix);
  }

  #attachOne(sub: ActiveSubscription, delivery: EndpointDelivery, prefix: string): void {
    const s = this.#session;
    const t = sub.topic;
    const topicFor =
      t.kind === 'c2d'
        ? (msg: Parameters<typeof formatC2dTopic>[1]) => formatC2dTopic(t.deviceId, msg)
        : (msg: Parameters<typeof formatC2dTopic>[1]) =>
            formatModuleInputTopic(
              s.principal.deviceId,
              s.principal.moduleId ?? '',
              delivery.stream.slice(prefix.length),
              msg,
            );
    const sink = new TopicSink(s.connection, s.acks, sub.qos, topicFor);
    sub.sinks.set(delivery, sink);
    delivery.attach(sink);
  }

  #detach(sub: ActiveSubscription): void {
    for (const [delivery, sink] of sub.sinks) delivery.detach(sink);
    sub.sinks.clear();
  }

  async #persist(): Promise<void> {
    if (!this.#persistent) return;
    const stored: StoredSubscription[] = [...this.#subs.values()].map((s) => ({
      filter: s.filter,
      qos: s.qos,
    }));
    await this.#session.hub.kv.put(
      sessionKey(this.#session.principal.key),
      Buffer.from(JSON.stringify(stored)),
    );
  }
}
