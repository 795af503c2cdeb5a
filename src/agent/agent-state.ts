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

const DEPLOYMENT_KEY = 'agent/deployment';
const INSTANCE_PREFIX = 'agent/module/';

const encode = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));
const decode = <T>(bytes: Uint8Array): T => JSON.parse(Buffer.from(bytes).toString('utf8')) as T;

export class AgentState {
  readonly #kv: KeyValue;

  constructor(kv: KeyValue) {
    this.#kv = kv;
  }

  async deployment(): Promise<DeploymentRecord | undefined> {
    const e = await this.#kv.get(DEPLOYMENT_KEY);
    return e ? decode<DeploymentRecord>(e.value) : undefined;
  }

  async saveDeployment(record: DeploymentRecord): Promise<void> {
    await this.#kv.put(DEPLOYMENT_KEY, encode(record));
  }

  async modules(): Promise<Map<string, ModuleRecord>> {
    const out = new Map<string, ModuleRecord>();
    for (const e of await this.#kv.list(INSTANCE_PREFIX)) {
      out.set(e.key.slice(INSTANCE_PREFIX.length), decode<ModuleRecord>(e.value));
    }
    return out;
  }

  async saveModule(name: string, record: ModuleRecord): Promise<void> {
    await this.#kv.put(INSTANCE_PREFIX + name, encode(record));
  }

  async removeModule(name: string): Promise<void> {
    await this.#kv.delete(INSTANCE_PREFIX + name);
  }
}

export function newGenerationId(): string {
  // iotedged uses an opaque string; a UUID without dashes fits in URL paths as is.
  return randomUUID().replaceAll('-', '');
}
