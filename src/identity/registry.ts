/**
 * The identity registry: devices and modules with their symmetric keys, kept in the store's
 * KeyValue map so every hub process of a cluster sees the same identities (G6). Creation is
 * compare-and-set on "absent" (expectedRevision 0), so two processes creating the same id at
 * once cannot both succeed and hand out different keys.
 */
import { isValidId, validateDeviceId, validateModuleId } from '../core/topics/ids.js';
import { isTandemError, TandemError } from '../errors.js';
import type { KeyValue } from '../store/types.js';
import { type AuthenticateRequest, authenticateClient } from './authenticate.js';
import { type ConnectionStringOptions, formatConnectionString } from './connection-string.js';
import {
  decodeIdentity,
  displayId,
  encodeIdentity,
  generateSymmetricKey,
  type Identity,
  identityKey,
  identityKeyPrefix,
} from './identity.js';

export type { AuthenticateRequest } from './authenticate.js';
export type { Identity } from './identity.js';

export interface IdentityRegistryOptions {
  /** Key generator, replaceable in tests; defaults to 32 random bytes in base64. */
  readonly generateKey?: () => string;
}

export class IdentityRegistry {
  readonly #kv: KeyValue;
  readonly #generateKey: () => string;

  constructor(kv: KeyValue, options: IdentityRegistryOptions = {}) {
    this.#kv = kv;
    this.#generateKey = options.generateKey ?? generateSymmetricKey;
  }

  /**
   * Creates a device, or a module of an existing device (IoT Hub creates modules only under a
   * registered device): TANDEM_E_IDENTITY_EXISTS if it exists, TANDEM_E_IDENTITY_NOT_FOUND if
   * the module's device does not, TANDEM_E_IDENTITY_INVALID for a bad id.
   */
  async create(deviceId: string, moduleId?: string): Promise<Identity> {
    validateDeviceId(deviceId);
    if (moduleId !== undefined) {
      validateModuleId(moduleId);
      if ((await this.get(deviceId)) === undefined) {
        throw new TandemError(
          'TANDEM_E_IDENTITY_NOT_FOUND',
          `cannot create module ${moduleId}: no device ${deviceId}`,
        );
      }
    }
    const identity: Identity = {
      deviceId,
      moduleId,
      primaryKey: this.#generateKey(),
      secondaryKey: this.#generateKey(),
    };
    try {
      await this.#kv.put(identityKey(deviceId, moduleId), encodeIdentity(identity), { expectedRevision: 0 });
    } catch (err) {
      if (!isTandemError(err, 'TANDEM_E_STORE_CONFLICT')) throw err;
      throw new TandemError(
        'TANDEM_E_IDENTITY_EXISTS',
        `identity ${displayId(deviceId, moduleId)} already exists`,
        {
          cause: err,
        },
      );
    }
    return identity;
  }

  /** The identity, or undefined when there is none (or the id is not a valid id). */
  async get(deviceId: string, moduleId?: string): Promise<Identity | undefined> {
    // An id with a '/' would name another identity's key: such ids are simply not there.
    if (!isValidId(deviceId) || (moduleId !== undefined && !isValidId(moduleId))) return undefined;
    const key = identityKey(deviceId, moduleId);
    const entry = await this.#kv.get(key);
    return entry === undefined ? undefined : decodeIdentity(key, entry.value);
  }

  /** Every identity, devices each followed by their modules (sorted by key). */
  async list(): Promise<Identity[]> {
    const entries = await this.#kv.list(identityKeyPrefix);
    return entries.map((e) => decodeIdentity(e.key, e.value));
  }

  /**
   * Removes an identity; removing a device removes its modules too, as IoT Hub does. Resolves
   * true when the identity existed.
   */
  async remove(deviceId: string, moduleId?: string): Promise<boolean> {
    if (moduleId === undefined) {
      for (const m of await this.#kv.list(`${identityKey(deviceId)}/`)) await this.#kv.delete(m.key);
    }
    return this.#kv.delete(identityKey(deviceId, moduleId));
  }

  /** The identity a CONNECT proves, or TANDEM_E_AUTH with details.reason. */
  authenticate(request: AuthenticateRequest): Promise<Identity> {
    return authenticateClient(request, (d, m) => this.get(d, m));
  }

  /** `HostName=..;DeviceId=..;[ModuleId=..;]SharedAccessKey=..;GatewayHostName=..` as IoT Edge prints it. */
  connectionString(identity: Identity, options: ConnectionStringOptions): string {
    return formatConnectionString(identity, options);
  }
}
