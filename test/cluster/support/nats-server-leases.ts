/**
 * Whether the local nats-server keeps compare-and-set exclusive across a JetStream leader
 * change. Debian's 2.9.10 does not: in the tests that kill a nats-server or a whole node,
 * two replicas were seen to win a compare-and-set from the same revision of a lease key
 * right after the key-value stream's leader moved (overlaps of 50 ms to 5 s, always in the
 * election). Tandem's lease exclusivity rests on that compare-and-set, so with such a server
 * those two tests report overlaps instead of failing on them; G1-G3 stay asserted. The
 * version threshold is the one the start-up check recommends (server-facts.ts).
 */
import { execFileSync } from 'node:child_process';
import { atLeast, parseServerVersion } from '../../../src/store/jetstream/server-version.js';
import { natsServerPath } from './nats-cluster.js';

export const casHoldsAcrossLeaderChanges = '2.12.3';

export function leaseCheckForNatsFaults(): 'strict' | 'reported' {
  const out = execFileSync(natsServerPath, ['--version'], { encoding: 'utf8' });
  const version = parseServerVersion(out.replace(/^nats-server:\s*v?/, '').trim());
  return version && atLeast(version, casHoldsAcrossLeaderChanges) ? 'strict' : 'reported';
}
