/**
 * The one NATS connection of a store instance, and the check that JetStream is there.
 *
 * - `servers` in the given order (`noRandomize`): the local node's nats-server is first, so
 *   a hub talks to its own server while it runs and to another one only when it does not.
 * - Reconnect forever, soon (`maxReconnectAttempts: -1`, limits.jetstreamReconnectWaitMs):
 *   the local nats-server may restart with its node; appends wait meanwhile, bounded by
 *   limits.jetstreamAppendTimeoutMs (appender.ts).
 * - `name` shows the hub replica in the server's connection list (`nats server report`).
 */
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TandemError } from '../../errors.js';
import { limits } from '../../limits.js';

export type StoreLog = (level: 'info' | 'warn', message: string) => void;

export interface ConnectOptions {
  readonly servers: readonly string[];
  readonly name?: string;
  readonly log: StoreLog;
}

export async function connectNats(o: ConnectOptions): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: [...o.servers],
      name: o.name ?? 'tandem-store',
      noRandomize: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: limits.jetstreamReconnectWaitMs,
      reconnectJitter: 0,
      waitOnFirstConnect: false,
    });
  } catch (err) {
    throw new TandemError(
      'TANDEM_E_STORE',
      `cannot connect to NATS at ${o.servers.join(', ')}: ${String(err)}`,
      {
        cause: err,
        details: { servers: o.servers },
      },
    );
  }
  void logStatus(nc, o.log);
  return nc;
}

/** Disconnects and reconnects are worth a line: appends stall meanwhile. */
async function logStatus(nc: NatsConnection, log: StoreLog): Promise<void> {
  try {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') log('warn', `store: disconnected from NATS server ${s.server}`);
      else if (s.type === 'reconnect') log('info', `store: reconnected to NATS server ${s.server}`);
      else if (s.type === 'error') log('warn', `store: NATS error: ${String(s.error)}`);
    }
  } catch {
    // The iterator ends with the connection.
  }
}

/** The JetStream manager, or TANDEM_E_STORE saying that the server runs without JetStream. */
export async function requireJetStream(
  nc: NatsConnection,
  servers: readonly string[],
): Promise<JetStreamManager> {
  try {
    return await jetstreamManager(nc, { checkAPI: true, timeout: limits.jetstreamAppendTimeoutMs });
  } catch (err) {
    const server = nc.getServer();
    throw new TandemError(
      'TANDEM_E_STORE',
      `JetStream is not available on the NATS server ${server} (start nats-server with -js / a jetstream block): ${String(err)}`,
      { cause: err, details: { servers } },
    );
  }
}
