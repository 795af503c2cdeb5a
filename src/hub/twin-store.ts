/** Twins persisted in the store's key-value map, updated with compare-and-set. */
import { isTandemError } from '../errors.js';
import type { KeyValue } from '../store/types.js';
import {
  applySectionPatch,
  emptyTwin,
  type JsonObject,
  sectionVersion,
  type TwinDocument,
  validatePatch,
} from './twin-document.js';

const CAS_RETRIES = 16;

export class TwinStore {
  readonly #kv: KeyValue;

  constructor(kv: KeyValue) {
    this.#kv = kv;
  }

  async get(identity: string): Promise<TwinDocument> {
    const entry = await this.#kv.get(twinKey(identity));
    return entry ? (JSON.parse(Buffer.from(entry.value).toString('utf8')) as TwinDocument) : emptyTwin();
  }

  /** Merges a reported-properties patch; resolves with the new reported version. */
  async patchReported(identity: string, patch: unknown): Promise<number> {
    const valid = validatePatch(patch, 'reported');
    const twin = await this.#update(identity, (t) => ({
      ...t,
      reported: applySectionPatch(t.reported, valid, 'reported'),
    }));
    return sectionVersion(twin.reported);
  }

  /** Merges a desired-properties patch; resolves with the version and the patch to notify. */
  async patchDesired(
    identity: string,
    patch: unknown,
  ): Promise<{ version: number; notification: JsonObject }> {
    const valid = validatePatch(patch, 'desired');
    const twin = await this.#update(identity, (t) => ({
      ...t,
      desired: applySectionPatch(t.desired, valid, 'desired'),
    }));
    const version = sectionVersion(twin.desired);
    const notification: JsonObject = { ...valid, $version: version };
    return { version, notification };
  }

  async remove(identity: string): Promise<void> {
    await this.#kv.delete(twinKey(identity));
  }

  async #update(identity: string, change: (t: TwinDocument) => TwinDocument): Promise<TwinDocument> {
    const key = twinKey(identity);
    for (let attempt = 0; ; attempt++) {
      const entry = await this.#kv.get(key);
      const current = entry
        ? (JSON.parse(Buffer.from(entry.value).toString('utf8')) as TwinDocument)
        : emptyTwin();
      const next = change(current);
      try {
        await this.#kv.put(key, Buffer.from(JSON.stringify(next)), {
          expectedRevision: entry?.revision ?? 0,
        });
        return next;
      } catch (err) {
        // Another writer (a second hub process, the API) got there first: re-read and retry.
        if (!isTandemError(err, 'TANDEM_E_STORE_CONFLICT') || attempt >= CAS_RETRIES) throw err;
      }
    }
  }
}

function twinKey(identity: string): string {
  return `twin/${identity}`;
}
