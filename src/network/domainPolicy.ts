/**
 * Which hosts a sandboxed command may reach through warden's proxy. Pure: the proxy (proxy.ts) asks
 * `decideHost` before it resolves a name and `decideAddresses` after, and connects only to an address
 * that passed, so a name cannot be re-resolved to something else between check and use (DNS rebinding).
 *
 * Fail closed: a host matches only what is listed. Deny wins over allow. `*.example.com` matches every
 * name below example.com but not example.com itself (list both for both). A raw IP literal is refused
 * unless that address is listed. A name that resolves to loopback, link-local, a private or otherwise
 * special range is refused unless that exact name (not a wildcard) or that address is listed: a public
 * wildcard must not become a way into the host's own services or the local network.
 */
import { isIP } from 'node:net';

export interface DomainLists {
  allow: string[];
  deny: string[];
}

export type HostVerdict = { ok: true; exact: boolean } | { ok: false; reason: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Lower-cased, without a trailing dot; null when it is not a host name or an IP literal. */
export function normalizeHost(raw: string): string | null {
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return null;
  if (isIP(host) !== 0) return host;
  return host.split('.').every((l) => LABEL.test(l)) ? host : null;
}

/** Checks one pattern of a list when it is read (flag, rules file): an error names what is wrong. */
export function parseDomainPattern(raw: string): string {
  const wildcard = raw.startsWith('*.');
  const host = normalizeHost(wildcard ? raw.slice(2) : raw);
  if (host === null) throw new Error(`not a domain name or address: ${JSON.stringify(raw)}`);
  if (wildcard && isIP(host) !== 0) throw new Error(`a wildcard needs a name, not an address: ${JSON.stringify(raw)}`);
  // `*.com` would open a whole top-level domain: a wildcard needs at least two labels under it.
  if (wildcard && !host.includes('.')) throw new Error(`wildcard too broad: ${JSON.stringify(raw)}`);
  return wildcard ? `*.${host}` : host;
}

function matches(pattern: string, host: string): { hit: boolean; exact: boolean } {
  if (pattern.startsWith('*.')) return { hit: host.endsWith(pattern.slice(1)), exact: false };
  return { hit: pattern === host, exact: true };
}

/** Before resolving: is this host (name or literal) allowed at all? */
export function decideHost(lists: DomainLists, rawHost: string): HostVerdict {
  const host = normalizeHost(rawHost);
  if (host === null) return { ok: false, reason: `not a valid host name: ${JSON.stringify(rawHost)}` };
  for (const p of lists.deny) if (matches(p, host).hit) return { ok: false, reason: `${host} is denied (${p})` };
  let exact = false;
  let hit = false;
  for (const p of lists.allow) {
    const m = matches(p, host);
    if (m.hit) {
      hit = true;
      exact ||= m.exact;
    }
  }
  if (!hit) {
    return {
      ok: false,
      reason:
        isIP(host) !== 0 ? `${host} is an address that is not allowed` : `${host} is not in the allowed domains`,
    };
  }
  return { ok: true, exact };
}

/** After resolving: the addresses that may be connected to (possibly none, with the reason). */
export function decideAddresses(
  lists: DomainLists,
  rawHost: string,
  exact: boolean,
  addresses: string[],
): { ok: true; addresses: string[] } | { ok: false; reason: string } {
  const host = normalizeHost(rawHost) ?? rawHost;
  const listed = new Set(lists.allow);
  const usable = addresses.filter((a) => !isSpecialAddress(a) || exact || listed.has(a.toLowerCase()));
  if (usable.length > 0) return { ok: true, addresses: usable };
  if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve` };
  return {
    ok: false,
    reason: `${host} resolves to ${addresses[0]}, a local or private address; list that exact name or address to allow it`,
  };
}

/** Loopback, private, link-local, CGNAT, unspecified, multicast, reserved (v4 and v6, mapped v4 too). */
export function isSpecialAddress(address: string): boolean {
  const kind = isIP(address);
  if (kind === 4) return isSpecialV4(address);
  if (kind !== 6) return true; // not an address at all: never connect to it
  const a = address.toLowerCase();
  const mapped = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a) ?? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return isSpecialV4(mapped[1]!);
  const first = parseInt(a.split(':')[0] || '0', 16);
  if (a === '::' || a === '::1') return true;
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((first & 0xff00) === 0xff00) return true; // multicast
  if (a.startsWith('64:ff9b:') || a.startsWith('2002:') || a.startsWith('2001:db8') || a.startsWith('::')) return true;
  return false;
}

function isSpecialV4(address: string): boolean {
  const [a, b] = address.split('.').map(Number) as [number, number, number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}
