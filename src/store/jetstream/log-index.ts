/**
 * The in-memory index of the log: per stream, the seqs and expiry times of its records,
 * ascending; not the payloads (those stay in JetStream and in the batch cache). Every store
 * instance builds its own from the log at open and keeps it current (log-view.ts), so
 * `read`, `count` and `streams` need no round trip, and a stream is one array to scan.
 *
 * Trims are remembered per stream (`trimmedUpto`), whether or not this instance holds the
 * records yet: a batch that arrives after its trim (read at open, or from a replica that
 * lags) must not bring trimmed records back.
 *
 * Memory: 16 bytes per record plus array overhead, so a million queued records ~ 20 MB.
 */
import { batchOf, itemsPerBatchShift } from './seqs.js';

export interface IndexEntry {
  readonly seq: number;
  readonly expiresAtMs: number;
}

/** A sorted run of one stream's records; the trimmed front is skipped by `head`, compacted lazily. */
class StreamEntries {
  seqs: number[] = [];
  expires: number[] = [];
  head = 0;

  get size(): number {
    return this.seqs.length - this.head;
  }

  /** First position whose seq is > `seq`. */
  upperBound(seq: number): number {
    let lo = this.head;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(seq: number, expiresAtMs: number): void {
    const n = this.seqs.length;
    if (n === this.head || this.seqs[n - 1]! < seq) {
      this.seqs.push(seq);
      this.expires.push(expiresAtMs);
      return;
    }
    // Out of order: another replica's batch arrived after one of ours with a higher seq.
    const at = this.upperBound(seq);
    if (at > this.head && this.seqs[at - 1] === seq) return;
    this.seqs.splice(at, 0, seq);
    this.expires.splice(at, 0, expiresAtMs);
  }

  dropUpTo(seq: number): void {
    this.head = this.upperBound(seq);
    if (this.head > 1024 && this.head * 2 > this.seqs.length) {
      this.seqs = this.seqs.slice(this.head);
      this.expires = this.expires.slice(this.head);
      this.head = 0;
    }
  }

  /** Removes the entries with seq in [from, to). */
  dropRange(from: number, to: number): void {
    const start = this.upperBound(from - 1);
    const end = this.upperBound(to - 1);
    if (end > start) {
      this.seqs.splice(start, end - start);
      this.expires.splice(start, end - start);
    }
  }
}

export class LogIndex {
  readonly #streams = new Map<string, StreamEntries>();
  readonly #trimmed = new Map<string, number>();

  trimmedUpto(stream: string): number {
    return this.#trimmed.get(stream) ?? 0;
  }

  /** Adds one record unless a trim already covers it; false when it was dropped. */
  insert(stream: string, seq: number, expiresAtMs: number): boolean {
    if (seq <= this.trimmedUpto(stream)) return false;
    let entries = this.#streams.get(stream);
    if (!entries) {
      entries = new StreamEntries();
      this.#streams.set(stream, entries);
    }
    entries.insert(seq, expiresAtMs);
    return true;
  }

  /** Records trimmed up to `upto` (monotonic: a lower value changes nothing). True if it moved. */
  trim(stream: string, upto: number): boolean {
    if (upto <= this.trimmedUpto(stream)) return false;
    this.#trimmed.set(stream, upto);
    const entries = this.#streams.get(stream);
    if (entries) {
      entries.dropUpTo(upto);
      if (entries.size === 0) this.#streams.delete(stream);
    }
    return true;
  }

  /** Whether `stream` holds a record with seq <= `seq`. */
  holdsUpTo(stream: string, seq: number): boolean {
    const entries = this.#streams.get(stream);
    return entries !== undefined && entries.size > 0 && entries.seqs[entries.head]! <= seq;
  }

  range(stream: string, afterSeq: number, max: number): IndexEntry[] {
    const entries = this.#streams.get(stream);
    if (!entries || max <= 0) return [];
    const out: IndexEntry[] = [];
    const start = entries.upperBound(afterSeq);
    const end = Math.min(entries.seqs.length, start + max);
    for (let i = start; i < end; i++) {
      out.push({ seq: entries.seqs[i]!, expiresAtMs: entries.expires[i]! });
    }
    return out;
  }

  count(stream: string, afterSeq: number): number {
    const entries = this.#streams.get(stream);
    return entries ? entries.seqs.length - entries.upperBound(afterSeq) : 0;
  }

  streams(): string[] {
    return [...this.#streams.keys()].sort();
  }

  /** The stream sequence of the oldest batch any record still lives in, if any. */
  lowestBatch(): number | undefined {
    let lowest: number | undefined;
    for (const entries of this.#streams.values()) {
      const first = entries.seqs[entries.head];
      if (first !== undefined && (lowest === undefined || first < lowest)) lowest = first;
    }
    return lowest === undefined ? undefined : batchOf(lowest);
  }

  /** Forgets every record of one batch: it was purged by another replica that knew its trims first. */
  dropBatch(batchSeq: number): void {
    const from = batchSeq * itemsPerBatchShift;
    for (const [stream, entries] of this.#streams) {
      entries.dropRange(from, from + itemsPerBatchShift);
      if (entries.size === 0) this.#streams.delete(stream);
    }
  }
}
