/**
 * The documented way to try a three-node cluster on one machine (scripts/try-cluster.sh)
 * works: three nats-servers and three hub replicas start, a device and a module connect,
 * the replica they use is SIGKILLed, and every acknowledged message still reaches the module.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/paths.js';

test('scripts/try-cluster.sh --check: a replica dies, the example device and module carry on', async () => {
  // Sixty ports from a base derived from the pid, clear of the ephemeral range.
  const base = 20_000 + (process.pid % 150) * 60;
  const child = spawn('bash', [path.join(repoRoot, 'scripts/try-cluster.sh'), '--check'], {
    env: { ...process.env, TANDEM_TRY_PORT: String(base), TANDEM_SKIP_BUILD: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, out);
  assert.match(out, /survives the loss of one node/);
  assert.match(out, /module filter: connected to 127\.0\.0\.1:\d+\n[\s\S]*connection lost/);
  assert.match(out, /received all 300/);
  assert.match(out, /check passed/);
});
