/**
 * `warden exec -- CMD...`: one command through the whole approval flow from a terminal. The
 * command's exit code passes through; a denial exits 126, an abort 130, a timeout 124, and a run
 * that could not happen 125, each with one line on stderr.
 */
import { realpathSync } from 'node:fs';
import type { Command } from 'commander';
import { ReadStream } from 'node:tty';
import { runRequest, type RequestResult } from '../../requests/runRequest.ts';
import { createRuntime } from '../runtime.ts';
import { createTtyChannel, nobodyChannel } from '../ttyChannel.ts';
import {
  addPolicyOptions,
  addStoreOption,
  buildPolicy,
  ownPaths,
  defaultSessionId,
  openStoreFromFlags,
  origin,
  setupLogging,
  type PolicyFlags,
} from '../options.ts';
import { ConfigError } from '../../errors.ts';
import { recoverStore } from '../recovery.ts';
import { defaultRulesPath } from '../../safety/rules.ts';

interface ExecFlags extends PolicyFlags {
  session?: string;
  store?: string;
  logLevel?: string;
  rules?: string;
  timeout?: string;
  decisionTimeout?: string;
  justification?: string;
  escalate?: boolean;
  request?: string;
}

export const EXIT_DENIED = 126;
export const EXIT_ABORTED = 130;
export const EXIT_TIMEOUT = 124;
export const EXIT_NOT_RUN = 125;

export function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${flag} must be a positive number, got '${value}'`);
  return n;
}

/** The exit status and the one line a person reads on stderr. */
export function exitFor(result: RequestResult): { code: number; line: string | null } {
  const ctx = result.context;
  const run = ctx.execution ?? ctx.sandboxRun;
  switch (result.finalState) {
    case 'rejected':
      return { code: EXIT_DENIED, line: `warden: not run: ${ctx.failure ?? 'denied'}` };
    case 'aborted':
      return { code: EXIT_ABORTED, line: `warden: aborted: ${ctx.failure ?? 'aborted'}` };
    case 'failed':
      if (run?.timedOut) return { code: EXIT_TIMEOUT, line: `warden: timed out after ${Math.round(run.durationMs)} ms; the process group was killed` };
      return { code: EXIT_NOT_RUN, line: `warden: failed: ${run?.error ?? ctx.failure ?? 'the command could not run'}` };
    case 'completed': {
      const denial = run?.denial.denied ? `warden: the sandbox denied ${run.denial.what ?? 'an operation'}` : null;
      if (run?.exitCode !== null && run?.exitCode !== undefined) return { code: run.exitCode, line: denial };
      if (run?.signal) return { code: 128 + signalNumber(run.signal), line: denial ?? `warden: killed by ${run.signal}` };
      return { code: 0, line: denial };
    }
  }
}

function signalNumber(signal: string): number {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15, SIGSYS: 31 };
  return table[signal] ?? 0;
}

export function register(program: Command): void {
  const cmd = program
    .command('exec')
    .description('run one command through the approval flow, asking on this terminal when needed')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--session <id>', 'session id (default: $WARDEN_SESSION, else this terminal session)')
    .option('--rules <file>', 'user rules file (default $XDG_CONFIG_HOME/warden/rules.toml)')
    .option('--timeout <ms>', 'kill the command after this many milliseconds')
    .option('--decision-timeout <seconds>', 'deny when nobody decides within this time')
    .option('--justification <text>', 'why the command is needed (shown when asking)')
    .option('--escalate', 'request to run without the sandbox (asks under on-request)')
    .option('--request <id>', "run a request a client's hook handed to warden (`warden init` installs that hook): approved, not yet run, for exactly this command and directory; used once");
  addPolicyOptions(cmd);
  addStoreOption(cmd);
  cmd.action(async (command: string[], flags: ExecFlags) => {
    setupLogging(flags);
    const policy = buildPolicy(flags, { own: ownPaths(flags) });
    const timeoutMs = positiveNumber(flags.timeout, '--timeout');
    const decisionTimeout = positiveNumber(flags.decisionTimeout, '--decision-timeout');
    const store = await openStoreFromFlags(flags);
    try {
      await recoverStore(store);
      const channel =
        process.stdin.isTTY && process.stdin instanceof ReadStream
          ? createTtyChannel(process.stdin, process.stderr, {
              rulesPath: flags.rules ?? defaultRulesPath(),
              decisionTimeoutMs: decisionTimeout === undefined ? null : decisionTimeout * 1000,
            })
          : nobodyChannel;
      const runtime = await createRuntime({
        store,
        rulesPath: flags.rules,
        channel,
        decisionTimeoutMs: decisionTimeout === undefined ? null : decisionTimeout * 1000,
        sandboxNeeded: policy.sandbox !== 'danger-full-access',
      });
      if (flags.request !== undefined) {
        const { runHandedOff, HandOffRefusedError } = await import('../../hooks/handOff.ts');
        try {
          const handed = await runHandedOff(store, flags.request, command, realpathSync(process.cwd()), runtime.effects);
          report(handed);
        } catch (error) {
          if (!(error instanceof HandOffRefusedError)) throw error;
          process.stderr.write(`warden: not run: ${error.message}\n`);
          process.exitCode = EXIT_DENIED;
        }
        return;
      }
      const result = await runRequest({
        store,
        sessionId: flags.session ?? defaultSessionId(),
        request: {
          kind: 'exec',
          command,
          cwd: realpathSync(process.cwd()),
          withEscalatedPermissions: flags.escalate === true,
          ...(flags.justification ? { justification: flags.justification } : {}),
          ...(timeoutMs ? { timeoutMs: Math.round(timeoutMs) } : {}),
          policy,
          origin: origin('exec'),
        },
        effects: runtime.effects,
      });
      report(result);
    } finally {
      await store.close();
    }
  });
}

/** The command's output, one line on stderr when warden has something to say, and the exit status. */
function report(result: RequestResult): void {
  if (result.output) {
    process.stdout.write(result.output.stdout);
    process.stderr.write(result.output.stderr);
  }
  if (result.storeError) {
    process.stderr.write(`warden: the store refused a write (${String((result.storeError as Error).message ?? result.storeError)}); nothing further was run\n`);
  }
  const { code, line } = exitFor(result);
  if (line) process.stderr.write(`${line}\n`);
  process.exitCode = result.storeError && result.finalState !== 'completed' ? EXIT_NOT_RUN : code;
}
