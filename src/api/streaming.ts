/** Long-lived responses (log follow, monitor): chunked bodies that respect a slow reader. */
import { once } from 'node:events';
import type http from 'node:http';

/** Starts a chunked response that stays open; headers go out at once so the client sees it began. */
export function startStream(res: http.ServerResponse, contentType: string): void {
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.flushHeaders();
}

/**
 * Writes and, when the socket's buffer is full, waits for it to drain or for the stream to
 * end: a follow that outruns its reader pauses instead of buffering without bound.
 */
export async function writeOrWait(
  res: http.ServerResponse,
  data: Buffer | string,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted || res.writableEnded || res.destroyed) return;
  if (res.write(data)) return;
  try {
    await once(res, 'drain', { signal });
  } catch {
    // Aborted: the client left or the API is closing; the caller sees signal.aborted.
  }
}
