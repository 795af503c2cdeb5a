/**
 * Which hub replicas are alive, judged from their heartbeats as one observer sees them.
 *
 * Every replica rewrites its member key in the shared key-value store every heartbeat; each
 * write gets a new revision. An observer calls a replica dead when it has seen no new
 * revision for `memberTtlMs` of its own clock. A replica fences itself (stops delivering)
 * when none of its own heartbeats was confirmed for `selfFenceMs`, measured from when the
 * last confirmed one was *sent*. Deaths decide only when leases are taken; that no two
 * replicas deliver at once rests on the fence and the taker's wait (cluster/endpoint-leases.ts),
 * not on the observers being right. Pure: time comes in as arguments.
 */

export interface MemberHeartbeat {
  readonly replica: string;
  /** Changes on every start of the replica's process, so an old process's leases are not mistaken for the new one's. */
  readonly incarnation: string;
}

interface Seen {
  incarnation: string;
  revision: number;
  seenAtMs: number;
}

export class LivenessView {
  readonly #ttlMs: number;
  readonly #members = new Map<string, Seen>();

  constructor(memberTtlMs: number) {
    this.#ttlMs = memberTtlMs;
  }

  /** A member key was seen with `revision` (a watch event or a fresh read). */
  observe(member: MemberHeartbeat, revision: number, nowMs: number): void {
    const seen = this.#members.get(member.replica);
    if (seen && seen.revision >= revision) return;
    this.#members.set(member.replica, { incarnation: member.incarnation, revision, seenAtMs: nowMs });
  }

  /** The member key was deleted (a clean shutdown): the member is gone at once. */
  removed(replica: string): void {
    this.#members.delete(replica);
  }

  /** The last revision seen of a member's key, to compare with a fresh read. */
  revisionOf(replica: string): number | undefined {
    return this.#members.get(replica)?.revision;
  }

  /** The incarnation of `replica` whose heartbeat was seen last, if any. */
  incarnationOf(replica: string): string | undefined {
    return this.#members.get(replica)?.incarnation;
  }

  /** Alive: this incarnation of `replica` wrote a heartbeat that was seen less than the TTL ago. */
  isAlive(replica: string, incarnation: string, nowMs: number): boolean {
    const seen = this.#members.get(replica);
    return seen !== undefined && seen.incarnation === incarnation && nowMs - seen.seenAtMs < this.#ttlMs;
  }

  /** How long since a new heartbeat of `replica` was seen; undefined for a member never seen (or gone). */
  silentMs(replica: string, nowMs: number): number | undefined {
    const seen = this.#members.get(replica);
    return seen === undefined ? undefined : nowMs - seen.seenAtMs;
  }

  /** Members whose heartbeat is overdue now. */
  overdue(nowMs: number): string[] {
    return [...this.#members.entries()]
      .filter(([, s]) => nowMs - s.seenAtMs >= this.#ttlMs)
      .map(([replica]) => replica);
  }

  /** Every member seen alive now. */
  alive(nowMs: number): string[] {
    return [...this.#members.entries()]
      .filter(([, s]) => nowMs - s.seenAtMs < this.#ttlMs)
      .map(([replica]) => replica);
  }
}

/** A replica's own view of its heartbeats: fenced once none succeeded for `selfFenceMs`. */
export class SelfFence {
  readonly #fenceMs: number;
  #lastOkSentAtMs: number | undefined;

  constructor(selfFenceMs: number) {
    this.#fenceMs = selfFenceMs;
  }

  /** A heartbeat sent at `sentAtMs` was acknowledged. */
  succeeded(sentAtMs: number): void {
    if (this.#lastOkSentAtMs === undefined || sentAtMs > this.#lastOkSentAtMs)
      this.#lastOkSentAtMs = sentAtMs;
  }

  /** When this replica fences itself unless another heartbeat succeeds first. */
  deadlineMs(): number | undefined {
    return this.#lastOkSentAtMs === undefined ? undefined : this.#lastOkSentAtMs + this.#fenceMs;
  }

  /** True when this replica must not deliver: no heartbeat yet, or none recent enough. */
  fenced(nowMs: number): boolean {
    return this.#lastOkSentAtMs === undefined || nowMs - this.#lastOkSentAtMs >= this.#fenceMs;
  }
}

/** A lease's holder as stored in the lease key; `replica` null means released. */
export interface LeaseValue {
  readonly replica: string | null;
  readonly incarnation: string | null;
  readonly checkpoint: number;
}

export type LeaseDecision =
  | { readonly kind: 'create' }
  | { readonly kind: 'take'; readonly checkpoint: number }
  | { readonly kind: 'mine'; readonly checkpoint: number }
  | { readonly kind: 'wait'; readonly holder: string };

/**
 * What a replica wanting an endpoint does with the lease as it just read it: create it, take
 * it (released, or its holder is not alive), keep it (its own, e.g. after a fence lifted),
 * or wait for the live holder to release it or die.
 */
export function decideLease(
  current: LeaseValue | undefined,
  me: MemberHeartbeat,
  holderAlive: (replica: string, incarnation: string) => boolean,
): LeaseDecision {
  if (current === undefined) return { kind: 'create' };
  if (current.replica === null || current.incarnation === null)
    return { kind: 'take', checkpoint: current.checkpoint };
  if (current.replica === me.replica && current.incarnation === me.incarnation)
    return { kind: 'mine', checkpoint: current.checkpoint };
  if (holderAlive(current.replica, current.incarnation)) return { kind: 'wait', holder: current.replica };
  return { kind: 'take', checkpoint: current.checkpoint };
}
