/**
 * Reconnect delays: exponential backoff with "full jitter" (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"): the n-th consecutive failure waits a uniformly random
 * time in [0, min(max, base * 2^n)). Full jitter spreads the reconnects of many edge devices
 * after a cloud outage, so they do not all knock at the same instant; the cap bounds how
 * long a returning cloud goes unnoticed.
 */

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Past this exponent base * 2^n is beyond any cap; stopping here keeps the number finite. */
const exponentMax = 40;

/** The upper bound of the n-th delay (n = consecutive failures so far, from 0). */
export function backoffCeilingMs(policy: BackoffPolicy, attempt: number): number {
  const n = Math.min(Math.max(0, Math.floor(attempt)), exponentMax);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** n);
}

/**
 * The n-th delay, drawn with `random` (uniform in [0, 1), like Math.random). Whole
 * milliseconds, always below the ceiling (or 0 when the ceiling is 0).
 */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const ceiling = backoffCeilingMs(policy, attempt);
  // A random source outside [0, 1) is a caller's bug; clamping keeps the delay within bounds anyway.
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.floor(r * ceiling);
}
