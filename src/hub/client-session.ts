/**
 * One authenticated client's session: the IoT Hub dialect on top of MQTT. PUBLISHes become
 * durable messages, twin requests or method responses; SUBSCRIBEs attach the client to its
 * own endpoints (module inputs, cloud-to-device) and to twin and method notifications.
 * Authorization (G6): an identity publishes and subscribes only on its own topics.
 */
import { randomUUID } from 'node:crypto';
import type { IPubackPacket, IPublishPacket, ISubscribePacket, IUnsubscribePacket } from 'mqtt-packet';
import { isTandemError, TandemError } from '../errors.js';
import { limits } from '../limits.js';
import { REASON } from '../protocol/codes.js';
import type { MqttConnection, PacketHandler } from '../protocol/connection.js';
import { AckChain } from './ack-chain.js';
import type { HubContext } from './context.js';
import { ConnectionAcks } from './delivery-sinks.js';
import type { Principal } from './principal.js';
import { handleDialectPublish } from './session-publish.js';
import { SessionSubscriptions } from './session-subscriptions.js';

export class ClientSession implements PacketHandler {
  /** Unique per connection: the cluster's session directory names the live one by it. */
  readonly id = randomUUID();
  readonly principal: Principal;
  readonly connection: MqttConnection;
  readonly hub: HubContext;
  readonly acks: ConnectionAcks;
  readonly ackChain: AckChain;
  readonly subscriptions: SessionSubscriptions;

  constructor(hub: HubContext, connection: MqttConnection, principal: Principal, persistent: boolean) {
    this.hub = hub;
    this.connection = connection;
    this.principal = principal;
    this.acks = new ConnectionAcks(connection);
    this.ackChain = new AckChain(
      limits.ingressPendingMessagesMax,
      () => connection.socket.pause(),
      () => connection.socket.resume(),
    );
    this.subscriptions = new SessionSubscriptions(this, persistent);
    connection.socket.on('drain', () => this.subscriptions.notifyAll());
  }

  started(): void {
    this.subscriptions.activateAll();
  }

  publish(packet: IPublishPacket): void {
    if (packet.qos === 2) {
      // IoT Hub closes the connection on a QoS 2 PUBLISH (IoT Hub MQTT doc, "QoS 2 is not supported").
      this.connection.protocolError(
        new TandemError('TANDEM_E_QOS_UNSUPPORTED', 'QoS 2 publish is not supported'),
        REASON.qosNotSupported,
      );
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (payload.length > limits.messageBytesMax) {
      this.refuse(
        packet,
        new TandemError(
          'TANDEM_E_TOO_LARGE',
          `message of ${payload.length} bytes is over ${limits.messageBytesMax}`,
        ),
        REASON.implementationSpecific,
      );
      return;
    }
    handleDialectPublish(this, packet, payload);
  }

  puback(packet: IPubackPacket): void {
    // Room again under the client's receive maximum: every endpoint of this session may send.
    if (packet.messageId !== undefined && this.acks.acked(packet.messageId)) this.subscriptions.notifyAll();
  }

  subscribe(packet: ISubscribePacket): void {
    void this.subscriptions.subscribe(packet).catch((err: unknown) => this.#failed(err));
  }

  unsubscribe(packet: IUnsubscribePacket): void {
    void this.subscriptions.unsubscribe(packet).catch((err: unknown) => this.#failed(err));
  }

  closed(_reason: string): void {
    this.subscriptions.detachAll();
    this.hub.sessions.release(this);
  }

  /** PUBACK for a QoS 1 publish, in arrival order behind earlier ones. */
  ackWhenDone<T>(packet: IPublishPacket, work: Promise<T>, after?: (value: T) => void): void {
    this.ackChain.push(work, (outcome) => {
      if (outcome.ok) {
        after?.(outcome.value);
        if (packet.qos === 1) this.connection.send({ cmd: 'puback', messageId: packet.messageId ?? 0 });
        return;
      }
      const err = outcome.error;
      if (isTandemError(err, 'TANDEM_E_STORE_FULL')) {
        this.refuse(packet, err, REASON.quotaExceeded);
      } else if (isTandemError(err) && err.code !== 'TANDEM_E_ASSERT' && err.code !== 'TANDEM_E_STORE') {
        this.refuse(packet, err, REASON.implementationSpecific);
      } else {
        this.#failed(err);
      }
    });
  }

  /**
   * Refuses one PUBLISH. MQTT 5 can say so in the PUBACK and keep the connection; MQTT 3.1.1
   * has no negative PUBACK, so, as IoT Hub does, the connection is closed and the client's
   * unacknowledged messages stay its own to resend.
   */
  refuse(packet: IPublishPacket, err: TandemError, reasonCode: number): void {
    this.hub.metrics.add(this.hub.metrics.protocolErrors, err.code);
    if (this.connection.protocolVersion === 5) {
      if (packet.qos === 1) {
        this.connection.send({
          cmd: 'puback',
          messageId: packet.messageId ?? 0,
          reasonCode,
          properties: { reasonString: err.message.slice(0, 200) },
        });
      }
      return;
    }
    this.connection.protocolError(err, reasonCode);
  }

  #failed(err: unknown): void {
    this.hub.warn(`session ${this.principal.key} failed`, err);
    this.connection.disconnect(REASON.unspecifiedError, 'internal error');
  }
}
