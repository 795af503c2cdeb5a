/**
 * One MQTT connection: packet framing, the CONNECT handshake, keepalive, and the close
 * path. It knows MQTT, not IoT Hub: what a packet means is decided by the handler the
 * CONNECT decision returns. Every protocol violation closes this one connection only.
 */
import mqttPacket, {
  type IConnectPacket,
  type IPubackPacket,
  type IPublishPacket,
  type ISubscribePacket,
  type IUnsubscribePacket,
  type Packet,
} from 'mqtt-packet';
import { TandemError } from '../errors.js';
import { limits } from '../limits.js';
import type { TransportSocket } from '../transport/listener.js';
import { type ConnectRefusal, connackCode, REASON } from './codes.js';
import { PacketIds } from './packet-ids.js';
import { PacketReader } from './packet-reader.js';

export interface PacketHandler {
  publish(packet: IPublishPacket): void;
  puback(packet: IPubackPacket): void;
  subscribe(packet: ISubscribePacket): void;
  unsubscribe(packet: IUnsubscribePacket): void;
  /** CONNACK has been written: deliveries may start. */
  started(): void;
  /** The socket is gone; called once. */
  closed(reason: string): void;
}

export type ConnectDecision =
  | { readonly accepted: true; readonly sessionPresent: boolean; readonly handler: PacketHandler }
  | { readonly accepted: false; readonly refusal: ConnectRefusal; readonly reason: string };

export type ConnectAuthority = (conn: MqttConnection, packet: IConnectPacket) => Promise<ConnectDecision>;

type State = 'awaiting-connect' | 'authenticating' | 'connected' | 'closed';

export interface ConnectionEvents {
  /** A connection was closed for bad input or a policy (for logs and metrics). */
  onProtocolError?(conn: MqttConnection, err: TandemError): void;
}

export class MqttConnection {
  readonly socket: TransportSocket;
  readonly packetIds = new PacketIds();
  protocolVersion: 3 | 4 | 5 = 4;
  clientId = '';
  /** QoS 1 PUBLISHes the client accepts unacknowledged [MQTT-3.3.4-9]; MQTT 3.1.1 has no such cap. */
  receiveMaximum = 65_535;
  /** Set while CONNECT is processed, so that packets pipelined behind it wait their turn. */
  #queued: Packet[] = [];
  #state: State = 'awaiting-connect';
  #handler: PacketHandler | undefined;
  #keepaliveTimer: NodeJS.Timeout | undefined;
  #corked = false;
  readonly #authority: ConnectAuthority;
  readonly #events: ConnectionEvents;
  readonly #reader: PacketReader;

  constructor(socket: TransportSocket, authority: ConnectAuthority, events: ConnectionEvents = {}) {
    this.socket = socket;
    this.#authority = authority;
    this.#events = events;
    this.#reader = new PacketReader(
      limits.packetBytesMax,
      (p) => this.#onPacket(p),
      (e) =>
        this.protocolError(
          e,
          e.code === 'TANDEM_E_TOO_LARGE' ? REASON.packetTooLarge : REASON.malformedPacket,
        ),
    );
    socket.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    socket.on('error', () => this.#teardown('socket error'));
    socket.on('close', () => this.#teardown('socket closed'));
    // [MQTT-3.1.0-1] spirit: a socket that never sends CONNECT does not hold a slot forever.
    this.#armKeepalive(limits.connectTimeoutMs);
  }

  get state(): State {
    return this.#state;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? 'unknown';
  }

  /**
   * Writes a packet; false means the socket buffer is past its high-water mark. Writes made
   * in one event-loop turn (a batch of PUBACKs after a group commit, a burst of deliveries)
   * leave in one system call: the socket is corked until the next tick.
   */
  send(packet: Packet): boolean {
    if (this.#state === 'closed') return false;
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.socket.uncork();
      });
    }
    const bytes = mqttPacket.generate(packet, { protocolVersion: this.protocolVersion });
    return this.socket.write(bytes);
  }

  /** True while the socket can take more without growing its buffer past the bound. */
  get writable(): boolean {
    return this.#state === 'connected' && this.socket.writableLength < limits.socketWriteBufferBytesMax;
  }

  /** Closes for bad input: MQTT 5 clients get a DISCONNECT with the reason first. */
  protocolError(err: TandemError, reasonCode: number = REASON.malformedPacket): void {
    if (this.#state === 'closed') return;
    this.#events.onProtocolError?.(this, err);
    this.disconnect(reasonCode, err.message);
  }

  /** Server-initiated close; MQTT 5 clients are told why [MQTT-3.14.2-1 reason codes]. */
  disconnect(reasonCode: number, reason: string): void {
    if (this.#state === 'closed') return;
    if (this.protocolVersion === 5 && this.#state === 'connected') {
      this.send({ cmd: 'disconnect', reasonCode, properties: { reasonString: reason.slice(0, 200) } });
    }
    this.close(reason);
  }

  /** Ends the connection: flushes what was written, then destroys the socket. */
  close(reason: string): void {
    if (this.#state === 'closed') return;
    this.socket.end();
    // A peer that does not read would keep a half-closed socket; destroy after a flush window.
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.#teardown(reason);
  }

  #teardown(reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#keepaliveTimer);
    this.#queued = [];
    if (!this.socket.destroyed && reason.startsWith('socket')) this.socket.destroy();
    this.#handler?.closed(reason);
  }

  #armKeepalive(ms: number): void {
    clearTimeout(this.#keepaliveTimer);
    this.#keepaliveTimer = setTimeout(() => this.close('keepalive timeout'), ms);
    this.#keepaliveTimer.unref();
  }

  #onPacket(packet: Packet): void {
    if (this.#state === 'closed') return;
    // Any packet counts as activity [MQTT-3.1.2-24].
    this.#keepaliveTimer?.refresh();
    if (this.#state === 'awaiting-connect') {
      if (packet.cmd !== 'connect') {
        // [MQTT-3.1.0-1] the first packet from the client MUST be CONNECT.
        this.protocolError(
          new TandemError('TANDEM_E_PROTOCOL', `first packet was ${packet.cmd}, not connect`),
        );
        return;
      }
      this.#state = 'authenticating';
      void this.#connect(packet);
      return;
    }
    if (this.#state === 'authenticating') {
      this.#queued.push(packet);
      return;
    }
    this.#dispatch(packet);
  }

  #dispatch(packet: Packet): void {
    const handler = this.#handler;
    if (!handler) return;
    switch (packet.cmd) {
      case 'publish':
        handler.publish(packet);
        return;
      case 'puback':
        handler.puback(packet);
        return;
      case 'subscribe':
        handler.subscribe(packet);
        return;
      case 'unsubscribe':
        handler.unsubscribe(packet);
        return;
      case 'pingreq':
        this.send({ cmd: 'pingresp' });
        return;
      case 'disconnect':
        this.close('client disconnected');
        return;
      case 'connect':
        // [MQTT-3.1.0-2] a second CONNECT is a protocol violation.
        this.protocolError(new TandemError('TANDEM_E_PROTOCOL', 'second CONNECT on one connection'));
        return;
      default:
        // PUBREC/PUBREL/PUBCOMP belong to QoS 2, which the hub never grants; AUTH is not used.
        this.protocolError(
          new TandemError('TANDEM_E_PROTOCOL', `unexpected ${packet.cmd} packet`),
          REASON.protocolError,
        );
    }
  }

  async #connect(packet: IConnectPacket): Promise<void> {
    this.protocolVersion = packet.protocolVersion === 5 ? 5 : packet.protocolVersion === 3 ? 3 : 4;
    this.clientId = packet.clientId;
    this.receiveMaximum = packet.properties?.receiveMaximum ?? 65_535;
    let decision: ConnectDecision;
    try {
      decision = await this.#authority(this, packet);
    } catch (err) {
      decision = { accepted: false, refusal: 'unavailable', reason: `connect failed: ${String(err)}` };
    }
    if (this.#state === 'closed') return;
    if (!decision.accepted) {
      this.send({
        cmd: 'connack',
        sessionPresent: false,
        ...connackCode(this.protocolVersion, decision.refusal),
      });
      // [MQTT-3.2.2-5] after a refusing CONNACK the server MUST close the connection.
      this.#events.onProtocolError?.(this, new TandemError('TANDEM_E_AUTH', decision.reason));
      this.close(decision.reason);
      return;
    }
    this.#handler = decision.handler;
    this.#state = 'connected';
    this.send(this.#connack(packet, decision.sessionPresent));
    this.#armKeepalive(this.#keepaliveMs(packet.keepalive ?? 0));
    decision.handler.started();
    const queued = this.#queued;
    this.#queued = [];
    for (const p of queued) {
      if (this.#state !== 'connected') break;
      this.#dispatch(p);
    }
  }

  #keepaliveSeconds(asked: number): number {
    if (asked === 0 || asked > limits.keepaliveSecondsMax) return limits.keepaliveSecondsMax;
    return asked;
  }

  #keepaliveMs(asked: number): number {
    // [MQTT-3.1.2-24] allow one and a half keepalive periods before giving up on the client.
    return this.#keepaliveSeconds(asked) * 1500;
  }

  #connack(packet: IConnectPacket, sessionPresent: boolean): Packet {
    if (this.protocolVersion !== 5) return { cmd: 'connack', returnCode: 0, sessionPresent };
    const asked = packet.keepalive ?? 0;
    return {
      cmd: 'connack',
      reasonCode: 0,
      sessionPresent,
      properties: {
        maximumQoS: 1,
        retainAvailable: false,
        sharedSubscriptionAvailable: false,
        subscriptionIdentifiersAvailable: false,
        topicAliasMaximum: 0,
        receiveMaximum: limits.ingressPendingMessagesMax,
        maximumPacketSize: limits.packetBytesMax,
        ...(asked !== this.#keepaliveSeconds(asked)
          ? { serverKeepAlive: this.#keepaliveSeconds(asked) }
          : {}),
      },
    };
  }
}
