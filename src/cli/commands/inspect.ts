/**
 * `warden inspect [--port N]`: serves the visual inspector on 127.0.0.1 and prints its URL, with
 * the access token, as the first line of stdout (so scripts and tests can read it). Runs until
 * SIGINT/SIGTERM. The server itself lives in src/inspect.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../errors.ts';
import { startInspectServer } from '../../inspect/server.ts';
import { addStoreOption, openStoreFromFlags, setupLogging } from '../options.ts';

interface InspectFlags {
  port?: string;
  store?: string;
  logLevel?: string;
}

export function parsePort(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value)) throw new ConfigError(`--port must be an integer 0-65535, got '${value}'`);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`--port must be an integer 0-65535, got '${value}'`);
  return n;
}

export function register(program: Command): void {
  const cmd = program
    .command('inspect')
    .description('serve the visual inspector (statechart, live requests, timelines, decisions) on 127.0.0.1')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '0');
  addStoreOption(cmd);
  cmd.action(async (flags: InspectFlags) => {
    setupLogging(flags);
    const port = parsePort(flags.port);
    const store = await openStoreFromFlags(flags);
    let server;
    try {
      server = await startInspectServer({ store, port });
    } catch (error) {
      await store.close();
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ConfigError(`--port ${port} is already in use`);
      throw error;
    }
    process.stdout.write(`${server.url}\n`);
    process.stderr.write(`warden inspect: serving ${store.location} at ${server.url.replace(/\?token=.*/, '')} (open the URL printed above; Ctrl-C stops)\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await store.close();
  });
}
