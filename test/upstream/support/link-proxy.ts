/**
 * A TCP relay between the connector and the broker that a test can misbehave: hold back
 * what the broker sends (so PUBACKs never arrive and publishes stay in flight), then cut
 * every connection at once, as a network failure would.
 */
import { once } from 'node:events';
import net from 'node:net';

export class LinkProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #holding = false;
  port = 0;

  private constructor(targetPort: number) {
    this.#server = net.createServer((client) => {
      const broker = net.connect({ host: '127.0.0.1', port: targetPort });
      this.#sockets.add(client).add(broker);
      client.on('data', (d) => broker.write(d));
      // While holding, the broker's bytes are dropped; the connection is cut before it is used again.
      broker.on('data', (d) => this.#holding || client.write(d));
      const end = (): void => {
        client.destroy();
        broker.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(broker);
      };
      client.on('close', end).on('error', end);
      broker.on('close', end).on('error', end);
    });
  }

  static async start(targetPort: number): Promise<LinkProxy> {
    const p = new LinkProxy(targetPort);
    p.#server.listen(0, '127.0.0.1');
    await once(p.#server, 'listening');
    p.port = (p.#server.address() as net.AddressInfo).port;
    return p;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** From now on nothing the broker sends reaches the client. */
  holdReplies(): void {
    this.#holding = true;
  }

  /** Relays the broker's bytes again; only for connections opened from now on (held ones lost bytes). */
  releaseReplies(): void {
    this.#holding = false;
  }

  /** Drops every relayed connection; new ones are relayed normally. */
  cut(): void {
    this.#holding = false;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
