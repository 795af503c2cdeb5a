/**
 * Bytes to MQTT packets, with the size bound applied while bytes arrive, not after a whole
 * oversize packet has been buffered. mqtt-packet learns the protocol version from CONNECT
 * and parses the rest of the stream accordingly.
 */
import mqttPacket, { type Packet } from 'mqtt-packet';
import { TandemError } from '../errors.js';

interface ParserInternals {
  /** mqtt-packet's packet under construction: length is -1 until the remaining-length field is read. */
  packet: { length: number };
}

export class PacketReader {
  readonly #parser = mqttPacket.parser();
  readonly #packetBytesMax: number;
  #failed: TandemError | undefined;

  constructor(packetBytesMax: number, onPacket: (p: Packet) => void, onError: (e: TandemError) => void) {
    this.#packetBytesMax = packetBytesMax;
    this.#parser.on('packet', (p: Packet) => {
      if (!this.#failed) onPacket(p);
    });
    this.#parser.on('error', (err: Error) =>
      this.#fail(
        new TandemError('TANDEM_E_PROTOCOL', `malformed packet: ${err.message}`, { cause: err }),
        onError,
      ),
    );
    this.#onError = onError;
  }

  readonly #onError: (e: TandemError) => void;

  /** Feeds a chunk; packets and errors are emitted synchronously. Nothing is read after an error. */
  push(chunk: Buffer): void {
    if (this.#failed) return;
    this.#parser.parse(chunk);
    const length = (this.#parser as unknown as ParserInternals).packet.length;
    if (length > this.#packetBytesMax) {
      this.#fail(
        new TandemError('TANDEM_E_TOO_LARGE', `packet of ${length} bytes exceeds ${this.#packetBytesMax}`, {
          details: { length, limit: this.#packetBytesMax },
        }),
        this.#onError,
      );
    }
  }

  #fail(err: TandemError, onError: (e: TandemError) => void): void {
    if (this.#failed) return;
    this.#failed = err;
    onError(err);
  }
}
