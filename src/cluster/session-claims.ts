/**
 * One live session per identity across the cluster (the hub's SessionDirectory): a replica
 * that accepts a CONNECT writes `{replica, session}` under the identity's claim key before
 * its CONNACK; every replica follows the claims and closes its own session of an identity
 * claimed by another session (Hub.sessionClaimed). The key's revision orders concurrent
 * CONNECTs: the later write wins everywhere, as on one IoT Hub.
 */
import type { SessionDirectory } from '../hub/session-directory.js';
import type { KvChange, WatchableKeyValue } from '../store/types.js';
import { claimKey, claimPrefix, decodeJson, encodeJson } from './keys.js';

interface ClaimValue {
  readonly replica: string;
  readonly session: string;
}

export class SessionClaims implements SessionDirectory {
  readonly #kv: WatchableKeyValue;
  readonly #replica: string;
  #watch: { stop(): void } | undefined;

  constructor(kv: WatchableKeyValue, replica: string) {
    this.#kv = kv;
    this.#replica = replica;
  }

  /** Follows claims from now on; `claimed` runs for each (the hub closes a superseded local session). */
  async start(claimed: (identity: string, sessionId: string) => void): Promise<void> {
    this.#watch = await this.#kv.watch(claimPrefix, (c: KvChange) => {
      if (!c.value) return;
      const value = decodeJson<ClaimValue>(c.value);
      if (value) claimed(c.key.slice(claimPrefix.length), value.session);
    });
  }

  async claim(identity: string, sessionId: string): Promise<void> {
    await this.#kv.put(
      claimKey(identity),
      encodeJson({ replica: this.#replica, session: sessionId } satisfies ClaimValue),
    );
  }

  stop(): void {
    this.#watch?.stop();
  }
}
