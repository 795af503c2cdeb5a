import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { isTandemError } from '../../../src/errors.js';
import { ensureHubTls, type HubTls } from '../../../src/tls/ca.js';

const run = promisify(execFile);
const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = Date.now();
const clock = () => NOW;

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-tls-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/** Days between two certificate dates, rounded: the backdating of notBefore is under an hour. */
function days(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS);
}

describe('ensureHubTls: files and contents', () => {
  let dir: string;
  let first: HubTls;
  before(async () => {
    dir = await tempDir();
    first = await ensureHubTls({ dir, hostNames: ['Hub.Example'], ipAddresses: ['10.0.0.7'], clock });
  });

  it('creates a CA and a server certificate on first start', async () => {
    assert.deepEqual(first.created, { ca: true, serverCert: true });
    assert.equal(first.caPath, join(dir, 'tls', 'ca.pem'));
    assert.equal(await readFile(first.caPath, 'utf8'), first.caPem);
    assert.equal(await readFile(join(dir, 'tls', 'server.pem'), 'utf8'), first.certPem);
    assert.equal(await readFile(join(dir, 'tls', 'server-key.pem'), 'utf8'), first.keyPem);
    assert.match(first.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(createPrivateKey(first.keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('keeps keys private: directory 0700, keys 0600, certificates 0644', async () => {
    assert.equal(await mode(join(dir, 'tls')), 0o700);
    assert.equal(await mode(join(dir, 'tls', 'ca-key.pem')), 0o600);
    assert.equal(await mode(join(dir, 'tls', 'server-key.pem')), 0o600);
    assert.equal(await mode(join(dir, 'tls', 'ca.pem')), 0o644);
    assert.equal(await mode(join(dir, 'tls', 'server.pem')), 0o644);
  });

  it('makes a 10-year CA and a 1-year server certificate for every name', () => {
    const ca = new X509Certificate(first.caPem);
    const server = new X509Certificate(first.certPem);
    assert.equal(ca.ca, true);
    assert.equal(server.ca, false);
    assert.equal(days(ca.validFrom, ca.validTo), 3650);
    assert.equal(days(server.validFrom, server.validTo), 365);
    assert.ok(Date.parse(server.validFrom) <= NOW, 'notBefore is not in the future');
    assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey), 'signed by the CA');
    assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']); // Node lists the EKU: serverAuth only
    assert.equal(
      server.subjectAltName,
      'DNS:hub.example, DNS:localhost, IP Address:10.0.0.7, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
  });

  it('marks the CA cA=true with keyCertSign (read by openssl)', async () => {
    const { stdout } = await run('openssl', [
      'x509',
      '-noout',
      '-ext',
      'basicConstraints,keyUsage',
      '-in',
      first.caPath,
    ]);
    assert.match(stdout, /Basic Constraints: critical\s+CA:TRUE/);
    assert.match(stdout, /Key Usage: critical\s+Certificate Sign/);
  });

  it('passes openssl verify -CAfile ca.pem (strict, as a TLS server for localhost)', async () => {
    const server = join(dir, 'tls', 'server.pem');
    const args = ['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'localhost'];
    const { stdout } = await run('openssl', [...args, '-CAfile', first.caPath, server]);
    assert.equal(stdout.trim(), `${server}: OK`);
  });

  it('reloads the same CA and certificate without rewriting them', async () => {
    const inode = (await stat(first.caPath)).ino;
    const again = await ensureHubTls({ dir, hostNames: ['hub.example.'], ipAddresses: ['10.0.0.7'], clock });
    assert.deepEqual(again.created, { ca: false, serverCert: false });
    assert.equal(again.caPem, first.caPem);
    assert.equal(again.certPem, first.certPem);
    assert.equal(again.keyPem, first.keyPem);
    assert.equal((await stat(first.caPath)).ino, inode);
  });
});

describe('ensureHubTls: reissue and repair', () => {
  it('reissues the server certificate with the same CA when names change', async () => {
    const dir = await tempDir();
    const a = await ensureHubTls({ dir, hostNames: ['a.example'], clock });
    const b = await ensureHubTls({ dir, hostNames: ['b.example'], clock });
    assert.deepEqual(b.created, { ca: false, serverCert: true });
    assert.equal(b.caPem, a.caPem);
    assert.notEqual(b.keyPem, a.keyPem);
    const cert = new X509Certificate(b.certPem);
    assert.equal(cert.checkHost('b.example'), 'b.example');
    assert.equal(cert.checkHost('a.example'), undefined);
    assert.ok(cert.verify(new X509Certificate(a.caPem).publicKey));
    assert.equal(await readFile(join(dir, 'tls', 'server.pem'), 'utf8'), b.certPem);
  });

  it('reissues within 30 days of expiry, not before', async () => {
    const dir = await tempDir();
    const a = await ensureHubTls({ dir, hostNames: [], clock });
    const later = await ensureHubTls({ dir, hostNames: [], clock: () => NOW + 300 * DAY_MS });
    assert.equal(later.certPem, a.certPem);
    const near = await ensureHubTls({ dir, hostNames: [], clock: () => NOW + 340 * DAY_MS });
    assert.deepEqual(near.created, { ca: false, serverCert: true });
    assert.equal(near.caPem, a.caPem);
    const validTo = Date.parse(new X509Certificate(near.certPem).validTo);
    assert.equal(Math.round((validTo - NOW) / DAY_MS), 340 + 365);
  });

  it('reissues a corrupt server certificate and a mismatched key', async () => {
    const dir = await tempDir();
    const a = await ensureHubTls({ dir, hostNames: [], clock });
    await writeFile(join(dir, 'tls', 'server.pem'), 'not a certificate');
    const b = await ensureHubTls({ dir, hostNames: [], clock });
    assert.equal(b.created.serverCert, true);
    assert.equal(b.caPem, a.caPem);
    await writeFile(join(dir, 'tls', 'server-key.pem'), a.keyPem); // the old pair's key
    const c = await ensureHubTls({ dir, hostNames: [], clock });
    assert.equal(c.created.serverCert, true);
  });

  it('tightens a key file that was made world-readable', async () => {
    const dir = await tempDir();
    await ensureHubTls({ dir, hostNames: [], clock });
    await chmod(join(dir, 'tls', 'ca-key.pem'), 0o644);
    await ensureHubTls({ dir, hostNames: [], clock });
    assert.equal(await mode(join(dir, 'tls', 'ca-key.pem')), 0o600);
  });

  it('refuses to replace a CA whose key is missing, leaving ca.pem alone', async () => {
    const dir = await tempDir();
    const a = await ensureHubTls({ dir, hostNames: [], clock });
    await unlink(join(dir, 'tls', 'ca-key.pem'));
    await assert.rejects(ensureHubTls({ dir, hostNames: [], clock }), (err) => {
      assert.ok(isTandemError(err, 'TANDEM_E_TLS'));
      assert.match(err.message, /ca-key\.pem is missing/);
      return true;
    });
    assert.equal(await readFile(a.caPath, 'utf8'), a.caPem);
  });

  it('creates a new CA when only an orphan ca-key.pem is left (crash before ca.pem)', async () => {
    const dir = await tempDir();
    await ensureHubTls({ dir, hostNames: [], clock });
    await unlink(join(dir, 'tls', 'ca.pem'));
    const b = await ensureHubTls({ dir, hostNames: [], clock });
    assert.deepEqual(b.created, { ca: true, serverCert: true });
    assert.ok(new X509Certificate(b.certPem).checkIssued(new X509Certificate(b.caPem)));
  });

  it('rejects invalid host names and IP addresses with TANDEM_E_TLS', async () => {
    const dir = await tempDir();
    for (const opts of [{ hostNames: ['bad_host!'] }, { hostNames: [], ipAddresses: ['fe80::1%eth0'] }]) {
      await assert.rejects(ensureHubTls({ dir, clock, ...opts }), (err) =>
        isTandemError(err, 'TANDEM_E_TLS'),
      );
    }
  });
});

describe('ensureHubTls: a real TLS connection trusting only ca.pem', () => {
  let hub: HubTls;
  let server: tls.Server;
  let port: number;
  before(async () => {
    hub = await ensureHubTls({ dir: await tempDir(), hostNames: ['hub.example'] });
    server = tls.createServer({ key: hub.keyPem, cert: hub.certPem }, (socket) => socket.end('hello'));
    server.on('tlsClientError', () => undefined); // rejected handshakes are the point of some tests
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Connect, read the greeting; resolves with it, or rejects with the client's TLS error. */
  function connect(options: tls.ConnectionOptions): Promise<{ greeting: string; peerSerial: string }> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ...options });
      let greeting = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        greeting += d;
      });
      socket.on('error', reject);
      socket.on('end', () => resolve({ greeting, peerSerial: socket.getPeerCertificate().serialNumber }));
    });
  }

  it('accepts servername localhost', async () => {
    const { greeting, peerSerial } = await connect({ ca: hub.caPem, servername: 'localhost' });
    assert.equal(greeting, 'hello');
    assert.equal(peerSerial, new X509Certificate(hub.certPem).serialNumber);
  });

  it('accepts the configured host name and the 127.0.0.1 IP SAN', async () => {
    assert.equal((await connect({ ca: hub.caPem, servername: 'hub.example' })).greeting, 'hello');
    assert.equal((await connect({ ca: hub.caPem })).greeting, 'hello'); // no SNI: host IP is checked
  });

  it('rejects a servername that is not in the SANs', async () => {
    await assert.rejects(connect({ ca: hub.caPem, servername: 'other.example' }), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('rejects a client that trusts another CA', async () => {
    const other = await ensureHubTls({ dir: await tempDir(), hostNames: [] });
    await assert.rejects(connect({ ca: other.caPem, servername: 'localhost' }), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });
});
