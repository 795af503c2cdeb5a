/**
 * The "cloud" side of an upstream test: an MQTT.js subscriber on the Mosquitto broker that
 * records every message the connector published, decoded the way docs/upstream.md says the
 * wire looks (MQTT 5 properties, or the IoT Hub property bag after the topic in 3.1.1).
 */
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { decodePropertyBag } from '../../../src/core/topics/index.js';

export interface CloudMessage {
  readonly topic: string;
  readonly body: string;
  /** Message id: `$.mid` (user property or bag). */
  readonly id: string;
  /** MQTT 5 user properties, or the decoded bag's application properties (3.1.1). */
  readonly props: Record<string, string>;
  /** 3.1.1 only: the decoded bag's system properties, by long name. */
  readonly system: Record<string, string>;
  readonly contentType?: string;
  readonly correlationId?: string;
}

function decode(topic: string, payload: Buffer, packet: IPublishPacket, version: 4 | 5): CloudMessage {
  if (version === 5) {
    const user = (packet.properties?.userProperties ?? {}) as Record<string, string>;
    return {
      topic,
      body: payload.toString(),
      id: user['$.mid'] ?? '',
      props: { ...user },
      system: {},
      ...(packet.properties?.contentType ? { contentType: packet.properties.contentType } : {}),
      ...(packet.properties?.correlationData
        ? { correlationId: Buffer.from(packet.properties.correlationData).toString('utf8') }
        : {}),
    };
  }
  const bag = decodePropertyBag(topic.slice(topic.lastIndexOf('/') + 1));
  return {
    topic,
    body: payload.toString(),
    id: bag.systemProperties.messageId ?? '',
    props: { ...bag.properties },
    system: { ...bag.systemProperties },
  };
}

export class CloudSubscriber {
  readonly received: CloudMessage[] = [];
  readonly #client: MqttClient;

  private constructor(client: MqttClient) {
    this.#client = client;
  }

  /**
   * Subscribes at QoS 1 with a persistent session, reconnecting on its own (it is test
   * infrastructure, not the code under test), so messages published while it is away are
   * kept for it by the broker.
   */
  static async connect(
    url: string,
    version: 4 | 5,
    filter: string,
    clientId: string,
  ): Promise<CloudSubscriber> {
    const client = mqtt.connect(url, {
      clientId,
      protocolVersion: version,
      clean: false,
      reconnectPeriod: 100,
      connectTimeout: 10_000,
      ...(version === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
    });
    const sub = new CloudSubscriber(client);
    client.on('message', (topic, payload, packet) =>
      sub.received.push(decode(topic, payload, packet, version)),
    );
    client.on('error', () => {}); // reconnects are expected while the broker restarts
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      setTimeout(() => reject(new Error('cloud subscriber could not connect')), 10_000).unref();
    });
    await client.subscribeAsync(filter, { qos: 1 });
    return sub;
  }

  /** Ids in arrival order with repeats dropped (first occurrence kept). */
  uniqueIds(): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const m of this.received) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      out.push(m.id);
    }
    return out;
  }

  get repeats(): number {
    return this.received.length - new Set(this.received.map((m) => m.id)).size;
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true);
  }
}
