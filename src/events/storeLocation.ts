/**
 * Where the event store lives, decided once at start: the `--store` flag, else `WARDEN_STORE`, else
 * `$XDG_STATE_HOME/warden/events.db`, else `~/.local/state/warden/events.db`. A `postgres://` or
 * `postgresql://` URL selects the PostgreSQL adapter, anything else is an SQLite file path. Pure.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** Resolves the location; `home` is injectable for tests (defaults to os.homedir()). */
export function resolveStoreLocation(
  options: { flag?: string; env?: NodeJS.ProcessEnv; home?: string; cwd?: string } = {},
): StoreLocation {
  const env = options.env ?? process.env;
  const explicit = nonEmpty(options.flag) ?? nonEmpty(env.WARDEN_STORE);
  if (explicit !== undefined) {
    if (isPostgresUrl(explicit)) return { kind: 'postgres', url: explicit };
    return { kind: 'sqlite', path: resolve(options.cwd ?? process.cwd(), expandHome(explicit, options.home)) };
  }
  // XDG: a relative XDG_STATE_HOME is invalid and must be ignored.
  const xdg = nonEmpty(env.XDG_STATE_HOME);
  if (xdg !== undefined && isAbsolute(xdg)) return { kind: 'sqlite', path: join(xdg, 'warden', 'events.db') };
  return { kind: 'sqlite', path: join(options.home ?? homedir(), '.local', 'state', 'warden', 'events.db') };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function expandHome(path: string, home: string | undefined): string {
  if (path === '~') return home ?? homedir();
  if (path.startsWith('~/')) return join(home ?? homedir(), path.slice(2));
  return path;
}

/** The location as safe to print: a URL's password is replaced with `***`. */
export function describeStoreLocation(location: StoreLocation): string {
  return location.kind === 'sqlite' ? location.path : redactUrl(location.url);
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}
