/**
 * The hub's own certificate authority. On first start `ensureHubTls` creates a CA and a server
 * certificate under `<dataDir>/tls/`; devices trust the hub by trusting `ca.pem`. Later starts
 * reuse both, and reissue only the server certificate (same CA, so devices need nothing new)
 * when the host names change or it nears expiry.
 *
 * The CA is never replaced silently: once `ca.pem` exists devices may have been given it, so a
 * broken or expired CA is an error that names the files, not a new trust root.
 */
import { join } from 'node:path';
import { TandemError } from '../errors.js';
import {
  CERT_FILE_MODE,
  ensurePrivateDir,
  KEY_FILE_MODE,
  readIfExists,
  tightenKeyMode,
  writeFileAtomic,
} from './files.js';
import { type SubjectAltNames, sameNames, wantedNames } from './names.js';
import {
  certNames,
  createCa,
  importSigningKey,
  isCaCert,
  issuedBy,
  issueServerCert,
  keyMatchesCert,
  type LoadedCa,
  parseCert,
} from './x509.js';

// Validity bounds. They belong in src/limits.ts; they are here until the lead moves them.
const DAY_MS = 24 * 60 * 60 * 1000;
/** 10 years: every device holds ca.pem, and replacing the CA means re-provisioning all of them. */
const CA_VALIDITY_DAYS = 3650;
/** 1 year: reissued automatically from the CA, so a short life costs nothing and bounds a leaked key. */
const SERVER_CERT_VALIDITY_DAYS = 365;
/** Reissue at start when less remains, so a hub restarted at least monthly never serves an expired cert. */
const SERVER_CERT_RENEW_BEFORE_DAYS = 30;
/** notBefore is backdated so a device whose clock lags the hub's still accepts a fresh certificate. */
const NOT_BEFORE_BACKDATE_MINUTES = 60;

export interface EnsureHubTlsOptions {
  /** The hub's data directory; TLS files go in `<dir>/tls/`. */
  readonly dir: string;
  /** Names devices use to reach the hub (DNS names; IP literals here become IP SANs too). */
  readonly hostNames: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Current time in epoch milliseconds; tests pass a fake. */
  readonly clock?: () => number;
}

export interface HubTls {
  /** The CA certificate devices must trust (contents of `caPath`). */
  readonly caPem: string;
  /** The server certificate (leaf only: clients trust the CA directly, there is no intermediate). */
  readonly certPem: string;
  /** The server certificate's private key, PKCS#8 PEM. */
  readonly keyPem: string;
  /** Absolute or `dir`-relative path of `ca.pem`, to tell the operator what to copy to devices. */
  readonly caPath: string;
  /** What this call created, so the CLI can say "new CA: distribute ca.pem". */
  readonly created: { readonly ca: boolean; readonly serverCert: boolean };
}

interface TlsPaths {
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

function tlsPaths(tlsDir: string): TlsPaths {
  return {
    caCert: join(tlsDir, 'ca.pem'),
    caKey: join(tlsDir, 'ca-key.pem'),
    serverCert: join(tlsDir, 'server.pem'),
    serverKey: join(tlsDir, 'server-key.pem'),
  };
}

function brokenCa(paths: TlsPaths, problem: string): TandemError {
  return new TandemError(
    'TANDEM_E_TLS',
    `hub CA ${paths.caCert}: ${problem}. Restore ${paths.caCert} and ${paths.caKey} from backup, or ` +
      `remove both to create a new CA (every device must then be given the new ca.pem).`,
    { details: { path: paths.caCert } },
  );
}

/** Create a CA when there is no ca.pem; load and check the existing one otherwise. */
async function loadOrCreateCa(paths: TlsPaths, now: number): Promise<{ ca: LoadedCa; created: boolean }> {
  let certPem = await readIfExists(paths.caCert);
  let keyPem: string | undefined;
  let created = false;
  if (certPem === undefined) {
    // No ca.pem means no device can trust this CA yet, so creating one is safe. A ca-key.pem
    // without ca.pem is what a crash between the two writes leaves, and is overwritten.
    const pair = await createCa(
      new Date(now - NOT_BEFORE_BACKDATE_MINUTES * 60_000),
      new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    );
    // Key first: a crash after it leaves no ca.pem, i.e. the state handled just above.
    await writeFileAtomic(paths.caKey, pair.keyPem, KEY_FILE_MODE);
    await writeFileAtomic(paths.caCert, pair.certPem, CERT_FILE_MODE);
    ({ certPem, keyPem } = pair);
    created = true;
  }
  const cert = parseCert(certPem);
  if (cert === undefined) throw brokenCa(paths, 'not a PEM certificate');
  if (!isCaCert(cert))
    throw brokenCa(paths, 'not a CA certificate (basicConstraints cA / keyCertSign missing)');
  if (cert.notAfter.getTime() <= now) throw brokenCa(paths, `expired at ${cert.notAfter.toISOString()}`);
  keyPem ??= await readIfExists(paths.caKey);
  if (keyPem === undefined) throw brokenCa(paths, `its private key ${paths.caKey} is missing`);
  await tightenKeyMode(paths.caKey);
  if (!keyMatchesCert(keyPem, cert))
    throw brokenCa(paths, `${paths.caKey} is not the key of this certificate`);
  const signingKey = await importSigningKey(keyPem, paths.caKey);
  return { ca: { cert, signingKey, certPem }, created };
}

/** The existing server certificate and key, if they are still right for these names and this CA. */
async function loadServer(
  paths: TlsPaths,
  ca: LoadedCa,
  names: SubjectAltNames,
  now: number,
): Promise<{ certPem: string; keyPem: string } | undefined> {
  const [certPem, keyPem] = await Promise.all([
    readIfExists(paths.serverCert),
    readIfExists(paths.serverKey),
  ]);
  if (certPem === undefined || keyPem === undefined) return undefined;
  // Anything wrong with the server pair is repaired by reissuing it: it is ours to replace.
  const cert = parseCert(certPem);
  if (cert === undefined || !keyMatchesCert(keyPem, cert)) return undefined;
  if (!(await issuedBy(cert, ca.cert))) return undefined;
  if (!sameNames(certNames(cert), names)) return undefined;
  // A clock set back before notBefore makes clients with the same clock reject the cert.
  if (cert.notBefore.getTime() > now) return undefined;
  if (cert.notAfter.getTime() - now <= SERVER_CERT_RENEW_BEFORE_DAYS * DAY_MS) return undefined;
  await tightenKeyMode(paths.serverKey);
  return { certPem, keyPem };
}

/**
 * Make sure `<dir>/tls/` holds a CA and a server certificate valid for `hostNames` and
 * `ipAddresses` (plus localhost, 127.0.0.1 and ::1), creating or reissuing what is needed.
 * Throws TANDEM_E_TLS when a name is invalid, the CA cannot be used, or files cannot be written.
 *
 * One process per data directory: two concurrent calls on a new directory could each create a CA.
 */
export async function ensureHubTls(options: EnsureHubTlsOptions): Promise<HubTls> {
  const now = options.clock?.() ?? Date.now();
  const names = wantedNames(options.hostNames, options.ipAddresses);
  const tlsDir = join(options.dir, 'tls');
  const paths = tlsPaths(tlsDir);
  await ensurePrivateDir(tlsDir);

  const { ca, created: caCreated } = await loadOrCreateCa(paths, now);
  const existing = caCreated ? undefined : await loadServer(paths, ca, names, now);
  if (existing !== undefined) {
    return {
      caPem: ca.certPem,
      ...existing,
      caPath: paths.caCert,
      created: { ca: false, serverCert: false },
    };
  }

  // Never outlive the CA: a chain is only valid while every certificate in it is.
  const notAfter = Math.min(now + SERVER_CERT_VALIDITY_DAYS * DAY_MS, ca.cert.notAfter.getTime());
  const notBefore = now - NOT_BEFORE_BACKDATE_MINUTES * 60_000;
  const server = await issueServerCert(ca, names, new Date(notBefore), new Date(notAfter));
  // Key first: a crash between the writes leaves a mismatched pair, which loadServer reissues.
  await writeFileAtomic(paths.serverKey, server.keyPem, KEY_FILE_MODE);
  await writeFileAtomic(paths.serverCert, server.certPem, CERT_FILE_MODE);
  return {
    caPem: ca.certPem,
    certPem: server.certPem,
    keyPem: server.keyPem,
    caPath: paths.caCert,
    created: { ca: caCreated, serverCert: true },
  };
}
