/**
 * The subject alternative names the hub's server certificate must carry, normalised so a
 * set read back from a certificate compares equal to the set asked for.
 */
import { isIP, isIPv4 } from 'node:net';
import { TandemError } from '../errors.js';

/** Sorted, de-duplicated, normalised names; DNS lower-case, IPs in one canonical text form. */
export interface SubjectAltNames {
  readonly dns: readonly string[];
  readonly ip: readonly string[];
}

/** Always present so local tools and modules on the same box can connect without configuration. */
const ALWAYS_DNS = ['localhost'];
const ALWAYS_IP = ['127.0.0.1', '::1'];

/** RFC 1123 label: letters, digits, hyphen, not at either end, 1–63 characters. */
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** RFC 1035 bound on a whole name (without the trailing dot). */
const DNS_NAME_CHARS_MAX = 253;

/**
 * Canonical text of an IP address. IPv6 goes through the URL parser because the same address
 * has many spellings (`::1`, `0:0:0:0:0:0:0:1`), and because @peculiar/x509 mis-encodes the
 * dotted-quad tail of `::ffff:1.2.3.4`; the canonical form has no dotted tail.
 */
export function normalizeIp(ip: string): string | undefined {
  if (isIPv4(ip)) return ip;
  // A zone id (fe80::1%eth0) is local to one host and cannot be put in a certificate.
  if (isIP(ip) !== 6 || ip.includes('%')) return undefined;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** Lower-case, no trailing dot, or undefined when it is not a host name a client could match. */
export function normalizeDnsName(name: string): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n.length === 0 || n.length > DNS_NAME_CHARS_MAX) return undefined;
  return n.split('.').every((label) => DNS_LABEL.test(label)) ? n : undefined;
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/**
 * The names the server certificate must carry for the given options. A host name that is an IP
 * literal becomes an IP SAN: TLS clients match IP hosts only against IP SANs, never DNS ones.
 */
export function wantedNames(
  hostNames: readonly string[],
  ipAddresses: readonly string[] = [],
): SubjectAltNames {
  const dns: string[] = [...ALWAYS_DNS];
  const ip: string[] = [...ALWAYS_IP];
  for (const host of hostNames) {
    const asIp = normalizeIp(host);
    if (asIp !== undefined) {
      ip.push(asIp);
      continue;
    }
    const asDns = normalizeDnsName(host);
    if (asDns === undefined) {
      throw new TandemError(
        'TANDEM_E_TLS',
        `invalid host name for the hub certificate: ${JSON.stringify(host)}`,
        {
          details: { hostName: host },
        },
      );
    }
    dns.push(asDns);
  }
  for (const addr of ipAddresses) {
    const asIp = normalizeIp(addr);
    if (asIp === undefined) {
      throw new TandemError(
        'TANDEM_E_TLS',
        `invalid IP address for the hub certificate: ${JSON.stringify(addr)}`,
        {
          details: { ipAddress: addr },
        },
      );
    }
    ip.push(asIp);
  }
  return { dns: sortedUnique(dns), ip: sortedUnique(ip) };
}

/** Normalise names read from a certificate; an unparseable one is kept raw so it compares unequal. */
export function namesFromSans(entries: readonly { type: string; value: string }[]): SubjectAltNames {
  const dns: string[] = [];
  const ip: string[] = [];
  for (const { type, value } of entries) {
    if (type === 'dns') dns.push(normalizeDnsName(value) ?? value);
    else if (type === 'ip') ip.push(normalizeIp(value) ?? value);
  }
  return { dns: sortedUnique(dns), ip: sortedUnique(ip) };
}

export function sameNames(a: SubjectAltNames, b: SubjectAltNames): boolean {
  const eq = (x: readonly string[], y: readonly string[]) =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.dns, b.dns) && eq(a.ip, b.ip);
}
