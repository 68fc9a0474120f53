/**
 * Who may use the inspector: the holder of the random token printed by `warden inspect`, from a
 * page served by the inspector itself. Pure checks, each with the attack it stops:
 * - token (query on the page, then an HttpOnly cookie or a header): another local user or a web
 *   page in the browser cannot read or drive the inspector without it;
 * - Host: a DNS-rebinding page (evil.example resolving to 127.0.0.1) sends its own Host;
 * - Origin on POST: a foreign page cannot submit a decision even if the browser attached a cookie.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const COOKIE = 'warden_inspect';
export const HEADER = 'x-warden-token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time comparison; anything missing or of another length is a mismatch. */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (typeof given !== 'string' || given.length === 0) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The origins the inspector is served under (it listens on 127.0.0.1 only). */
export function ownOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

export function hostAllowed(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** A state-changing request must name one of our own origins; a missing Origin is refused too. */
export function originAllowed(origin: string | undefined, port: number): boolean {
  return typeof origin === 'string' && ownOrigins(port).includes(origin);
}

export type Access = { ok: true; fromQuery: boolean } | { ok: false; status: 401 | 403; why: string };

/**
 * The verdict for one request. `queryToken` is accepted only for the page itself (GET /), so the
 * token never needs to appear in API URLs or logs of them.
 */
export function checkAccess(
  token: string,
  port: number,
  req: { method: string; path: string; host?: string; origin?: string; cookie?: string; header?: string; queryToken?: string | null },
): Access {
  if (!hostAllowed(req.host, port)) return { ok: false, status: 403, why: 'unexpected Host header' };
  const fromQuery = req.path === '/' && req.method === 'GET' && tokenMatches(token, req.queryToken);
  const authed = fromQuery || tokenMatches(token, req.header) || tokenMatches(token, cookieValue(req.cookie, COOKIE));
  if (!authed) return { ok: false, status: 401, why: 'missing or wrong token' };
  if (req.method !== 'GET' && req.method !== 'HEAD' && !originAllowed(req.origin, port)) {
    return { ok: false, status: 403, why: 'missing or foreign Origin' };
  }
  return { ok: true, fromQuery };
}
