/**
 * One live session per identity, as IoT Hub enforces: a new connection with the same
 * identity takes over and the older one is closed (MQTT 5 clients are told 0x8E,
 * "session taken over"). Lookups serve direct methods and twin notifications.
 */
import { REASON } from '../protocol/codes.js';
import type { ClientSession } from './client-session.js';

export class SessionRegistry {
  readonly #byKey = new Map<string, ClientSession>();

  /** Registers `session`, closing any session the same identity had. */
  takeOver(session: ClientSession): void {
    const previous = this.#byKey.get(session.principal.key);
    this.#byKey.set(session.principal.key, session);
    if (previous && previous !== session) {
      previous.connection.disconnect(
        REASON.sessionTakenOver,
        `session of ${session.principal.key} taken over`,
      );
    }
  }

  /** Forgets `session` if it is still the current one for its identity. */
  release(session: ClientSession): void {
    if (this.#byKey.get(session.principal.key) === session) this.#byKey.delete(session.principal.key);
  }

  get(key: string): ClientSession | undefined {
    return this.#byKey.get(key);
  }

  all(): IterableIterator<ClientSession> {
    return this.#byKey.values();
  }
}
