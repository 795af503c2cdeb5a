/**
 * What a hub replica needs to join a cluster: the JetStream store on the node's nats-server,
 * the honest start-up check of that server (what Tandem can promise with it), and the
 * coordination (membership, endpoint leases, session claims).
 */
import { type ClusterStatus, type Coordination, startCoordination } from '../cluster/index.js';
import { type JetStreamStore, openJetStreamStore } from '../store/jetstream/index.js';
import {
  type Assessment,
  assessmentLines,
  assessServer,
  refusalError,
} from '../store/jetstream/server-facts.js';
import { probeNatsServer } from '../store/jetstream/server-probe.js';
import type { NodeDeclaration } from './cluster-workloads.js';

export interface ClusterOptions {
  /** nats://host:port of the JetStream servers, this node's own first. */
  readonly servers: readonly string[];
  /** This replica's id, unique in the cluster (default: the host name). */
  readonly replica: string;
  /** JetStream replicas of the log and state (default 3). */
  readonly replicas?: number;
  /** nats-server's monitoring URL: tells the peer count and fsync settings exactly. */
  readonly monitorUrl?: string;
  /** Names of the JetStream stream and buckets (default TANDEM); one prefix per Tandem cluster. */
  readonly prefix?: string;
  /** Timing overrides (tests, drills); the defaults are in limits.ts. */
  readonly timing?: {
    heartbeatMs?: number;
    memberTtlMs?: number;
    selfFenceMs?: number;
    nodeDownGraceMs?: number;
  };
  /** What this node offers the scheduler (cpu, memory, labels, devices); unset: the machine's. */
  readonly node?: NodeDeclaration;
}

export interface JoinedCluster {
  readonly store: JetStreamStore;
  readonly coordination: Coordination;
  readonly assessment: Assessment;
  status(): ClusterStatus & { readonly guarantees: readonly string[] };
  close(): Promise<void>;
}

type Log = (level: 'info' | 'warn', message: string) => void;

export async function joinCluster(
  o: ClusterOptions,
  extra: { storeBytesMax?: number; info?: Record<string, unknown>; log: Log },
): Promise<JoinedCluster> {
  const replicas = o.replicas ?? 3;
  const store = await openJetStreamStore({
    servers: o.servers,
    prefix: o.prefix,
    replicas,
    storeBytesMax: extra.storeBytesMax,
    name: `tandem-${o.replica}`,
    log: extra.log,
  });
  try {
    const facts = await probeNatsServer(store.connection, { monitorUrl: o.monitorUrl, replicas });
    const assessment = assessServer(facts);
    const guarantees = assessmentLines(assessment);
    // Said plainly at every start: what this server lets Tandem promise, and what not.
    for (const line of guarantees) extra.log('info', `nats-server: ${line}`);
    const refusal = refusalError(assessment);
    if (refusal) throw refusal;
    const coordination = await startCoordination({
      kv: store.kv,
      replica: o.replica,
      info: extra.info,
      log: extra.log,
      timing: o.timing,
    });
    return {
      store,
      coordination,
      assessment,
      status: () => ({ ...coordination.status(), guarantees }),
      close: async () => {
        await coordination.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
