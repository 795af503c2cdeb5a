/**
 * Where the cluster keeps its coordination state in the shared key-value store, and how
 * values are encoded (JSON: small, read by people debugging with `nats kv get`).
 */
/** Every coordination key: one watch over them all keeps leases and heartbeats in one order. */
export const clusterPrefix = 'cluster/';
export const memberPrefix = 'cluster/member/';
export const leasePrefix = 'cluster/lease/';
export const claimPrefix = 'cluster/claim/';
/** An endpoint's progress while it is held, apart from its lease (endpoint-leases.ts says why). */
export const checkpointPrefix = 'cluster/checkpoint/';

export const memberKey = (replica: string): string => memberPrefix + replica;
export const leaseKey = (stream: string): string => leasePrefix + stream;
export const claimKey = (identity: string): string => claimPrefix + identity;
export const checkpointKey = (stream: string): string => checkpointPrefix + stream;

export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** The decoded value, or undefined for bytes that are not JSON (written by something else). */
export function decodeJson<T>(bytes: Uint8Array): T | undefined {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The deployment the cluster runs (written by `tandem deploy` through any replica). */
export const deploymentKey = 'cluster/deployment';
/** The scheduler leader's decision: where every instance runs, node conditions, events. */
export const assignmentKey = 'cluster/assignment';
/** A node's maintenance state (cordoned, drained); absent means active. */
export const adminPrefix = 'cluster/admin/';
/** What a node's agent reports: the assignment generation it applied, its modules. */
export const nodeStatusPrefix = 'cluster/nodestatus/';
export const adminKey = (node: string): string => adminPrefix + node;
export const nodeStatusKey = (node: string): string => nodeStatusPrefix + node;
