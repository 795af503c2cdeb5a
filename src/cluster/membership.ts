/**
 * This hub replica's membership in the cluster: its heartbeat in the shared key-value store,
 * and its view of which other replicas are alive (the rules are in core/cluster/liveness.ts).
 *
 * A heartbeat counts only once this replica's own watch of the cluster keys has delivered it:
 * the watch is one ordered consumer over every `cluster/` key, so by then every lease write
 * that came before the heartbeat in the store's order has been seen too (and handed to the
 * 'change' listeners, synchronously, in that order). Endpoint leases rest on this: a replica
 * delivers only on a view of the leases that a confirmed heartbeat vouches for, and only
 * until `selfFenceMs` after that heartbeat was sent (endpoint-leases.ts).
 *
 * Events: 'fenced' / 'unfenced' when this replica's own heartbeats stop or resume being
 * confirmed; 'dead' (replica) when another replica's heartbeat is overdue and a fresh read
 * confirms no newer one; 'left' (replica) when one shut down cleanly; 'change' (KvChange)
 * for every other `cluster/` key, in store order.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { LivenessView, type MemberHeartbeat, SelfFence } from '../core/cluster/liveness.js';
import { TandemError } from '../errors.js';
import { limits } from '../limits.js';
import type { KvChange, WatchableKeyValue } from '../store/types.js';
import { type Clock, systemClock } from '../util/clock.js';
import { clusterPrefix, decodeJson, encodeJson, memberKey, memberPrefix } from './keys.js';

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
  /** What each member published about itself (its `info`), as last seen. */
  readonly #infos = new Map<string, Record<string, unknown>>();
  /** Replicas confirmed dead, with the revision of their last heartbeat then; their leases may be taken. */
  readonly #dead = new Map<string, number>();
  #wasFenced = true;
  #timer: NodeJS.Timeout | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #fenceTimer: NodeJS.Timeout | undefined;
  #watch: { stop(): void } | undefined;
  /** Own heartbeats acknowledged by the store and not yet seen in the watch: revision -> sent at. */
  readonly #unconfirmed = new Map<number, number>();
  /** The newest revision of this process's own member key the watch delivered. */
  #seenOwnRevision = 0;
  #watchStartedAtMs = 0;
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

  /**
   * Joins: refuses a replica id another live process uses, then heartbeats and watches.
   * 'change' listeners must be attached before: the watch's first entries go to them.
   */
  async start(): Promise<void> {
    await this.#refuseDuplicate();
    await this.#beat();
    await this.#startWatch();
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

  /**
   * Every member this replica has heard of, with what it published and how long since its
   * last heartbeat was seen here (the node scheduler's input; cluster/node-conditions.ts).
   */
  members(): { replica: string; info: Record<string, unknown>; silentMs: number }[] {
    const now = this.#clock.nowMs();
    return [...this.#infos.entries()].flatMap(([replica, info]) => {
      const silentMs = this.#view.silentMs(replica, now);
      return silentMs === undefined ? [] : [{ replica, info, silentMs }];
    });
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
    clearTimeout(this.#fenceTimer);
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

  async #startWatch(): Promise<void> {
    this.#watchStartedAtMs = this.#clock.nowMs();
    const watch = await this.#o.kv.watch(clusterPrefix, (c) => this.#onChange(c));
    if (this.#closed) watch.stop();
    else this.#watch = watch;
  }

  /**
   * A watch that stopped bringing news (its consumer stuck on a server that died) would keep
   * this replica fenced: heartbeats acknowledged but not seen for a TTL start it over.
   */
  #restartStalledWatch(nowMs: number): void {
    if (this.#closed || this.#watchStartedAtMs === 0) return;
    const oldest = Math.min(...this.#unconfirmed.values());
    if (nowMs - oldest < this.#ttlMs || nowMs - this.#watchStartedAtMs < this.#ttlMs) return;
    this.#o.log?.(
      'warn',
      'the cluster watch stopped bringing this replica its own heartbeats; starting it again',
    );
    this.#watch?.stop();
    this.#watch = undefined;
    this.#watchStartedAtMs = 0; // none while it restarts; a failed start is tried again a TTL later
    this.#startWatch().catch((err: unknown) => {
      this.#o.log?.('warn', `restarting the cluster watch failed: ${(err as Error).message}`);
      this.#watchStartedAtMs = this.#clock.nowMs();
    });
  }

  async #beat(): Promise<void> {
    const sentAtMs = this.#clock.nowMs();
    const value: MemberValue = { ...this.me, startedAtMs: this.#startedAtMs, info: this.#o.info ?? {} };
    try {
      const revision = await this.#o.kv.put(memberKey(this.me.replica), encodeJson(value));
      // The watch may have delivered it before the acknowledgement came back.
      if (revision <= this.#seenOwnRevision) this.#confirmed(sentAtMs);
      else {
        this.#unconfirmed.set(revision, sentAtMs);
        // While the watch is down these pile up; the newest ones are all a confirmation needs.
        if (this.#unconfirmed.size > limits.clusterHeartbeatsUnconfirmedCountMax) {
          this.#unconfirmed.delete(this.#unconfirmed.keys().next().value as number);
        }
      }
    } catch (err) {
      if (!this.#wasFenced) this.#o.log?.('warn', `heartbeat failed: ${(err as Error).message}`);
    }
    this.#check();
  }

  /** An own heartbeat, sent at `sentAtMs`, is in the store and in this replica's view. */
  #confirmed(sentAtMs: number): void {
    this.#fence.succeeded(sentAtMs);
    // Exactly at the deadline, not at the next periodic check: no delivery past it.
    clearTimeout(this.#fenceTimer);
    const deadline = this.#fence.deadlineMs();
    if (deadline !== undefined) {
      // +1: a timer may fire within the millisecond the clock still reads below the deadline.
      this.#fenceTimer = setTimeout(() => this.#check(), Math.max(0, deadline - this.#clock.nowMs()) + 1);
    }
    this.#check();
  }

  #onOwnHeartbeat(revision: number): void {
    if (revision > this.#seenOwnRevision) this.#seenOwnRevision = revision;
    let sentAtMs: number | undefined;
    for (const [rev, sent] of this.#unconfirmed) {
      if (rev > revision) continue;
      sentAtMs = Math.max(sentAtMs ?? sent, sent);
      this.#unconfirmed.delete(rev);
    }
    if (sentAtMs !== undefined) this.#confirmed(sentAtMs);
  }

  #onChange(change: KvChange): void {
    if (!change.key.startsWith(memberPrefix)) {
      this.emit('change', change);
      return;
    }
    const replica = change.key.slice(memberPrefix.length);
    if (change.value === undefined) {
      this.#view.removed(replica);
      this.#infos.delete(replica);
      this.#dead.delete(replica);
      if (replica !== this.me.replica) this.emit('left', replica);
      return;
    }
    const value = decodeJson<MemberValue>(change.value);
    if (!value) return;
    this.#view.observe(value, change.revision, this.#clock.nowMs());
    this.#infos.set(replica, value.info ?? {});
    if (this.#dead.delete(replica)) this.#o.log?.('info', `replica ${replica} is back`);
    if (value.replica === this.me.replica && value.incarnation === this.me.incarnation) {
      this.#onOwnHeartbeat(change.revision);
    }
  }

  #check(): void {
    if (this.#closed) return;
    if (this.#unconfirmed.size > 0) this.#restartStalledWatch(this.#clock.nowMs());
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
