/**
 * The guarantee checker: records what every sender had acknowledged and what every endpoint
 * received, then verifies G1 (every acknowledged message arrived), G2 (per sender, per
 * endpoint, nothing new arrives behind a later message) and G3 (repeats within a bound).
 */
export interface CheckReport {
  readonly acked: number;
  readonly received: number;
  readonly missing: Array<{ endpoint: string; sender: string; seq: number }>;
  readonly orderViolations: Array<{ endpoint: string; sender: string; seq: number; after: number }>;
  readonly repeats: number;
}

export class GuaranteeChecker {
  readonly #acked = new Map<string, Set<number>>();
  readonly #received = new Map<string, Array<{ sender: string; seq: number }>>();
  #onReceive: (() => void) | undefined;

  ack(sender: string, seq: number): void {
    setFor(this.#acked, sender).add(seq);
  }

  receive(endpoint: string, sender: string, seq: number): void {
    const list = this.#received.get(endpoint) ?? [];
    this.#received.set(endpoint, list);
    list.push({ sender, seq });
    this.#onReceive?.();
  }

  ackedCount(sender?: string): number {
    if (sender !== undefined) return this.#acked.get(sender)?.size ?? 0;
    let n = 0;
    for (const s of this.#acked.values()) n += s.size;
    return n;
  }

  /** Resolves once every acknowledged message has reached each endpoint, or rejects after `timeoutMs`. */
  waitForAll(endpoints: readonly string[], timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (endpoints.every((e) => this.#missingAt(e).length === 0)) {
          clearTimeout(timer);
          this.#onReceive = undefined;
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.#onReceive = undefined;
        const missing = endpoints.flatMap((e) => this.#missingAt(e));
        reject(
          new Error(
            `${missing.length} acknowledged messages never arrived, e.g. ${JSON.stringify(missing.slice(0, 5))}`,
          ),
        );
      }, timeoutMs);
      this.#onReceive = check;
      check();
    });
  }

  #missingAt(endpoint: string): Array<{ endpoint: string; sender: string; seq: number }> {
    const got = new Map<string, Set<number>>();
    for (const r of this.#received.get(endpoint) ?? []) setFor(got, r.sender).add(r.seq);
    const missing: Array<{ endpoint: string; sender: string; seq: number }> = [];
    for (const [sender, seqs] of this.#acked) {
      for (const seq of seqs) if (!got.get(sender)?.has(seq)) missing.push({ endpoint, sender, seq });
    }
    return missing;
  }

  report(endpoints: readonly string[]): CheckReport {
    const missing = endpoints.flatMap((e) => this.#missingAt(e));
    const orderViolations: CheckReport['orderViolations'] = [];
    let repeats = 0;
    let received = 0;
    for (const endpoint of endpoints) {
      const seen = new Map<string, Set<number>>();
      const highest = new Map<string, number>();
      for (const { sender, seq } of this.#received.get(endpoint) ?? []) {
        received++;
        const s = setFor(seen, sender);
        const top = highest.get(sender) ?? -Infinity;
        if (s.has(seq)) repeats++;
        else if (seq < top) orderViolations.push({ endpoint, sender, seq, after: top });
        s.add(seq);
        if (seq > top) highest.set(sender, seq);
      }
    }
    return { acked: this.ackedCount(), received, missing, orderViolations, repeats };
  }
}

function setFor<K>(map: Map<K, Set<number>>, key: K): Set<number> {
  let s = map.get(key);
  if (!s) {
    s = new Set();
    map.set(key, s);
  }
  return s;
}
