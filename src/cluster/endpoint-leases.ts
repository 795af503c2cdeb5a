/**
 * Endpoint leases: exactly one hub replica delivers an endpoint at a time (the hub's
 * EndpointOwnership, ownership.ts), through one key per endpoint in the shared key-value
 * store naming its holder {replica, incarnation, checkpoint}.
 *
 * - A replica wants an endpoint while a consumer of it is connected there (a module's
 *   session, the upstream connector, a device's cloud-to-device subscription).
 * - It takes the lease by writing the key (a compare-and-set on the revision it read) when
 *   the key is absent, released, or held by a replica confirmed dead (membership.ts).
 *
 * Exclusivity does not rest on that compare-and-set: on nats-server 2.9 two replicas were
 * seen to win one during a JetStream leader change. It rests on the order of the store and
 * on time, in two rules:
 *   1. A replica delivers only while its last *confirmed* heartbeat (one its own watch of the
 *      cluster keys has delivered, so every earlier lease write has been seen) is younger
 *      than selfFenceMs, counted from when it was sent, and the lease names it.
 *   2. A replica that took a lease starts delivering only clusterLeaseGrantWaitMs (more than
 *      selfFenceMs) after the take was acknowledged, if the lease still names it then.
 * Whoever held the lease before a take T vouched for it last with a heartbeat that came
 * before T in the store's order, so it was sent before T was acknowledged, and it stopped
 * selfFenceMs after that send at the latest: before the taker starts. Two takers racing
 * are the same case (the later write is the take; the earlier taker is the old holder).
 * The compare-and-set only keeps such races rare. A replica whose lease still names it after
 * a fence takes it again the same way (its view may not show a take made while it was cut
 * off), so it resumes a grant wait after the fence lifts.
 *
 * Progress of a held endpoint goes to a key of its own (`cluster/checkpoint/<stream>`):
 * every value written there is a true "all up to here was acknowledged", whoever wrote it,
 * so plain writes do; a taker starts after the highest of it and the lease's handed-over
 * checkpoint. Giving an endpoint up writes the final checkpoint into the lease with no
 * holder, so the next replica takes it without waiting for a heartbeat timeout.
 */
import { EventEmitter } from 'node:events';
import { decideLease, type LeaseValue } from '../core/cluster/liveness.js';
import { isTandemError, TandemError } from '../errors.js';
import type { EndpointOwnership, OwnershipHandlers } from '../hub/ownership.js';
import { limits } from '../limits.js';
import type { KvChange, WatchableKeyValue } from '../store/types.js';
import { type Clock, systemClock } from '../util/clock.js';
import { checkpointKey, checkpointPrefix, decodeJson, encodeJson, leaseKey, leasePrefix } from './keys.js';
import type { Membership } from './membership.js';

export interface EndpointLeasesOptions {
  readonly kv: WatchableKeyValue;
  readonly membership: Membership;
  readonly clock?: Clock;
  /** How often endpoints wanted but not held are tried again (besides events). */
  readonly retryMs?: number;
  /** Rule 2's wait; more than the membership's selfFenceMs. */
  readonly grantWaitMs?: number;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

/** 'acquired' / 'released' / 'lost': {stream, atMs}, so tests can check no two replicas overlap. */
export interface LeaseEvent {
  readonly stream: string;
  readonly atMs: number;
  /** Why, for people reading the log: from whom it was taken, why it was lost. */
  readonly detail: string;
}

interface Held {
  /** Revision of the lease key this replica wrote (its take). */
  readonly revision: number;
  checkpoint: number;
}

interface StreamState {
  handlers: OwnershipHandlers | undefined;
  held: Held | undefined;
  /** A take written and waiting out rule 2. */
  pending: (Held & { timer: NodeJS.Timeout }) | undefined;
  /** The lease as this replica's watch saw it last, with its revision. */
  seen: { value: LeaseValue | undefined; revision: number } | undefined;
  /** The highest checkpoint seen in the endpoint's checkpoint key. */
  seenCheckpoint: number;
  /** Rule 2 for a take whose wait was cut short (a fence): no grant before this. */
  notBeforeMs: number;
  /** Operations on one lease run one after another. */
  queue: Promise<void>;
  acquiring: boolean;
}

interface CheckpointValue {
  readonly replica: string;
  readonly checkpoint: number;
}

const lost = (stream: string): TandemError =>
  new TandemError('TANDEM_E_LEASE_LOST', `this replica no longer holds the lease of ${stream}`);

export class EndpointLeases extends EventEmitter implements EndpointOwnership {
  readonly onDemand = true;
  readonly #o: EndpointLeasesOptions;
  readonly #clock: Clock;
  readonly #grantWaitMs: number;
  readonly #streams = new Map<string, StreamState>();
  #retryTimer: NodeJS.Timeout | undefined;

  /** Listens to the membership's watch at once: construct before `membership.start()`. */
  constructor(options: EndpointLeasesOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#grantWaitMs = options.grantWaitMs ?? limits.clusterLeaseGrantWaitMs;
    const m = options.membership;
    m.on('change', (c: KvChange) => this.#onChange(c));
    m.on('fenced', () => this.#loseAll('this replica fenced itself'));
    for (const ev of ['unfenced', 'dead', 'left']) m.on(ev, () => this.#retryWanted());
  }

  start(): void {
    const retryMs = this.#o.retryMs ?? limits.clusterHeartbeatIntervalMs;
    this.#retryTimer = setInterval(() => this.#retryWanted(), retryMs);
  }

  stop(): void {
    clearInterval(this.#retryTimer);
    for (const s of this.#streams.values()) clearTimeout(s.pending?.timer);
  }

  /** Streams this replica delivers now. */
  held(): string[] {
    return [...this.#streams.entries()].filter(([, s]) => s.held).map(([k]) => k);
  }

  /**
   * The revision of this replica's take of a held lease: it grows with every take, so it
   * fences what a holder writes (a reader ignores writes stamped with an older take).
   */
  revisionOf(stream: string): number | undefined {
    return this.#streams.get(stream)?.held?.revision;
  }

  /** Rule 1, at this instant: held, and the last confirmed heartbeat is recent enough. */
  permits(stream: string): boolean {
    return this.#streams.get(stream)?.held !== undefined && !this.#o.membership.fenced;
  }

  want(stream: string, handlers: OwnershipHandlers): void {
    const s = this.#state(stream);
    s.handlers = handlers;
    this.#tryAcquire(stream, s);
  }

  unwant(stream: string, checkpoint: number | undefined): Promise<void> {
    const s = this.#state(stream);
    s.handlers = undefined;
    return this.#enqueue(s, () => this.#release(stream, s, checkpoint));
  }

  async save(stream: string, checkpoint: number): Promise<void> {
    const s = this.#state(stream);
    const held = s.held;
    if (!held || this.#o.membership.fenced) throw lost(stream);
    const value: CheckpointValue = { replica: this.#o.membership.me.replica, checkpoint };
    await this.#o.kv.put(checkpointKey(stream), encodeJson(value));
    if (s.held !== held) throw lost(stream);
    held.checkpoint = Math.max(held.checkpoint, checkpoint);
  }

  async knownCheckpoint(stream: string): Promise<number> {
    const s = this.#streams.get(stream);
    if (s?.held) return s.held.checkpoint;
    if (s?.seen) return Math.max(s.seen.value?.checkpoint ?? 0, s.seenCheckpoint);
    return this.#readCheckpoint(stream, undefined);
  }

  /** The highest checkpoint the store holds for `stream`: its checkpoint key's and the lease's. */
  async #readCheckpoint(stream: string, lease: LeaseValue | undefined): Promise<number> {
    const entry = await this.#o.kv.get(checkpointKey(stream));
    const saved = (entry && decodeJson<CheckpointValue>(entry.value)?.checkpoint) || 0;
    const s = this.#streams.get(stream);
    return Math.max(saved, s?.seenCheckpoint ?? 0, lease?.checkpoint ?? 0);
  }

  #state(stream: string): StreamState {
    let s = this.#streams.get(stream);
    if (!s) {
      s = {
        handlers: undefined,
        held: undefined,
        pending: undefined,
        seen: undefined,
        seenCheckpoint: 0,
        notBeforeMs: 0,
        queue: Promise.resolve(),
        acquiring: false,
      };
      this.#streams.set(stream, s);
    }
    return s;
  }

  #enqueue(s: StreamState, op: () => Promise<void>): Promise<void> {
    s.queue = s.queue.then(op).catch((err) => {
      this.#o.log?.('warn', `endpoint lease: ${(err as Error).message}`);
    });
    return s.queue;
  }

  #tryAcquire(stream: string, s: StreamState): void {
    if (s.acquiring || s.held || s.pending || !s.handlers) return;
    s.acquiring = true;
    void this.#enqueue(s, () => this.#acquire(stream, s)).finally(() => {
      s.acquiring = false;
    });
  }

  #retryWanted(): void {
    for (const [stream, s] of this.#streams) if (s.handlers && !s.held) this.#tryAcquire(stream, s);
  }

  #isMine(value: LeaseValue | undefined): boolean {
    const me = this.#o.membership.me;
    return value?.replica === me.replica && value.incarnation === me.incarnation;
  }

  async #acquire(stream: string, s: StreamState): Promise<void> {
    if (!s.handlers || s.held || s.pending || this.#o.membership.fenced) return;
    if (s.seen && this.#isMine(s.seen.value)) {
      await this.#retake(stream, s, s.seen);
      return;
    }
    const entry = await this.#o.kv.get(leaseKey(stream));
    const current = entry ? decodeJson<LeaseValue>(entry.value) : undefined;
    const decision = decideLease(current, this.#o.membership.me, (r, i) => this.#o.membership.isAlive(r, i));
    // 'mine' in the store but not (yet) in this replica's view: wait for the view.
    if (decision.kind === 'wait' || decision.kind === 'mine') return;
    // Taking it from a holder believed dead: check that belief against the store itself.
    if (decision.kind === 'take' && current?.replica && current.incarnation) {
      if (!(await this.#o.membership.stillDead(current.replica, current.incarnation))) return;
    }
    const handedOver = decision.kind === 'create' ? 0 : decision.checkpoint;
    const revision = await this.#write(stream, handedOver, entry?.revision ?? 0);
    if (revision === undefined) return; // someone else moved first: wait
    const from = current?.replica ? ` from ${current.replica}` : '';
    const detail = `${decision.kind}${from}, revision ${entry?.revision ?? 0} -> ${revision}`;
    this.#waitThenGrant(stream, s, { revision, checkpoint: handedOver }, detail);
  }

  /**
   * Still ours in this replica's view after a fence lifted: taken again like any take (a
   * compare-and-set on the revision seen, then rule 2's wait), not resumed at once. The view
   * can lag behind a take by another replica: seen on nats-server 2.9.10 after a cut healed,
   * the replica's watch brought its own new heartbeat (lifting the fence) before the take
   * that happened while it was cut off, and two replicas delivered one endpoint.
   */
  async #retake(
    stream: string,
    s: StreamState,
    seen: { value: LeaseValue | undefined; revision: number },
  ): Promise<void> {
    if (this.#clock.nowMs() < s.notBeforeMs) return; // the retry timer comes back
    const checkpoint = seen.value?.checkpoint ?? 0;
    const revision = await this.#write(stream, checkpoint, seen.revision);
    if (revision === undefined) {
      // Written since: the view missed it (a watch may never bring it), so read the key and
      // go on from what it says, as any replica wanting the lease does.
      const entry = await this.#o.kv.get(leaseKey(stream));
      if (entry && entry.revision > (s.seen?.revision ?? 0))
        s.seen = { value: decodeJson<LeaseValue>(entry.value), revision: entry.revision };
      return;
    }
    this.#waitThenGrant(
      stream,
      s,
      { revision, checkpoint },
      `still ours, revision ${seen.revision} -> ${revision}`,
    );
  }

  /** A take: the lease naming this replica, if the key is still at `expectedRevision`; its new revision, or undefined. */
  async #write(stream: string, checkpoint: number, expectedRevision: number): Promise<number | undefined> {
    const value: LeaseValue = { ...this.#holder(), checkpoint };
    try {
      return await this.#o.kv.put(leaseKey(stream), encodeJson(value), { expectedRevision });
    } catch (err) {
      if (isTandemError(err, 'TANDEM_E_STORE_CONFLICT')) return undefined;
      throw err;
    }
  }

  #holder(): Pick<LeaseValue, 'replica' | 'incarnation'> {
    const me = this.#o.membership.me;
    return { replica: me.replica, incarnation: me.incarnation };
  }

  /** Rule 2: whoever delivered before this take has stopped once the wait is over. */
  #waitThenGrant(stream: string, s: StreamState, take: Held, detail: string): void {
    const timer = setTimeout(() => {
      if (s.pending?.timer !== timer) return;
      s.pending = undefined;
      void this.#enqueue(s, () => this.#completeTake(stream, s, take, detail));
    }, this.#grantWaitMs);
    s.pending = { ...take, timer };
    s.notBeforeMs = this.#clock.nowMs() + this.#grantWaitMs;
  }

  async #completeTake(stream: string, s: StreamState, take: Held, detail: string): Promise<void> {
    const checkpoint = await this.#readCheckpoint(stream, { ...this.#holder(), checkpoint: take.checkpoint });
    const overtaken = s.seen !== undefined && s.seen.revision > take.revision && !this.#isMine(s.seen.value);
    if (overtaken) return;
    if (!s.handlers || this.#o.membership.fenced) {
      // Unwanted or fenced while taking it: leave it free again rather than holding it idle.
      await this.#free(stream, take, checkpoint);
      return;
    }
    this.#grant(stream, s, { revision: take.revision, checkpoint }, `${detail}, at checkpoint ${checkpoint}`);
  }

  #grant(stream: string, s: StreamState, held: Held, detail: string): void {
    s.held = held;
    this.emit('acquired', { stream, atMs: this.#clock.nowMs(), detail } satisfies LeaseEvent);
    s.handlers?.granted(held.checkpoint);
  }

  /** Gives the endpoint up: stops (announced if it was delivering), then frees the lease. */
  async #release(stream: string, s: StreamState, checkpoint: number | undefined): Promise<void> {
    const pending = s.pending;
    if (pending) {
      clearTimeout(pending.timer);
      s.pending = undefined;
    }
    const held = s.held ?? pending;
    if (!held) return;
    const final = Math.max(checkpoint ?? 0, held.checkpoint);
    if (s.held) {
      s.held = undefined;
      this.emit('released', {
        stream,
        atMs: this.#clock.nowMs(),
        detail: `at checkpoint ${final}`,
      } satisfies LeaseEvent);
    }
    await this.#free(stream, held, final);
  }

  /** Writes the lease with no holder and the final checkpoint, unless it was taken since `take`. */
  async #free(stream: string, take: Held, checkpoint: number): Promise<void> {
    const value: LeaseValue = { replica: null, incarnation: null, checkpoint };
    try {
      await this.#o.kv.put(leaseKey(stream), encodeJson(value), { expectedRevision: take.revision });
    } catch (err) {
      // Taken meanwhile: the new holder has it, nothing to give up.
      if (!isTandemError(err, 'TANDEM_E_STORE_CONFLICT')) throw err;
    }
  }

  #onChange(change: KvChange): void {
    if (change.key.startsWith(checkpointPrefix)) {
      const s = this.#state(change.key.slice(checkpointPrefix.length));
      const value = change.value ? decodeJson<CheckpointValue>(change.value) : undefined;
      s.seenCheckpoint = Math.max(s.seenCheckpoint, value?.checkpoint ?? 0);
      return;
    }
    if (!change.key.startsWith(leasePrefix)) return;
    const stream = change.key.slice(leasePrefix.length);
    const s = this.#state(stream);
    if (s.seen && change.revision <= s.seen.revision) return; // a restarted watch repeats itself
    const value = change.value ? decodeJson<LeaseValue>(change.value) : undefined;
    s.seen = { value, revision: change.revision };
    if (!this.#isMine(value)) {
      const mine = s.held ?? s.pending;
      if (mine && change.revision > mine.revision)
        this.#lose(stream, s, `${value?.replica ?? 'nobody'} holds it now`);
    }
    if (s.handlers && !s.held && (value === undefined || value.replica === null)) this.#tryAcquire(stream, s);
  }

  #lose(stream: string, s: StreamState, why: string): void {
    if (s.pending) {
      clearTimeout(s.pending.timer);
      s.pending = undefined;
    }
    if (!s.held) return;
    s.held = undefined;
    this.emit('lost', { stream, atMs: this.#clock.nowMs(), detail: why } satisfies LeaseEvent);
    s.handlers?.lost();
  }

  #loseAll(why: string): void {
    for (const [stream, s] of this.#streams) this.#lose(stream, s, why);
  }
}
