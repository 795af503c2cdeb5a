/**
 * Log seq numbers of the JetStream backend: item k of the batch stored at JetStream stream
 * sequence J has seq J * 65536 + k.
 *
 * Why: the stream sequence is the one counter every hub replica shares (the stream leader
 * assigns it), so seqs increase strictly across the whole log and across writers, restarts
 * and leader changes without any counter of ours; and the seq of an item tells which message
 * holds it, so a read needs no lookup table. A batch holds at most 65536 items (frame.ts).
 * Seqs stay exact doubles (safe integers) up to J = 2^37, about 1.4e11 batches: 400 years at
 * 10,000 batches a second. The first possible seq is 65536 (J starts at 1), so afterSeq 0
 * still means "from the start".
 */
import { assert } from '../../errors.js';

export const itemsPerBatchShift = 65536;
/** J beyond this would make seqs leave the safe integer range. */
export const batchSeqMax = 2 ** 37;

export function itemSeq(batchSeq: number, index: number): number {
  assert(batchSeq >= 1 && batchSeq < batchSeqMax, `stream sequence ${batchSeq} is within 1..2^37`);
  return batchSeq * itemsPerBatchShift + index;
}

/** The stream sequence of the batch holding `seq`. */
export function batchOf(seq: number): number {
  return Math.floor(seq / itemsPerBatchShift);
}

/** The index of `seq` in its batch. */
export function indexOf(seq: number): number {
  return seq % itemsPerBatchShift;
}

export function assertSeq(seq: number, what: string): void {
  assert(Number.isSafeInteger(seq) && seq >= 0, `${what} must be a non-negative safe integer, got ${seq}`);
}
