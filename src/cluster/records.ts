/**
 * What the cluster's workload keys hold (keys.ts names them). JSON, read by people with
 * `nats kv get` as much as by Tandem.
 */
import type { ConditionRecord } from '../core/cluster/node-conditions.js';
import type { Assignment, NodeAdmin } from '../core/placement/model.js';
import type { Waiting } from '../core/placement/place.js';
import type { NodeFacts } from './placement-input.js';

export interface DeploymentRecord {
  readonly manifest: unknown;
  /** Where relative paths of process modules resolve (the same path on every node). */
  readonly baseDir: string;
  readonly hash: string;
  readonly submittedAt: string;
  /** The user accepted a placement that breaks the headroom policy (policy: tolerate 0 losses). */
  readonly acceptDegraded: boolean;
}

export type ClusterEventKind =
  | 'placed'
  | 'failover'
  | 'rebalance'
  | 'stopped'
  | 'waiting'
  | 'unplaced'
  | 'node-down'
  | 'node-recovering'
  | 'node-ready'
  | 'headroom';

export interface ClusterEvent {
  readonly seq: number;
  readonly at: string;
  readonly kind: ClusterEventKind;
  readonly node?: string;
  readonly instance?: string;
  readonly from?: string;
  readonly to?: string;
  readonly reason: string;
}

export interface AssignmentRecord {
  /** Grows by one with every decision. */
  readonly generation: number;
  /** The leader that wrote it, and the revision of its lease take (the fencing token). */
  readonly leader: string;
  readonly token: number;
  readonly deploymentHash: string | null;
  readonly assignment: Assignment;
  readonly waiting: readonly Waiting[];
  readonly unplaced: readonly { readonly instance: string; readonly why: Readonly<Record<string, string>> }[];
  readonly nodes: Readonly<Record<string, ConditionRecord>>;
  /** What each node declared last: a node that is down is still placed against (and shown). */
  readonly facts?: Readonly<Record<string, NodeFacts>>;
  readonly headroom: { readonly ok: boolean; readonly problems: readonly string[] };
  /** The latest events, oldest first (limits.clusterEventsKeptCountMax). */
  readonly events: readonly ClusterEvent[];
}

export interface AdminRecord {
  readonly admin: Exclude<NodeAdmin, 'active'>;
  readonly at: string;
}

export interface NodeStatusRecord {
  readonly generation: number;
  readonly at: string;
  readonly modules: readonly { readonly name: string; readonly state: string; readonly pid?: number }[];
}
