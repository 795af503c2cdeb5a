/**
 * A device or module identity and how it is stored: one JSON value per identity under
 * `identity/{d}` or `identity/{d}/{m}` in the KeyValue map.
 */
import { randomBytes } from 'node:crypto';
import { isValidId } from '../core/topics/ids.js';
import { TandemError } from '../errors.js';

export interface Identity {
  readonly deviceId: string;
  readonly moduleId?: string | undefined;
  /** Base64 of 32 random bytes, the size IoT Hub generates for symmetric keys. */
  readonly primaryKey: string;
  readonly secondaryKey: string;
}

export const identityKeyPrefix = 'identity/';

/** Bytes in a generated symmetric key: IoT Hub's auto-generated keys are 32 bytes (256 bits). */
const symmetricKeyBytes = 32;

export function generateSymmetricKey(): string {
  return randomBytes(symmetricKeyBytes).toString('base64');
}

/** The KeyValue key of an identity. Ids hold no `/` (validated), so keys cannot collide. */
export function identityKey(deviceId: string, moduleId?: string): string {
  return moduleId === undefined
    ? `${identityKeyPrefix}${deviceId}`
    : `${identityKeyPrefix}${deviceId}/${moduleId}`;
}

export function encodeIdentity(identity: Identity): Uint8Array {
  const record: Record<string, string> = {
    deviceId: identity.deviceId,
    primaryKey: identity.primaryKey,
    secondaryKey: identity.secondaryKey,
  };
  if (identity.moduleId !== undefined) record.moduleId = identity.moduleId;
  return Buffer.from(JSON.stringify(record), 'utf8');
}

function isKey(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Decodes a stored identity; TANDEM_E_STORE when the record is not one (a corrupt store). */
export function decodeIdentity(key: string, value: Uint8Array): Identity {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  } catch (cause) {
    throw new TandemError('TANDEM_E_STORE', `identity record ${key} is not JSON`, { cause });
  }
  const r = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const moduleId = r.moduleId;
  if (
    typeof r.deviceId !== 'string' ||
    !isValidId(r.deviceId) ||
    (moduleId !== undefined && (typeof moduleId !== 'string' || !isValidId(moduleId))) ||
    !isKey(r.primaryKey) ||
    !isKey(r.secondaryKey) ||
    identityKey(r.deviceId, moduleId) !== key
  ) {
    throw new TandemError('TANDEM_E_STORE', `identity record ${key} is malformed`);
  }
  return { deviceId: r.deviceId, moduleId, primaryKey: r.primaryKey, secondaryKey: r.secondaryKey };
}

export function displayId(deviceId: string, moduleId?: string): string {
  return moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
}
