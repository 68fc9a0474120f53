/**
 * The process logger: pino on stderr (fd 2), because stdout carries command output or MCP protocol.
 * Level from --log-level, else WARDEN_LOG, else `warn`; `silent` turns it off.
 */
import { createRequire } from 'node:module';
import type { Logger } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** pino's own level values: a line is written when its level's value is at least the logger's. */
const VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** What warden logs through: pino's methods, of which warden uses these. */
export type Log = Pick<Logger, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'isLevelEnabled' | 'child'>;

let current: Log | null = null;
let configured: string | null = null;

/**
 * pino (and its four dependencies, ~25 ms of a start) is loaded on the first line written, not at
 * import and not for a line below the level: most `exec` and hook runs, and `serve`'s requests at
 * the default level, log only `info` lines that `warn` drops (issue #14: start-up time).
 * Synchronous require, so `logger()` stays a plain function every caller can use at once.
 */
function createLogger(level: string): Logger {
  const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

/** The level's gate in front of pino: a line pino would drop is dropped here, before pino is loaded. */
function gatedLogger(level: string): Log {
  let real: Logger | null = null;
  const load = () => (real ??= createLogger(level));
  const enabled = (at: string) => (VALUES[at] ?? -Infinity) >= (VALUES[level] ?? Infinity);
  const at =
    (name: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace') =>
    (...args: Parameters<Logger['info']>) => {
      if (enabled(name)) load()[name](...args);
    };
  return {
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    isLevelEnabled: enabled,
    // pino's child is generic over custom levels, which warden has none of
    child: ((...args: Parameters<Logger['child']>) => load().child(...args)) as Log['child'],
  };
}

export function resolveLogLevel(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const level = flag ?? env.WARDEN_LOG ?? 'warn';
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new Error(`unknown log level '${level}' (use one of ${LEVELS.join(', ')})`);
  }
  return level;
}

/** Sets the level; the logger itself is made on first use. */
export function configureLogger(level: string): void {
  configured = level;
  current = null;
}

export function logger(): Log {
  return (current ??= gatedLogger(configured ?? resolveLogLevel()));
}
