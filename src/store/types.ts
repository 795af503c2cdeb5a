/**
 * The store contract: a durable log of streams, per-consumer checkpoints and a key-value
 * map. Two backends implement it (embedded LMDB now, NATS JetStream next) and one contract
 * suite (test/store/contract.ts) runs against each.
 */

export interface AppendItem {
  /** Stream name, e.g. an endpoint key such as `ep/module/filter/input1`. */
  readonly stream: string;
  readonly data: Uint8Array;
  /** Absolute expiry (epoch ms); readers skip and count records past it. 0 = never. */
  readonly expiresAtMs: number;
}

export interface LogRecord {
  readonly stream: string;
  /** Position in the log: strictly increasing across the whole log, not contiguous per stream. */
  readonly seq: number;
  readonly data: Uint8Array;
  readonly expiresAtMs: number;
}

export interface MessageLog {
  /**
   * Appends every item as one atomic unit and resolves with their sequence numbers, in
   * item order, only once the records are durable (fsynced / quorum-committed). Calls made
   * close together share one commit (group commit). On a full store or disk it rejects
   * with TANDEM_E_STORE_FULL and stores none of the items; nothing stored before is lost.
   */
  append(items: readonly AppendItem[]): Promise<number[]>;
  /** Records of `stream` with seq > afterSeq, ascending, at most `max`. */
  read(stream: string, afterSeq: number, max: number): Promise<LogRecord[]>;
  /** Drops records of `stream` with seq <= uptoSeq (delivered or expired). Idempotent. */
  trim(stream: string, uptoSeq: number): Promise<void>;
  /** Number of records of `stream` with seq > afterSeq. */
  count(stream: string, afterSeq: number): Promise<number>;
  /** Names of streams that hold at least one record. */
  streams(): Promise<string[]>;
  /**
   * Shared backends only (JetStream): calls `listener` with the streams of every batch of
   * records that becomes readable here, whoever appended it (another hub replica or this
   * one), in log order, after `read` can return them. Returns the unsubscribe function.
   * The embedded store has one writer of messages (its hub) and does not implement it.
   */
  watch?(listener: (streams: readonly string[]) => void): () => void;
}

export interface Checkpoints {
  /** Last processed seq of a consumer; 0 when it never checkpointed. */
  get(consumer: string): Promise<number>;
  /** Durably records progress; a lower seq than the current one is ignored (monotonic). */
  set(consumer: string, seq: number): Promise<void>;
  /** Every consumer with its checkpoint. */
  list(): Promise<Map<string, number>>;
}

export interface KvEntry {
  readonly key: string;
  readonly value: Uint8Array;
  /** Increases on every write of this key; used for compare-and-set and fencing. */
  readonly revision: number;
}

export interface PutOptions {
  /** Write only if the key's current revision equals this; 0 = only if absent. */
  readonly expectedRevision?: number;
}

export interface KeyValue {
  get(key: string): Promise<KvEntry | undefined>;
  /** Durable on resolve; returns the new revision; TANDEM_E_STORE_CONFLICT on a lost CAS. */
  put(key: string, value: Uint8Array, options?: PutOptions): Promise<number>;
  /** Removes a key; with expectedRevision, only if unchanged. Resolves true if it existed. */
  delete(key: string, options?: PutOptions): Promise<boolean>;
  /** Entries whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<KvEntry[]>;
}

/** A change of one key: `value` undefined means deleted (or purged). */
export interface KvChange {
  readonly key: string;
  readonly revision: number;
  readonly value: Uint8Array | undefined;
}

/** A KeyValue shared by several processes, which can follow what the others write (leases, sessions). */
export interface WatchableKeyValue extends KeyValue {
  /**
   * Calls `onChange` first with every current entry under `prefix` (in any order), then with
   * every later change under it in revision order, as long as the watch lives. Resolves once
   * the current entries were delivered. A watch survives reconnects of the backend; if it
   * cannot resume, `onChange` is called with every current entry again.
   */
  watch(prefix: string, onChange: (change: KvChange) => void): Promise<{ stop(): void }>;
}

export interface Store {
  readonly log: MessageLog;
  readonly checkpoints: Checkpoints;
  readonly kv: KeyValue;
  close(): Promise<void>;
}
