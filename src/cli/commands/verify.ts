/**
 * `warden verify`: recomputes the hash chain. Exit 0 when intact; 1 naming the first bad position.
 */
import type { Command } from 'commander';
import { addStoreOption, openStoreFromFlags, setupLogging } from '../options.ts';

export function register(program: Command): void {
  const cmd = program.command('verify').description('check that the event log is intact (hash chain)');
  addStoreOption(cmd);
  cmd.action(async (flags: { store?: string; logLevel?: string }) => {
    setupLogging(flags);
    const store = await openStoreFromFlags(flags);
    try {
      const verdict = await store.verify();
      if (verdict.ok) {
        process.stdout.write(`ok: ${verdict.checked} events, chain intact (${store.location})\n`);
      } else {
        process.stdout.write(`broken at position ${verdict.firstBadPosition}: ${verdict.reason} (${store.location})\n`);
        process.exitCode = 1;
      }
    } finally {
      await store.close();
    }
  });
}
