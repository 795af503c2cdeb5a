/**
 * Authenticating an MQTT CONNECT with IoT Hub's SAS scheme: client id, username and a SAS
 * token as password (IoT Hub MQTT doc, "Using the MQTT protocol directly").
 */
import { type ClientIds, parseClientId, parseUsername } from '../core/topics/connect.js';
import { isTandemError, TandemError } from '../errors.js';
import { displayId, type Identity } from './identity.js';
import { deviceResourceUri, verifySasToken } from './sas.js';

export interface AuthenticateRequest {
  readonly clientId: string;
  readonly username: string;
  /** The CONNECT password: the SAS token. */
  readonly password: string | Uint8Array | undefined;
  readonly nowSec: number;
  /** The IoT hub host name identities belong to (the SDK's HostName). */
  readonly hubName: string;
  /**
   * The hub's own host name, also accepted as the token's resource host: edgeHub's
   * DeviceScopeTokenAuthenticator accepts the IoT hub host name or the edge hub host name.
   */
  readonly gatewayHost?: string | undefined;
}

export type IdentityLookup = (
  deviceId: string,
  moduleId: string | undefined,
) => Promise<Identity | undefined>;

function refuse(reason: string, message: string, cause?: unknown): TandemError {
  return new TandemError('TANDEM_E_AUTH', message, { cause, details: { reason } });
}

function idsOf(request: AuthenticateRequest): ClientIds {
  let fromClientId: ClientIds;
  try {
    fromClientId = parseClientId(request.clientId);
  } catch (cause) {
    throw refuse('malformed-client-id', 'client id is not {deviceId} or {deviceId}/{moduleId}', cause);
  }
  let user: ReturnType<typeof parseUsername>;
  try {
    user = parseUsername(request.username);
  } catch (cause) {
    const reason = isTandemError(cause, 'TANDEM_E_AUTH') ? 'malformed-username' : 'malformed-username-id';
    throw refuse(reason, 'username is not {hub}/{deviceId}[/{moduleId}]/?api-version=...', cause);
  }
  // IoT Hub MQTT doc: the username repeats the client id's ids; a mismatch would let one
  // identity's token speak for another's session.
  if (user.deviceId !== fromClientId.deviceId || user.moduleId !== fromClientId.moduleId) {
    throw refuse(
      'client-id-mismatch',
      `username names ${displayId(user.deviceId, user.moduleId)}, not the client id`,
    );
  }
  // Host names are case-insensitive (RFC 4343).
  if (user.hubName.toLowerCase() !== request.hubName.toLowerCase()) {
    throw refuse('wrong-hub', `username names hub ${JSON.stringify(user.hubName.slice(0, 255))}`);
  }
  return fromClientId;
}

function passwordText(password: string | Uint8Array | undefined): string {
  if (password === undefined) return '';
  return typeof password === 'string' ? password : Buffer.from(password).toString('utf8');
}

/** The authenticated identity, or TANDEM_E_AUTH with details.reason. */
export async function authenticateClient(
  request: AuthenticateRequest,
  lookup: IdentityLookup,
): Promise<Identity> {
  const { deviceId, moduleId } = idsOf(request);
  const token = passwordText(request.password);
  if (token.length === 0)
    throw refuse('no-password', 'no SAS token in the password (X.509 is not supported)');
  const identity = await lookup(deviceId, moduleId);
  if (identity === undefined)
    throw refuse('unknown-identity', `no identity ${displayId(deviceId, moduleId)}`);
  const hosts = [request.hubName];
  if (request.gatewayHost) hosts.push(request.gatewayHost);
  verifySasToken(token, {
    expectedResourceUri: hosts.map((h) => deviceResourceUri(h, deviceId, moduleId)),
    keys: [identity.primaryKey, identity.secondaryKey],
    nowSec: request.nowSec,
  });
  return identity;
}
