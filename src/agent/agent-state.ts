/**
 * What the agent must remember across its own crash, kept in the store's key-value map:
 * the deployment last accepted, and per module what it was started with and which process
 * (or container) runs it, so a restarted agent adopts instead of starting a second copy.
 */
import { randomUUID } from 'node:crypto';
import type { ModuleSpec } from '../core/manifest/deployment.js';
import type { KeyValue } from '../store/types.js';
import type { InstanceRecord } from './supervisor-types.js';

export interface DeploymentRecord {
  readonly manifest: unknown;
  readonly baseDir: string;
  readonly appliedAt: string;
  readonly hash: string;
}

export interface ModuleRecord {
  readonly spec: ModuleSpec;
  readonly baseDir: string;
  /** IoT Edge's module generation id: changes when the module's identity is recreated. */
  readonly generationId: string;
  /** The runner's adoption record (pid and start time, or container id); absent when not running. */
  readonly instance?: InstanceRecord;
}

const encode = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));
const decode = <T>(bytes: Uint8Array): T => JSON.parse(Buffer.from(bytes).toString('utf8')) as T;

export class AgentState {
  readonly #kv: KeyValue;
  readonly #deploymentKey: string;
  readonly #instancePrefix: string;

  /** `prefix` keeps each cluster node's records apart in the shared store (`agent/<node>/`). */
  constructor(kv: KeyValue, prefix = 'agent/') {
    this.#kv = kv;
    this.#deploymentKey = `${prefix}deployment`;
    this.#instancePrefix = `${prefix}module/`;
  }

  async deployment(): Promise<DeploymentRecord | undefined> {
    const e = await this.#kv.get(this.#deploymentKey);
    return e ? decode<DeploymentRecord>(e.value) : undefined;
  }

  async saveDeployment(record: DeploymentRecord): Promise<void> {
    await this.#kv.put(this.#deploymentKey, encode(record));
  }

  async modules(): Promise<Map<string, ModuleRecord>> {
    const out = new Map<string, ModuleRecord>();
    for (const e of await this.#kv.list(this.#instancePrefix)) {
      out.set(e.key.slice(this.#instancePrefix.length), decode<ModuleRecord>(e.value));
    }
    return out;
  }

  async saveModule(name: string, record: ModuleRecord): Promise<void> {
    await this.#kv.put(this.#instancePrefix + name, encode(record));
  }

  async removeModule(name: string): Promise<void> {
    await this.#kv.delete(this.#instancePrefix + name);
  }
}

export function newGenerationId(): string {
  // iotedged uses an opaque string; a UUID without dashes fits in URL paths as is.
  return randomUUID().replaceAll('-', '');
}
