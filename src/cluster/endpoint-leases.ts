/**
 * Endpoint leases: exactly one hub replica delivers an endpoint at a time (the hub's
 * EndpointOwnership, ownership.ts), through one key per endpoint in the shared key-value
 * store holding {replica, incarnation, checkpoint}.
 *
 * - A replica wants an endpoint while a consumer of it is connected there (a module's
 *   session, the upstream connector, a device's cloud-to-device subscription).
 * - It takes the lease by compare-and-set on the revision it read: when the key is absent,
 *   released, its own, or held by a replica confirmed dead (membership.ts).
 * - Every checkpoint write is a compare-and-set on the revision the holder wrote last: the
 *   lease is fenced by its revision. A replica whose write fails, or that sees another
 *   holder in the key, or that fenced itself, stops sending at once.
 * - Giving an endpoint up writes the final checkpoint with no holder, so the next replica
 *   takes it at once instead of after a heartbeat timeout.
 */
import { EventEmitter } from 'node:events';
import { decideLease, type LeaseValue } from '../core/cluster/liveness.js';
import { isTandemError, TandemError } from '../errors.js';
import type { EndpointOwnership, OwnershipHandlers } from '../hub/ownership.js';
import { limits } from '../limits.js';
import type { KvChange, WatchableKeyValue } from '../store/types.js';
import { type Clock, systemClock } from '../util/clock.js';
import { decodeJson, encodeJson, leaseKey, leasePrefix } from './keys.js';
import type { Membership } from './membership.js';

export interface EndpointLeasesOptions {
  readonly kv: WatchableKeyValue;
  readonly membership: Membership;
  readonly clock?: Clock;
  /** How often endpoints wanted but not held are tried again (besides events). */
  readonly retryMs?: number;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

/** 'acquired' / 'released' / 'lost': {stream, atMs}, so tests can check no two replicas overlap. */
export interface LeaseEvent {
  readonly stream: string;
  readonly atMs: number;
  /** Why, for people reading the log: from whom it was taken, why it was lost. */
  readonly detail: string;
}

interface StreamState {
  handlers: OwnershipHandlers | undefined;
  held: { revision: number; checkpoint: number } | undefined;
  seen: LeaseValue | undefined;
  /** Operations on one lease run one after another. */
  queue: Promise<void>;
  acquiring: boolean;
}

const lost = (stream: string): TandemError =>
  new TandemError('TANDEM_E_LEASE_LOST', `this replica no longer holds the lease of ${stream}`);

export class EndpointLeases extends EventEmitter implements EndpointOwnership {
  readonly onDemand = true;
  readonly #o: EndpointLeasesOptions;
  readonly #clock: Clock;
  readonly #streams = new Map<string, StreamState>();
  #watch: { stop(): void } | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(options: EndpointLeasesOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  async start(): Promise<void> {
    const m = this.#o.membership;
    m.on('fenced', () => this.#loseAll('this replica fenced itself'));
    for (const ev of ['unfenced', 'dead', 'left']) m.on(ev, () => this.#retryWanted());
    this.#watch = await this.#o.kv.watch(leasePrefix, (c) => this.#onChange(c));
    const retryMs = this.#o.retryMs ?? limits.clusterHeartbeatIntervalMs;
    this.#retryTimer = setInterval(() => this.#retryWanted(), retryMs);
  }

  stop(): void {
    this.#watch?.stop();
    clearInterval(this.#retryTimer);
  }

  /** Streams this replica delivers now. */
  held(): string[] {
    return [...this.#streams.entries()].filter(([, s]) => s.held).map(([k]) => k);
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

  async save(stream: string, checkpoint: number, retry = true): Promise<void> {
    const s = this.#state(stream);
    const held = s.held;
    if (!held || this.#o.membership.fenced) throw lost(stream);
    const value: LeaseValue = { ...this.#holder(), checkpoint };
    try {
      const revision = await this.#o.kv.put(leaseKey(stream), encodeJson(value), {
        expectedRevision: held.revision,
      });
      if (s.held === held) s.held = { revision, checkpoint };
    } catch (err) {
      if (!isTandemError(err, 'TANDEM_E_STORE_CONFLICT')) throw err;
      // An earlier write whose answer was lost (a timeout while the store moved) may be what
      // changed the revision: if the key still names this process, the lease is still ours.
      const entry = await this.#o.kv.get(leaseKey(stream));
      const current = entry ? decodeJson<LeaseValue>(entry.value) : undefined;
      const me = this.#o.membership.me;
      const ours = current?.replica === me.replica && current.incarnation === me.incarnation;
      if (retry && entry && ours && s.held === held) {
        s.held = { revision: entry.revision, checkpoint: current.checkpoint };
        return this.save(stream, checkpoint, false);
      }
      this.#lose(stream, s, 'its checkpoint write lost the compare-and-set');
      throw lost(stream);
    }
  }

  async knownCheckpoint(stream: string): Promise<number> {
    const s = this.#streams.get(stream);
    if (s?.held) return s.held.checkpoint;
    if (s?.seen) return s.seen.checkpoint;
    const entry = await this.#o.kv.get(leaseKey(stream));
    return (entry && decodeJson<LeaseValue>(entry.value)?.checkpoint) || 0;
  }

  #holder(): Pick<LeaseValue, 'replica' | 'incarnation'> {
    const me = this.#o.membership.me;
    return { replica: me.replica, incarnation: me.incarnation };
  }

  #state(stream: string): StreamState {
    let s = this.#streams.get(stream);
    if (!s) {
      s = {
        handlers: undefined,
        held: undefined,
        seen: undefined,
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
    if (s.acquiring || s.held || !s.handlers) return;
    s.acquiring = true;
    void this.#enqueue(s, () => this.#acquire(stream, s)).finally(() => {
      s.acquiring = false;
    });
  }

  #retryWanted(): void {
    for (const [stream, s] of this.#streams) if (s.handlers && !s.held) this.#tryAcquire(stream, s);
  }

  async #acquire(stream: string, s: StreamState): Promise<void> {
    if (!s.handlers || s.held || this.#o.membership.fenced) return;
    const entry = await this.#o.kv.get(leaseKey(stream));
    const current = entry ? decodeJson<LeaseValue>(entry.value) : undefined;
    const decision = decideLease(current, this.#o.membership.me, (r, i) => this.#o.membership.isAlive(r, i));
    if (decision.kind === 'wait') return;
    // Taking it from a holder believed dead: check that belief against the store itself.
    if (decision.kind === 'take' && current?.replica && current.incarnation) {
      if (!(await this.#o.membership.stillDead(current.replica, current.incarnation))) return;
    }
    const checkpoint = decision.kind === 'create' ? 0 : decision.checkpoint;
    let revision: number;
    try {
      revision = await this.#o.kv.put(leaseKey(stream), encodeJson({ ...this.#holder(), checkpoint }), {
        expectedRevision: entry?.revision ?? 0,
      });
    } catch (err) {
      if (isTandemError(err, 'TANDEM_E_STORE_CONFLICT')) return; // someone else moved first: wait
      throw err;
    }
    if (!s.handlers || this.#o.membership.fenced) {
      // Unwanted or fenced while taking it: leave it free again rather than holding it idle.
      s.held = { revision, checkpoint };
      await this.#release(stream, s, undefined);
      return;
    }
    s.held = { revision, checkpoint };
    const from = current?.replica ? ` from ${current.replica}` : '';
    const detail = `${decision.kind}${from} at checkpoint ${checkpoint}`;
    this.emit('acquired', { stream, atMs: this.#clock.nowMs(), detail } satisfies LeaseEvent);
    s.handlers.granted(checkpoint);
  }

  async #release(stream: string, s: StreamState, checkpoint: number | undefined): Promise<void> {
    const held = s.held;
    if (!held) return;
    s.held = undefined;
    const detail = `at checkpoint ${checkpoint ?? held.checkpoint}`;
    this.emit('released', { stream, atMs: this.#clock.nowMs(), detail } satisfies LeaseEvent);
    const value: LeaseValue = { replica: null, incarnation: null, checkpoint: checkpoint ?? held.checkpoint };
    try {
      await this.#o.kv.put(leaseKey(stream), encodeJson(value), { expectedRevision: held.revision });
    } catch (err) {
      // Lost meanwhile: the new holder has it, nothing to give up.
      if (!isTandemError(err, 'TANDEM_E_STORE_CONFLICT')) throw err;
    }
  }

  #onChange(change: KvChange): void {
    const stream = change.key.slice(leasePrefix.length);
    const s = this.#state(stream);
    const value = change.value ? decodeJson<LeaseValue>(change.value) : undefined;
    s.seen = value;
    const me = this.#o.membership.me;
    const mine = value?.replica === me.replica && value.incarnation === me.incarnation;
    if (s.held && !mine && change.revision > s.held.revision) {
      this.#lose(stream, s, `${value?.replica ?? 'nobody'} holds it now`);
    }
    if (s.handlers && !s.held && (value === undefined || value.replica === null)) this.#tryAcquire(stream, s);
  }

  #lose(stream: string, s: StreamState, why: string): void {
    if (!s.held) return;
    s.held = undefined;
    this.emit('lost', { stream, atMs: this.#clock.nowMs(), detail: why } satisfies LeaseEvent);
    s.handlers?.lost();
  }

  #loseAll(why: string): void {
    for (const [stream, s] of this.#streams) this.#lose(stream, s, why);
  }
}
