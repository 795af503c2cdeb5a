/**
 * A hub replica's part in the cluster: membership (heartbeats, who is alive), endpoint
 * leases (who delivers what) and session claims (one live session per identity), all over
 * the shared key-value store of the JetStream backend. The hub sees only its two seams:
 * EndpointOwnership and SessionDirectory.
 */
import type { Hub } from '../hub/hub.js';
import type { WatchableKeyValue } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { ClusterView } from './cluster-view.js';
import { EndpointLeases, type LeaseEvent } from './endpoint-leases.js';
import { Membership } from './membership.js';
import { SessionClaims } from './session-claims.js';

export type { LeaseEvent } from './endpoint-leases.js';
export { EndpointLeases } from './endpoint-leases.js';
export { Membership } from './membership.js';
export { SessionClaims } from './session-claims.js';

export interface CoordinationOptions {
  readonly kv: WatchableKeyValue;
  readonly replica: string;
  readonly clock?: Clock;
  /** Published in the member key for other replicas and tools (e.g. this replica's MQTT address). */
  readonly info?: Record<string, unknown>;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
  /** Test and drill overrides of the timing bounds in limits.ts. */
  readonly timing?: {
    heartbeatMs?: number;
    memberTtlMs?: number;
    selfFenceMs?: number;
    grantWaitMs?: number;
  };
}

export interface Coordination {
  readonly membership: Membership;
  readonly leases: EndpointLeases;
  readonly sessions: SessionClaims;
  /** The workload keys (deployment, assignment, node states) as this replica sees them. */
  readonly view: ClusterView;
  /** Connects the hub: superseded local sessions are closed when another replica claims them. */
  attach(hub: Hub): Promise<void>;
  status(): ClusterStatus;
  close(): Promise<void>;
}

export interface ClusterStatus {
  readonly replica: string;
  readonly fenced: boolean;
  /** Replicas whose heartbeat is current, this one included. */
  readonly alive: readonly string[];
  /** Endpoint streams this replica delivers now. */
  readonly leases: readonly string[];
}

export async function startCoordination(o: CoordinationOptions): Promise<Coordination> {
  const membership = new Membership({
    kv: o.kv,
    replica: o.replica,
    clock: o.clock,
    info: o.info,
    log: o.log,
    ...o.timing,
  });
  // Leases hear the membership's watch from its first entry on: created before it starts.
  const leases = new EndpointLeases({
    kv: o.kv,
    membership,
    clock: o.clock,
    log: o.log,
    grantWaitMs: o.timing?.grantWaitMs,
  });
  const view = new ClusterView(membership);
  await membership.start();
  leases.start();
  const sessions = new SessionClaims(o.kv, o.replica);
  // One line per ownership change, in a fixed shape: people read it, and the cluster tests
  // parse it to prove that no endpoint was delivered by two replicas at once.
  for (const what of ['acquired', 'released', 'lost'] as const) {
    leases.on(what, (e: LeaseEvent) =>
      o.log?.(
        what === 'lost' ? 'warn' : 'info',
        `lease ${what} stream=${e.stream} atMs=${e.atMs} (${e.detail})`,
      ),
    );
  }
  return {
    membership,
    leases,
    sessions,
    view,
    attach: (hub) => sessions.start((identity, session) => hub.sessionClaimed(identity, session)),
    status: () => ({
      replica: o.replica,
      fenced: membership.fenced,
      alive: membership.alive(),
      leases: leases.held().sort(),
    }),
    close: async () => {
      sessions.stop();
      leases.stop();
      await membership.close();
    },
  };
}
