/**
 * The transport: the only module that imports node:net / node:tls. It accepts sockets and
 * hands them to the protocol head as plain duplex streams, so everything above it can be
 * tested without caring which transport carried the bytes.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { limits } from '../limits.js';

export interface TransportSocket extends Duplex {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  setNoDelay?(noDelay?: boolean): unknown;
}

export interface ListenOptions {
  readonly host: string;
  /** 0 picks an ephemeral port. */
  readonly port: number;
  readonly tls?: { readonly cert: string; readonly key: string };
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  close(): Promise<void>;
}

export async function listen(
  options: ListenOptions,
  onSocket: (socket: TransportSocket) => void,
): Promise<Listener> {
  const accept = (socket: net.Socket): void => {
    // MQTT is chatty with small packets; Nagle would add up to 40 ms to every PUBACK.
    socket.setNoDelay(true);
    onSocket(socket);
  };
  const server = options.tls
    ? tls.createServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, accept)
    : net.createServer(accept);
  server.maxConnections = limits.connectionsMax;
  // A failed TLS handshake is one client's problem; it must not reach the process.
  server.on('tlsClientError', (_err: Error, socket: Duplex) => socket.destroy());
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  return {
    host: options.host,
    port: address.port,
    secure: options.tls !== undefined,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
