/**
 * The process logger: pino on stderr (fd 2), because stdout carries command output or MCP protocol.
 * Level from --log-level, else WARDEN_LOG, else `warn`; `silent` turns it off.
 */
import { pino, type Logger } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
let current: Logger | null = null;

export function resolveLogLevel(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const level = flag ?? env.WARDEN_LOG ?? 'warn';
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new Error(`unknown log level '${level}' (use one of ${LEVELS.join(', ')})`);
  }
  return level;
}

export function configureLogger(level: string): Logger {
  current = pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
  return current;
}

export function logger(): Logger {
  return current ?? configureLogger(resolveLogLevel());
}
