/**
 * `GET /api/v1/monitor[?filter=<device or module>]`: every message the hub stores, as NDJSON,
 * while the client stays. Events come synchronously from the hub, so a slow reader cannot be
 * waited for: past a buffer bound events are skipped and the count is said in the stream.
 */
import type { RoutedEvent } from '../hub/hub.js';
import { limits } from '../limits.js';
import type { ApiRoute } from './router.js';
import { startStream } from './streaming.js';
import type { MonitorEvent, MonitorSkipped } from './types.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The body as text when it is UTF-8 (cut on a character boundary), else base64. */
export function renderBody(
  body: Uint8Array,
  maxBytes = limits.monitorBodyBytesMax,
): {
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  bodyBytes: number;
  bodyTruncated: boolean;
} {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const truncated = bytes.length > maxBytes;
  if (!isUtf8(bytes)) {
    const cut = truncated ? bytes.subarray(0, maxBytes) : bytes;
    return {
      body: cut.toString('base64'),
      bodyEncoding: 'base64',
      bodyBytes: bytes.length,
      bodyTruncated: truncated,
    };
  }
  let end = truncated ? maxBytes : bytes.length;
  // Back off over UTF-8 continuation bytes (10xxxxxx) so the cut falls between characters.
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return {
    body: bytes.subarray(0, end).toString('utf8'),
    bodyEncoding: 'utf8',
    bodyBytes: bytes.length,
    bodyTruncated: truncated,
  };
}

export function toMonitorEvent(e: RoutedEvent): MonitorEvent {
  const { message, source } = e;
  return {
    time: message.systemProperties.enqueuedTime ?? new Date().toISOString(),
    source: source.kind === 'module' ? `${source.deviceId}/${source.moduleId}` : source.deviceId,
    ...(source.kind === 'module' ? { output: source.outputName } : {}),
    to: [...e.streams],
    messageId: message.id,
    properties: message.properties,
    systemProperties: message.systemProperties,
    ...renderBody(message.body),
  };
}

/** A filter names a device, a module (`m` or `device/m`): it matches what it sent or what goes to it. */
export function matchesFilter(e: RoutedEvent, filter: string | null): boolean {
  if (filter === null || filter === '') return true;
  const s = e.source;
  if (s.deviceId === filter) return true;
  if (s.kind === 'module' && (s.moduleId === filter || `${s.deviceId}/${s.moduleId}` === filter)) return true;
  const moduleId = filter.includes('/') ? filter.slice(filter.indexOf('/') + 1) : filter;
  return e.streams.some((stream) => stream.startsWith(`module/${moduleId}/`));
}

export const monitorRoutes: readonly ApiRoute[] = [
  {
    method: 'GET',
    pattern: /^\/api\/v1\/monitor$/,
    handler: async ({ hub }, { res, query, signal }) => {
      const filter = query.get('filter');
      let skipped = 0;
      const onRouted = (e: RoutedEvent): void => {
        if (!matchesFilter(e, filter)) return;
        // Reuses the per-socket bound of MQTT delivery: a reader this far behind is not reading.
        if (res.writableLength > limits.socketWriteBufferBytesMax) {
          skipped++;
          return;
        }
        if (skipped > 0) {
          res.write(`${JSON.stringify({ skipped } satisfies MonitorSkipped)}\n`);
          skipped = 0;
        }
        res.write(`${JSON.stringify(toMonitorEvent(e))}\n`);
      };
      // Listening before the headers go out: a client that saw them sees every later message.
      hub.events.on('routed', onRouted);
      startStream(res, 'application/x-ndjson');
      try {
        if (!signal.aborted)
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      } finally {
        hub.events.off('routed', onRouted);
      }
      return { streamed: true };
    },
  },
];
