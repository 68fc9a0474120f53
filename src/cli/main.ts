/**
 * The `warden` command line. Only wiring: each sub-command lives in src/cli/commands.
 * stdout is reserved for a command's own output (MCP protocol under `serve`); logs go to stderr.
 */
import { Command, CommanderError } from 'commander';
import { registerAll } from './commands/index.ts';
import { WardenError } from '../errors.ts';

const program = new Command('warden')
  .description('Approval and sandbox gateway for AI coding agents')
  .showHelpAfterError()
  .exitOverride();

// A reader that goes away (`warden audit | head`) is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

await registerAll(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof WardenError) {
    process.stderr.write(`warden: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`warden: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  }
}
