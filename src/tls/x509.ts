/**
 * Certificate creation and inspection with @peculiar/x509 over Node's WebCrypto. Keys are ECDSA
 * P-256: generated in milliseconds where RSA-2048 takes ~100 ms or more, and accepted by Node's TLS
 * (MQTT.js, the Azure IoT SDK for Node) and OpenSSL (mosquitto_pub --cafile); all three were tried.
 */
// @peculiar/x509 v2 still resolves its services through tsyringe, which throws at import time
// without a Reflect metadata polyfill; this import must stay before the library's.
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { TandemError } from '../errors.js';
import type { SubjectAltNames } from './names.js';
import { namesFromSans } from './names.js';

type CryptoKey = webcrypto.CryptoKey;
// Passed explicitly to every library call rather than relying on the library's global default.
const crypto = webcrypto;

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA loaded from disk: its certificate and the key to sign server certificates with. */
export interface LoadedCa {
  readonly cert: x509.X509Certificate;
  readonly signingKey: CryptoKey;
  readonly certPem: string;
}

export function parseCert(pem: string): x509.X509Certificate | undefined {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    return undefined;
  }
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  // Extractable so the private key can be written to disk as PKCS#8.
  return crypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

async function keyToPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/**
 * Import a PEM private key for signing. Node's parser accepts both PKCS#8 and SEC1 ("EC PRIVATE
 * KEY", what `openssl ecparam -genkey` writes), so a hand-made CA key loads too.
 */
export async function importSigningKey(keyPem: string, path: string): Promise<CryptoKey> {
  try {
    const key = createPrivateKey(keyPem);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error(`key type ${key.asymmetricKeyType} is not ECDSA P-256`);
    }
    const der = key.export({ type: 'pkcs8', format: 'der' });
    return await crypto.subtle.importKey('pkcs8', der, EC_KEY, false, ['sign']);
  } catch (err) {
    throw new TandemError('TANDEM_E_TLS', `${path} is not a usable ECDSA P-256 private key`, {
      cause: err,
      details: { path },
    });
  }
}

/** Whether the private key belongs to the certificate: a pair half-written by a crash does not. */
export function keyMatchesCert(keyPem: string, cert: x509.X509Certificate): boolean {
  try {
    const spki = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    return Buffer.from(cert.publicKey.rawData).equals(spki);
  } catch {
    return false;
  }
}

export function isCaCert(cert: x509.X509Certificate): boolean {
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  return bc?.ca === true && ku !== null && (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0;
}

export function certNames(cert: x509.X509Certificate): SubjectAltNames {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return namesFromSans(san?.names.toJSON() ?? []);
}

/** Signed by this CA: the issuer name matches and the CA's key verifies the signature. */
export async function issuedBy(cert: x509.X509Certificate, ca: x509.X509Certificate): Promise<boolean> {
  if (cert.issuer !== ca.subject) return false;
  try {
    return await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }, crypto);
  } catch {
    return false;
  }
}

export async function createCa(notBefore: Date, notAfter: Date): Promise<PemPair> {
  const keys = await generateKeys();
  // A random suffix keeps subjects distinct: a device trusting two hubs' CAs with one subject name
  // could have OpenSSL pick the wrong one by name and fail verification.
  const id = randomBytes(4).toString('hex');
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=Tandem hub CA ${id}, O=Tandem`,
      keys,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        // pathLen 0: this CA only ever signs leaf certificates, never another CA.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
}

export async function issueServerCert(
  ca: LoadedCa,
  names: SubjectAltNames,
  notBefore: Date,
  notAfter: Date,
): Promise<PemPair> {
  const keys = await generateKeys();
  const sans: x509.JsonGeneralName[] = [
    ...names.dns.map((value) => ({ type: 'dns' as const, value })),
    ...names.ip.map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create(
    {
      // Clients match SANs, not the CN; the CN is for humans reading the certificate.
      subject: `CN=${names.dns.find((n) => n !== 'localhost') ?? 'localhost'}, O=Tandem`,
      issuer: ca.cert.subjectName,
      publicKey: keys.publicKey,
      signingKey: ca.signingKey,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        // ECDHE-ECDSA handshakes only need signatures; there is no key encipherment with EC keys.
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(sans, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        // Strict verifiers (OpenSSL -x509_strict, Python 3.13's default) require the AKI.
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
}
