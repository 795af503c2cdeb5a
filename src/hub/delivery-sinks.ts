/**
 * How an endpoint's messages reach one connection: QoS 1 PUBLISHes with packet ids taken
 * from the connection, completed by the client's PUBACK; QoS 0 completes when written.
 */

import type { MqttConnection } from '../protocol/connection.js';
import type { LogRecord } from '../store/types.js';
import type { DeliverySink } from './endpoint-delivery.js';
import type { HubMessage } from './message.js';

export class ConnectionAcks {
  readonly #waiting = new Map<number, () => void>();
  readonly #conn: MqttConnection;

  constructor(conn: MqttConnection) {
    this.#conn = conn;
  }

  /** Sends a PUBLISH; `done` runs on its PUBACK (QoS 1) or right away (QoS 0). */
  publish(topic: string, payload: Uint8Array, qos: 0 | 1, done: () => void): void {
    if (qos === 0) {
      this.#conn.send({
        cmd: 'publish',
        topic,
        payload: toBuffer(payload),
        qos: 0,
        dup: false,
        retain: false,
      });
      done();
      return;
    }
    const messageId = this.#conn.packetIds.take();
    // The delivery window is far below 65535, so ids cannot run out; a 0 would be a bug.
    if (messageId === 0) throw new Error('packet ids exhausted');
    this.#waiting.set(messageId, done);
    this.#conn.send({
      cmd: 'publish',
      topic,
      payload: toBuffer(payload),
      qos: 1,
      messageId,
      dup: false,
      retain: false,
    });
  }

  /** False while the client holds as many unacknowledged QoS 1 messages as it allows [MQTT-3.3.4-9]. */
  get roomForQos1(): boolean {
    return this.#waiting.size < this.#conn.receiveMaximum;
  }

  /**
   * A client PUBACK; unknown ids are ignored (a late ack for a message already resent).
   * Returns true when this ack made room under the client's receive maximum.
   */
  acked(messageId: number): boolean {
    const done = this.#waiting.get(messageId);
    if (!done) return false;
    const wasFull = !this.roomForQos1;
    this.#waiting.delete(messageId);
    this.#conn.packetIds.release(messageId);
    done();
    return wasFull;
  }
}

export class TopicSink implements DeliverySink {
  readonly #conn: MqttConnection;
  readonly #acks: ConnectionAcks;
  readonly #qos: 0 | 1;
  readonly #topicFor: (msg: HubMessage) => string;

  constructor(conn: MqttConnection, acks: ConnectionAcks, qos: 0 | 1, topicFor: (msg: HubMessage) => string) {
    this.#conn = conn;
    this.#acks = acks;
    this.#qos = qos;
    this.#topicFor = topicFor;
  }

  get ready(): boolean {
    return this.#conn.writable && (this.#qos === 0 || this.#acks.roomForQos1);
  }

  deliver(msg: HubMessage, _record: LogRecord, done: () => void): void {
    this.#acks.publish(this.#topicFor(msg), msg.body, this.#qos, done);
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
