/** Waiting for the upstream connector's states; the general waitFor lives in test/support/wait.ts. */
import type { UpstreamConnector, UpstreamState } from '../../../src/upstream/index.js';

import { deadlineMs } from '../../support/wait.js';

export { deadlineMs, waitFor } from '../../support/wait.js';

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
