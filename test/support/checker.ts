/**
 * The G1–G3 checker for cluster runs. A run is recorded as plain data (a `History`): what each
 * sender sent and had acknowledged, what arrived at each endpoint in the order it arrived, and
 * the endpoint leases the hub replicas report. `check` is pure: it only reads the history.
 *
 * - G1: every acknowledged message reaches every endpoint its sender is routed to. Messages
 *   never acknowledged may arrive or not.
 * - G2: per endpoint and sender, first arrivals come in increasing sequence order.
 * - G3: repeats are allowed, but a redelivery never reaches back further than the in-flight
 *   window: when message m arrives again, at most `windowMax` distinct messages (m included)
 *   had first arrived at the endpoint since m's first arrival. That is the hub's bound (it
 *   delivers at most the window past the last durable checkpoint) and it holds however many
 *   crashes come in a row, which a bound on runs of repeats would not.
 * - Ownership: two replicas never hold the same endpoint's lease over overlapping times.
 */
import { AssertionError } from 'node:assert';

export interface SentMessage {
  readonly sender: string;
  readonly seq: number;
  readonly acked: boolean;
  readonly sentMs?: number;
  readonly ackedMs?: number;
}

export interface Arrival {
  readonly endpoint: string;
  readonly sender: string;
  readonly seq: number;
  /** The receiver's clock when it got the message. */
  readonly atMs: number;
  /** The consumer, replica or connection it came through, when known. */
  readonly via?: string;
}

/** A replica held `endpoint` from `fromMs` to `toMs` (Infinity while still held). */
export interface Lease {
  readonly replica: string;
  readonly endpoint: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** Arrivals are in the order they happened at each endpoint (the recorder keeps call order). */
export interface History {
  readonly sent: readonly SentMessage[];
  readonly arrivals: readonly Arrival[];
  readonly leases: readonly Lease[];
}

/** The endpoints each sender's messages must reach. */
export type Routing = ((sender: string) => readonly string[]) | Readonly<Record<string, readonly string[]>>;

export interface MessageRef {
  readonly sender: string;
  readonly seq: number;
}

export interface EndpointReport {
  readonly endpoint: string;
  /** Acknowledged messages routed here (what G1 demands). */
  readonly expected: number;
  readonly arrivals: number;
  readonly distinct: number;
  readonly missing: readonly MessageRef[];
  /** A first arrival of `seq` after the first arrival of the sender's later `after`. */
  readonly orderViolations: ReadonlyArray<MessageRef & { readonly after: number }>;
  /** Arrivals beyond each message's first. */
  readonly repeats: number;
  /** The most times one message arrived. */
  readonly maxDeliveries: number;
  /** The deepest redelivery, in messages (0 when nothing repeated); G3 wants ≤ window. */
  readonly maxRewind: number;
  readonly unexpected: ReadonlyArray<MessageRef & { readonly reason: 'never sent' | 'not routed here' }>;
  readonly overlaps: ReadonlyArray<{ readonly a: Lease; readonly b: Lease }>;
}

export interface CheckReport {
  readonly endpoints: readonly EndpointReport[];
  readonly totals: {
    readonly sent: number;
    readonly acked: number;
    readonly arrivals: number;
    readonly missing: number;
    readonly orderViolations: number;
    readonly repeats: number;
    readonly maxRewind: number;
    readonly unexpected: number;
    readonly overlaps: number;
  };
}

const key = (sender: string, seq: number): string => `${sender}\u0000${seq}`;

function routesOf(routing: Routing): (sender: string) => readonly string[] {
  return typeof routing === 'function' ? routing : (sender) => routing[sender] ?? [];
}

/** G2 and G3 over one endpoint's arrivals, in arrival order. */
function scanArrivals(arrivals: readonly Arrival[]) {
  const firstRank = new Map<string, number>();
  const deliveries = new Map<string, number>();
  const highest = new Map<string, number>();
  const orderViolations: Array<MessageRef & { after: number }> = [];
  let repeats = 0;
  let maxRewind = 0;
  for (const a of arrivals) {
    const k = key(a.sender, a.seq);
    deliveries.set(k, (deliveries.get(k) ?? 0) + 1);
    const rank = firstRank.get(k);
    if (rank !== undefined) {
      repeats++;
      // Distinct messages first-arrived from m's first arrival up to now, m included.
      maxRewind = Math.max(maxRewind, firstRank.size - rank);
      continue;
    }
    firstRank.set(k, firstRank.size);
    const top = highest.get(a.sender);
    if (top !== undefined && a.seq < top) orderViolations.push({ sender: a.sender, seq: a.seq, after: top });
    else highest.set(a.sender, a.seq);
  }
  const maxDeliveries = Math.max(0, ...deliveries.values());
  return { firstSeen: firstRank, orderViolations, repeats, maxRewind, maxDeliveries };
}

/** Pairs of leases on one endpoint, held by different replicas, whose times overlap. */
function overlapping(leases: readonly Lease[]): Array<{ a: Lease; b: Lease }> {
  const sorted = [...leases].sort((x, y) => x.fromMs - y.fromMs);
  const found: Array<{ a: Lease; b: Lease }> = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      // Sorted by start: every later lease starts after this one ended too.
      if (b.fromMs >= a.toMs) break;
      if (a.replica !== b.replica) found.push({ a, b });
    }
  }
  return found;
}

function checkEndpoint(
  endpoint: string,
  history: History,
  route: (sender: string) => readonly string[],
  sentKeys: ReadonlySet<string>,
): EndpointReport {
  const arrivals = history.arrivals.filter((a) => a.endpoint === endpoint);
  const scan = scanArrivals(arrivals);
  const expected = history.sent.filter((m) => m.acked && route(m.sender).includes(endpoint));
  const missing = expected
    .filter((m) => !scan.firstSeen.has(key(m.sender, m.seq)))
    .map((m) => ({ sender: m.sender, seq: m.seq }));
  const unexpected: Array<MessageRef & { reason: 'never sent' | 'not routed here' }> = [];
  for (const a of arrivals) {
    if (!sentKeys.has(key(a.sender, a.seq)))
      unexpected.push({ sender: a.sender, seq: a.seq, reason: 'never sent' });
    else if (!route(a.sender).includes(endpoint))
      unexpected.push({ sender: a.sender, seq: a.seq, reason: 'not routed here' });
  }
  return {
    endpoint,
    expected: expected.length,
    arrivals: arrivals.length,
    distinct: scan.firstSeen.size,
    missing,
    orderViolations: scan.orderViolations,
    repeats: scan.repeats,
    maxDeliveries: scan.maxDeliveries,
    maxRewind: scan.maxRewind,
    unexpected: dedupe(unexpected),
    overlaps: overlapping(history.leases.filter((l) => l.endpoint === endpoint)),
  };
}

function dedupe<T extends MessageRef>(refs: readonly T[]): T[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const k = key(r.sender, r.seq);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Checks G1–G3 and lease exclusivity on every endpoint that is routed to, arrived at or leased. */
export function check(history: History, routing: Routing): CheckReport {
  const route = routesOf(routing);
  const names = new Set<string>();
  for (const m of history.sent) for (const e of route(m.sender)) names.add(e);
  for (const a of history.arrivals) names.add(a.endpoint);
  for (const l of history.leases) names.add(l.endpoint);
  const sentKeys = new Set(history.sent.map((m) => key(m.sender, m.seq)));
  const endpoints = [...names].sort().map((e) => checkEndpoint(e, history, route, sentKeys));
  const sum = (f: (e: EndpointReport) => number): number => endpoints.reduce((n, e) => n + f(e), 0);
  return {
    endpoints,
    totals: {
      sent: history.sent.length,
      acked: history.sent.filter((m) => m.acked).length,
      arrivals: sum((e) => e.arrivals),
      missing: sum((e) => e.missing.length),
      orderViolations: sum((e) => e.orderViolations.length),
      repeats: sum((e) => e.repeats),
      maxRewind: Math.max(0, ...endpoints.map((e) => e.maxRewind)),
      unexpected: sum((e) => e.unexpected.length),
      overlaps: sum((e) => e.overlaps.length),
    },
  };
}

const examples = (items: readonly unknown[]): string =>
  items.length === 0
    ? ''
    : ` e.g. ${items
        .slice(0, 5)
        .map((i) => JSON.stringify(i))
        .join(', ')}`;

/** What went wrong at one endpoint, one line per broken rule (empty when it holds). */
function problems(e: EndpointReport, windowMax: number): string[] {
  const out: string[] = [];
  if (e.missing.length > 0)
    out.push(`G1: ${e.missing.length} acknowledged never arrived${examples(e.missing)}`);
  if (e.orderViolations.length > 0)
    out.push(`G2: ${e.orderViolations.length} out of order${examples(e.orderViolations)}`);
  if (e.maxRewind > windowMax) out.push(`G3: a redelivery reached back ${e.maxRewind} > window ${windowMax}`);
  if (e.unexpected.length > 0)
    out.push(`${e.unexpected.length} unexpected arrivals${examples(e.unexpected)}`);
  if (e.overlaps.length > 0) out.push(`${e.overlaps.length} overlapping leases${examples(e.overlaps)}`);
  return out;
}

/** Missing messages as runs per sender ("d0 12-30, d1 4"), so a gap's place in a run shows. */
function ranges(refs: readonly MessageRef[]): string {
  const bySender = new Map<string, number[]>();
  for (const r of refs) bySender.set(r.sender, [...(bySender.get(r.sender) ?? []), r.seq]);
  const out: string[] = [];
  for (const [sender, seqs] of [...bySender].sort(([a], [b]) => a.localeCompare(b))) {
    const runs: string[] = [];
    let start = -1;
    let prev = -1;
    for (const seq of [...seqs].sort((a, b) => a - b)) {
      if (seq !== prev + 1) {
        if (start >= 0) runs.push(start === prev ? `${start}` : `${start}-${prev}`);
        start = seq;
      }
      prev = seq;
    }
    runs.push(start === prev ? `${start}` : `${start}-${prev}`);
    out.push(`${sender} ${runs.join(' ')}`);
  }
  return out.join(', ');
}

/** One line per endpoint: the counts a log of a run should show. */
export function summarize(report: CheckReport): string {
  const t = report.totals;
  const lines = report.endpoints.map(
    (e) =>
      `  ${e.endpoint}: expected ${e.expected}, arrivals ${e.arrivals} (distinct ${e.distinct}), ` +
      `missing ${e.missing.length}, out of order ${e.orderViolations.length}, repeats ${e.repeats} ` +
      `(max rewind ${e.maxRewind}, max deliveries ${e.maxDeliveries}), overlaps ${e.overlaps.length}` +
      (e.missing.length > 0 ? `; missing ${ranges(e.missing)}` : ''),
  );
  return [`sent ${t.sent}, acked ${t.acked}, arrivals ${t.arrivals}`, ...lines].join('\n');
}

/** Throws an AssertionError naming every broken guarantee, per endpoint, with examples. */
export function assertHolds(report: CheckReport, options: { windowMax: number }): void {
  const failures = report.endpoints.flatMap((e) =>
    problems(e, options.windowMax).map((p) => `  ${e.endpoint}: ${p}`),
  );
  if (failures.length === 0) return;
  throw new AssertionError({
    message: `guarantees broken:\n${failures.join('\n')}\n${summarize(report)}`,
  });
}

/**
 * Collects a history while a run goes on. Arrivals keep the order of the calls, which is the
 * order they happened at an endpoint as long as one reader (one consumer's output) records it.
 */
export class HistoryRecorder {
  readonly #sent = new Map<string, { sender: string; seq: number; sentMs?: number; ackedMs?: number }>();
  readonly #arrivals: Arrival[] = [];
  readonly #leases: Lease[] = [];
  readonly #acked = new Map<string, number>();

  sent(sender: string, seq: number, atMs = Date.now()): void {
    const k = key(sender, seq);
    if (!this.#sent.has(k)) this.#sent.set(k, { sender, seq, sentMs: atMs });
  }

  /** A PUBACK; also counts as sent (a sender may report only its acks). */
  acked(sender: string, seq: number, atMs = Date.now()): void {
    const k = key(sender, seq);
    const m = this.#sent.get(k) ?? { sender, seq };
    if (m.ackedMs !== undefined) return;
    m.ackedMs = atMs;
    this.#sent.set(k, m);
    this.#acked.set(sender, (this.#acked.get(sender) ?? 0) + 1);
  }

  arrived(endpoint: string, sender: string, seq: number, atMs = Date.now(), via?: string): void {
    this.#arrivals.push({ endpoint, sender, seq, atMs, ...(via === undefined ? {} : { via }) });
  }

  lease(lease: Lease): void {
    this.#leases.push(lease);
  }

  /** Acknowledged messages so far (of one sender, or all). */
  ackedCount(sender?: string): number {
    if (sender !== undefined) return this.#acked.get(sender) ?? 0;
    let n = 0;
    for (const c of this.#acked.values()) n += c;
    return n;
  }

  /** Arrivals so far (at one endpoint, or all). */
  arrivalCount(endpoint?: string): number {
    return endpoint === undefined
      ? this.#arrivals.length
      : this.#arrivals.filter((a) => a.endpoint === endpoint).length;
  }

  /** A snapshot, as plain data (JSON-serialisable but for Infinity lease ends). */
  history(): History {
    return {
      sent: [...this.#sent.values()].map((m) => ({ ...m, acked: m.ackedMs !== undefined })),
      arrivals: [...this.#arrivals],
      leases: [...this.#leases],
    };
  }
}
