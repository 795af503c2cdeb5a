/**
 * This hub replica's membership in the cluster: its heartbeat in the shared key-value store,
 * and its view of which other replicas are alive (the rules are in core/cluster/liveness.ts).
 *
 * Events: 'fenced' / 'unfenced' when this replica's own heartbeats stop or resume
 * succeeding; 'dead' (replica) when another replica's heartbeat is overdue and a fresh read
 * confirms no newer one; 'left' (replica) when one shut down cleanly.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { LivenessView, type MemberHeartbeat, SelfFence } from '../core/cluster/liveness.js';
import { TandemError } from '../errors.js';
import { limits } from '../limits.js';
import type { KvChange, WatchableKeyValue } from '../store/types.js';
import { type Clock, systemClock } from '../util/clock.js';
import { decodeJson, encodeJson, memberKey, memberPrefix } from './keys.js';

export interface MembershipOptions {
  readonly kv: WatchableKeyValue;
  readonly replica: string;
  readonly clock?: Clock;
  readonly heartbeatMs?: number;
  readonly memberTtlMs?: number;
  readonly selfFenceMs?: number;
  /** What other replicas may want to know (e.g. this replica's MQTT address). */
  readonly info?: Record<string, unknown>;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

interface MemberValue extends MemberHeartbeat {
  readonly startedAtMs: number;
  readonly info: Record<string, unknown>;
}

export class Membership extends EventEmitter {
  readonly me: MemberHeartbeat;
  readonly #o: MembershipOptions;
  readonly #clock: Clock;
  readonly #view: LivenessView;
  readonly #fence: SelfFence;
  readonly #heartbeatMs: number;
  readonly #ttlMs: number;
  readonly #startedAtMs: number;
  /** Overdue replicas being confirmed by a fresh read. */
  readonly #checking = new Set<string>();
  /** Replicas confirmed dead, with the revision of their last heartbeat then; their leases may be taken. */
  readonly #dead = new Map<string, number>();
  #wasFenced = true;
  #timer: NodeJS.Timeout | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #watch: { stop(): void } | undefined;
  #closed = false;

  constructor(options: MembershipOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#heartbeatMs = options.heartbeatMs ?? limits.clusterHeartbeatIntervalMs;
    this.#ttlMs = options.memberTtlMs ?? limits.clusterMemberTtlMs;
    this.#view = new LivenessView(this.#ttlMs);
    this.#fence = new SelfFence(options.selfFenceMs ?? limits.clusterSelfFenceMs);
    this.me = { replica: options.replica, incarnation: randomUUID() };
    this.#startedAtMs = this.#clock.nowMs();
  }

  /** Joins: refuses a replica id another live process uses, then heartbeats and watches. */
  async start(): Promise<void> {
    await this.#refuseDuplicate();
    await this.#beat();
    this.#watch = await this.#o.kv.watch(memberPrefix, (c) => this.#onChange(c));
    this.#check();
    this.#schedule();
    this.#checkTimer = setInterval(() => this.#check(), Math.max(10, Math.floor(this.#heartbeatMs / 2)));
  }

  get fenced(): boolean {
    return this.#fence.fenced(this.#clock.nowMs());
  }

  /**
   * Whether a lease holder may still be delivering. Only a *confirmed* death (or a member key
   * that is gone, or now belongs to a newer process) frees its leases: an overdue heartbeat
   * alone may be a lagging watch.
   */
  isAlive(replica: string, incarnation: string): boolean {
    if (replica === this.me.replica && incarnation === this.me.incarnation) return !this.fenced;
    const current = this.#view.incarnationOf(replica);
    return current === incarnation && !this.#dead.has(replica);
  }

  /**
   * Asked right before taking a lease from `replica`: is it still dead? A fresh read of its
   * member key decides, because a death confirmed earlier may be stale when this replica's
   * watch stopped bringing news (its server died): a newer heartbeat of the same process
   * means it lives, and its lease must not be taken.
   */
  async stillDead(replica: string, incarnation: string): Promise<boolean> {
    const entry = await this.#o.kv.get(memberKey(replica));
    // A missing key proves nothing here: a replica that leaves cleanly releases its leases
    // first (they read as released, never as held), and a read that finds nothing may come
    // from a store still electing its leader. Only a newer process or an old heartbeat proves it.
    if (!entry) return false;
    const value = decodeJson<MemberValue>(entry.value);
    if (!value || value.incarnation !== incarnation) return true; // replaced by a newer process
    const confirmedAt = this.#dead.get(replica);
    if (confirmedAt !== undefined && entry.revision <= confirmedAt) return true;
    this.#view.observe(value, entry.revision, this.#clock.nowMs());
    if (this.#dead.delete(replica)) this.#o.log?.('info', `replica ${replica} is back`);
    return false;
  }

  /** Replicas seen alive now (this one included while not fenced). */
  alive(): string[] {
    return this.#view.alive(this.#clock.nowMs()).sort();
  }

  /** Leaves cleanly: deletes the member key so others take over at once instead of after the TTL. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#checkTimer);
    this.#watch?.stop();
    try {
      await this.#o.kv.delete(memberKey(this.me.replica));
    } catch (err) {
      this.#o.log?.('warn', `leaving the cluster: ${(err as Error).message}`);
    }
  }

  /** Another live process with this replica id would make leases ambiguous: wait one TTL and see. */
  async #refuseDuplicate(): Promise<void> {
    const first = await this.#o.kv.get(memberKey(this.me.replica));
    if (!first) return;
    await new Promise((resolve) => setTimeout(resolve, this.#ttlMs));
    const again = await this.#o.kv.get(memberKey(this.me.replica));
    if (again && again.revision !== first.revision) {
      throw new TandemError(
        'TANDEM_E_CLUSTER',
        `replica id ${this.me.replica} is in use by a running hub (its heartbeat keeps changing)`,
      );
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.#beat().finally(() => this.#schedule());
    }, this.#heartbeatMs);
  }

  async #beat(): Promise<void> {
    const sentAtMs = this.#clock.nowMs();
    const value: MemberValue = { ...this.me, startedAtMs: this.#startedAtMs, info: this.#o.info ?? {} };
    try {
      const revision = await this.#o.kv.put(memberKey(this.me.replica), encodeJson(value));
      this.#fence.succeeded(sentAtMs);
      this.#view.observe(this.me, revision, this.#clock.nowMs());
    } catch (err) {
      if (!this.#wasFenced) this.#o.log?.('warn', `heartbeat failed: ${(err as Error).message}`);
    }
    this.#check();
  }

  #onChange(change: KvChange): void {
    const replica = change.key.slice(memberPrefix.length);
    if (change.value === undefined) {
      this.#view.removed(replica);
      this.#dead.delete(replica);
      if (replica !== this.me.replica) this.emit('left', replica);
      return;
    }
    const value = decodeJson<MemberValue>(change.value);
    if (!value) return;
    this.#view.observe(value, change.revision, this.#clock.nowMs());
    if (this.#dead.delete(replica)) this.#o.log?.('info', `replica ${replica} is back`);
  }

  #check(): void {
    if (this.#closed) return;
    const fenced = this.fenced;
    if (fenced !== this.#wasFenced) {
      this.#wasFenced = fenced;
      this.#o.log?.(
        fenced ? 'warn' : 'info',
        fenced ? 'fenced: heartbeats failing, not delivering' : 'heartbeats ok',
      );
      this.emit(fenced ? 'fenced' : 'unfenced');
    }
    for (const replica of this.#view.overdue(this.#clock.nowMs())) {
      if (replica === this.me.replica || this.#dead.has(replica) || this.#checking.has(replica)) continue;
      this.#checking.add(replica);
      void this.#confirmDead(replica).finally(() => this.#checking.delete(replica));
    }
  }

  /** A watch can lag; a fresh read decides whether the overdue replica really stopped writing. */
  async #confirmDead(replica: string): Promise<void> {
    try {
      const entry = await this.#o.kv.get(memberKey(replica));
      const seen = this.#view.revisionOf(replica);
      if (entry && seen !== undefined && entry.revision > seen) {
        const value = decodeJson<MemberValue>(entry.value);
        if (value) this.#view.observe(value, entry.revision, this.#clock.nowMs());
        return;
      }
      this.#dead.set(replica, entry?.revision ?? 0);
      this.#o.log?.('info', `replica ${replica} is dead (no heartbeat for ${this.#ttlMs} ms)`);
      this.emit('dead', replica);
    } catch {
      // Cannot read: this replica is probably cut off itself; the next check tries again.
    }
  }
}
