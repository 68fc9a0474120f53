/**
 * The `warden` command line. Only wiring: each sub-command lives in src/cli/commands, and only the
 * one being run is imported (commands/index.ts).
 * stdout is reserved for a command's own output (MCP protocol under `serve`); logs go to stderr.
 */
// First: zod reads its jitless setting when a schema is built, and modules below build theirs.
import './zodJitless.ts';
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerFor } from './commands/index.ts';
import { WardenError } from '../errors.ts';
import { nativeModuleHint } from './nativeModule.ts';

// src/cli/main.ts and dist/cli/main.js both sit two levels below the package root.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('warden')
  .description('Approval and sandbox gateway for AI coding agents')
  .version(version, '-V, --version', 'print the version of warden')
  .showHelpAfterError()
  // A sub-command's options stop where its arguments start (`warden exec ls -la`).
  .enablePositionalOptions()
  .exitOverride();

// A reader that goes away (`warden audit | head`) is not an error worth a stack trace.
// While `exec` streams a command's output its own listener handles that (the command gets SIGPIPE).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE' && process.stdout.listenerCount('error') > 1) return;
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// A function, not top-level await: the command bundles are CommonJS scripts (scripts/build.mjs, so
// V8 can cache their compiled code), which cannot await at the top.
async function main(): Promise<void> {
  try {
    await registerFor(program, process.argv.slice(2));
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
    } else if (error instanceof WardenError) {
      process.stderr.write(`warden: ${nativeModuleHint(error) ?? error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`warden: ${nativeModuleHint(error) ?? (error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
      process.exitCode = 2;
    }
  }
}

void main();
