/** Waiting on conditions with generous deadlines: tests never sleep a fixed time. */

/** Far above what any step takes on a loaded 2-core box; only a real failure reaches it. */
export const deadlineMs = 30_000;
/** Polling interval: short enough not to slow a test down, long enough to load nothing. */
const pollMs = 50;

/**
 * Polls `check` until it holds; rejects with `what` after the deadline, adding `detail()` (the
 * last thing seen) so a timeout says why. A check that throws counts as not holding yet.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = deadlineMs,
  detail?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      lastError = String(e);
    }
    if (Date.now() > deadline) {
      const why = detail?.() ?? lastError;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why ? `: ${why}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
