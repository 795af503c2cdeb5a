/**
 * Where the cluster keeps its coordination state in the shared key-value store, and how
 * values are encoded (JSON: small, read by people debugging with `nats kv get`).
 */
export const memberPrefix = 'cluster/member/';
export const leasePrefix = 'cluster/lease/';
export const claimPrefix = 'cluster/claim/';

export const memberKey = (replica: string): string => memberPrefix + replica;
export const leaseKey = (stream: string): string => leasePrefix + stream;
export const claimKey = (identity: string): string => claimPrefix + identity;

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
