/**
 * The CONNECT decision: who is this client (IoT Hub client id, username and SAS token),
 * is the session clean or resumed, and which older session it replaces.
 */
import type { IConnectPacket } from 'mqtt-packet';
import { isTandemError } from '../errors.js';
import type { ConnectDecision, MqttConnection } from '../protocol/connection.js';
import { ClientSession } from './client-session.js';
import type { HubContext } from './context.js';
import { type Principal, principalKey } from './principal.js';
import { type StoredSubscription, sessionKey } from './session-subscriptions.js';

/** Authenticates a CONNECT; the identity registry implements it. */
export type Authenticator = (request: {
  clientId: string;
  username: string;
  password: string;
}) => Promise<{ deviceId: string; moduleId?: string | undefined }>;

export async function decideConnect(
  hub: HubContext,
  authenticate: Authenticator,
  conn: MqttConnection,
  packet: IConnectPacket,
): Promise<ConnectDecision> {
  if (packet.protocolVersion === 3) {
    return { accepted: false, refusal: 'bad-protocol', reason: 'MQTT 3.1 is not supported; use 3.1.1 or 5' };
  }
  if (!packet.clientId) {
    // IoT Hub needs the device (or device/module) id as client id; an empty one cannot be authorized.
    return { accepted: false, refusal: 'bad-client-id', reason: 'empty client id' };
  }
  let principal: Principal;
  try {
    const who = await authenticate({
      clientId: packet.clientId,
      username: packet.username ?? '',
      password: packet.password?.toString('utf8') ?? '',
    });
    principal = {
      deviceId: who.deviceId,
      moduleId: who.moduleId,
      key: principalKey(who.deviceId, who.moduleId),
    };
  } catch (err) {
    if (!isTandemError(err)) throw err;
    const refusal =
      err.code === 'TANDEM_E_IDENTITY_INVALID'
        ? 'bad-client-id'
        : err.code === 'TANDEM_E_AUTH'
          ? 'bad-credentials'
          : 'not-authorized';
    return { accepted: false, refusal, reason: `${packet.clientId}: ${err.message}` };
  }
  const persistent =
    packet.protocolVersion === 5
      ? (packet.properties?.sessionExpiryInterval ?? 0) > 0
      : packet.clean === false;
  const stored = await loadSession(hub, principal.key, packet.clean !== false);
  const session = new ClientSession(hub, conn, principal, persistent);
  if (stored && packet.clean === false) session.subscriptions.restore(stored);
  hub.sessions.takeOver(session);
  // In a cluster the claim closes this identity's session on other replicas; it is durable
  // before CONNACK, so a later CONNECT anywhere wins over this one.
  await hub.sessionDirectory?.claim(principal.key, session.id);
  return { accepted: true, sessionPresent: stored !== undefined && packet.clean === false, handler: session };
}

/** The stored subscriptions of a persistent session; a clean start discards them [MQTT-3.1.2-6]. */
async function loadSession(
  hub: HubContext,
  key: string,
  clean: boolean,
): Promise<StoredSubscription[] | undefined> {
  if (clean) {
    await hub.kv.delete(sessionKey(key));
    return undefined;
  }
  const entry = await hub.kv.get(sessionKey(key));
  return entry ? (JSON.parse(Buffer.from(entry.value).toString('utf8')) as StoredSubscription[]) : undefined;
}
