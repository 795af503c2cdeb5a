/** What a client session needs from the hub: the seams between sessions and the rest. */
import type { EventEmitter } from 'node:events';
import type { KeyValue } from '../store/types.js';
import type { Endpoints } from './endpoints.js';
import type { IngressContext } from './ingress.js';
import type { MethodInvoker } from './methods.js';
import type { SessionDirectory } from './session-directory.js';
import type { SessionRegistry } from './session-registry.js';
import type { TwinStore } from './twin-store.js';

export interface HubContext extends IngressContext {
  /** The edge device whose modules `BrokeredEndpoint("/modules/...")` routes address. */
  readonly edgeDeviceId: string;
  readonly endpoints: Endpoints;
  readonly twins: TwinStore;
  readonly methods: MethodInvoker;
  readonly sessions: SessionRegistry;
  readonly kv: KeyValue;
  /** Cluster only: where the one live session per identity is claimed across replicas. */
  readonly sessionDirectory: SessionDirectory | undefined;
  /** What the hub did, for observers (logs, tests): 'subscribed' {identity, kind, filter}. */
  readonly events: EventEmitter;
  /** Logs an operating error that does not end the process. */
  warn(message: string, err?: unknown): void;
}

/** Endpoint streams for cloud-to-device messages of one device. */
export function c2dStream(deviceId: string): string {
  return `c2d/${deviceId}`;
}

/** Prefix of every endpoint stream of one module's inputs (see endpointKey in core/routes). */
export function moduleInputPrefix(moduleId: string): string {
  return `module/${moduleId}/`;
}

/** The module whose input `stream` is, or undefined for other streams (upstream, c2d). */
export function moduleOfInputStream(stream: string): string | undefined {
  if (!stream.startsWith('module/')) return undefined;
  return stream.slice('module/'.length).split('/')[0];
}

/** Messages waiting per module: the sum over the module's input streams. */
export function moduleQueueLengths(
  endpoints: readonly { readonly stream: string; readonly queueLength: number }[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of endpoints) {
    const m = moduleOfInputStream(e.stream);
    if (m !== undefined) out.set(m, (out.get(m) ?? 0) + e.queueLength);
  }
  return out;
}
