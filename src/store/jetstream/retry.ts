/**
 * Riding out a stream leader election for the key-value operations and log reads: while a
 * replicated stream has no leader (a few seconds after its server died) a request finds no
 * responders. Such a request did nothing, so it is sent again, within
 * limits.jetstreamAppendTimeoutMs, as an append would wait. A timeout is retried only for
 * reads: a write whose answer was lost may have happened, and a compare-and-set sent again
 * would then report a conflict with itself.
 */
import { limits } from '../../limits.js';
import { isNoResponders, isRetriable } from './failures.js';

const pauseMs = 250;

export async function retryUnavailable<T>(fn: () => Promise<T>, kind: 'read' | 'write'): Promise<T> {
  const deadline = Date.now() + limits.jetstreamAppendTimeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const again = kind === 'read' ? isRetriable(err) : isNoResponders(err);
      if (!again || Date.now() + pauseMs > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
