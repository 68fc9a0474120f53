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
 *
 * `approved` holds the names a person allowed when asked (this run, this session, or always from the
 * rules file): each matches exactly, like an exact `allow`, but reaches public addresses only. The
 * person was asked "may it reach registry.npmjs.org?", not "may it reach your local network?": a name
 * an attacker picks and later points at 127.0.0.1 or 169.254.169.254 (DNS rebinding) stays refused.
 *
 * Every refusal says which kind it is (`DomainRefusalKind`): only a name that no list mentions
 * (`not-allowed`) may be put to a person; a denied name, an address, a local answer are not.
 */
import { isIP } from 'node:net';
import type { DomainRefusalKind } from '../policy.ts';

export interface DomainLists {
  allow: string[];
  deny: string[];
  /** Exact names a person allowed when asked: public addresses only. */
  approved?: string[];
}

export type HostVerdict = { ok: true; exact: boolean } | { ok: false; reason: string; kind: DomainRefusalKind };
export type AddressVerdict = { ok: true; addresses: string[] } | { ok: false; reason: string; kind: DomainRefusalKind };

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
  if (host === null) return { ok: false, reason: `not a valid host name: ${JSON.stringify(rawHost)}`, kind: 'invalid' };
  for (const p of lists.deny) if (matches(p, host).hit) return { ok: false, reason: `${host} is denied (${p})`, kind: 'denied' };
  let exact = false;
  let hit = false;
  for (const p of lists.allow) {
    const m = matches(p, host);
    if (m.hit) {
      hit = true;
      exact ||= m.exact;
    }
  }
  // A person's approval opens the name, never the local network behind it: not `exact`.
  if (!hit && isIP(host) === 0 && (lists.approved ?? []).includes(host)) return { ok: true, exact: false };
  if (!hit) {
    return isIP(host) !== 0
      ? { ok: false, reason: `${host} is an address that is not allowed`, kind: 'address' }
      : { ok: false, reason: `${host} is not in the allowed domains`, kind: 'not-allowed' };
  }
  return { ok: true, exact };
}

/** After resolving: the addresses that may be connected to (possibly none, with the reason). */
export function decideAddresses(
  lists: DomainLists,
  rawHost: string,
  exact: boolean,
  addresses: string[],
): AddressVerdict {
  const host = normalizeHost(rawHost) ?? rawHost;
  const listed = new Set(lists.allow);
  const usable = addresses.filter((a) => !isSpecialAddress(a) || exact || listed.has(a.toLowerCase()));
  if (usable.length > 0) return { ok: true, addresses: usable };
  if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve`, kind: 'unresolved' };
  return {
    ok: false,
    reason: `${host} resolves to ${addresses[0]}, a local or private address; list that exact name or address to allow it`,
    kind: 'local-address',
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

/** The lists of a run: every source's entries together (deny still wins over all of them). */
export function mergeDomainLists(...parts: Array<Partial<DomainLists> | undefined>): DomainLists | undefined {
  const present = parts.filter((p): p is Partial<DomainLists> => p !== undefined);
  if (present.length === 0) return undefined;
  const union = (k: keyof DomainLists) => [...new Set(present.flatMap((p) => p[k] ?? []))];
  const approved = union('approved');
  return { allow: union('allow'), deny: union('deny'), ...(approved.length > 0 ? { approved } : {}) };
}
