/** Waiting on conditions with generous deadlines: tests never sleep a fixed time. */
import type { UpstreamConnector, UpstreamState } from '../../../src/upstream/index.js';

/** Far above what any step takes on a loaded CI box; only a real failure reaches it. */
export const deadlineMs = 30_000;

/** Polls `check` until it holds; rejects with `what` (and its last detail) after the deadline. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = deadlineMs,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves when the connector is (or next becomes) in `state`. */
export function waitForState(
  connector: UpstreamConnector,
  state: UpstreamState,
  timeoutMs = deadlineMs,
): Promise<void> {
  if (connector.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      connector.events.off('state', onState);
      reject(new Error(`connector still ${connector.state}, not ${state}, after ${timeoutMs} ms`));
    }, timeoutMs);
    const onState = (s: UpstreamState): void => {
      if (s !== state) return;
      clearTimeout(timer);
      connector.events.off('state', onState);
      resolve();
    };
    connector.events.on('state', onState);
  });
}
