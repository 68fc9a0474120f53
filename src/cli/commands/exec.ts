/**
 * `warden exec [options] CMD...`: one command through the whole approval flow, as transparent a
 * wrapper as `sudo` or `timeout`: warden's options stop at the first word that is not one, the
 * command reads warden's stdin, its output streams through as it comes (the record keeps capped
 * excerpts), SIGINT/SIGTERM/SIGHUP go to the command, and its exit code is warden's. A denial exits
 * 126, an abort 130, a timeout 124, and a run that could not happen 125, each with one line on stderr.
 */
import { realpathSync } from 'node:fs';
import type { Command } from 'commander';
import { isatty, ReadStream } from 'node:tty';
import { runRequest, type RequestResult } from '../../requests/runRequest.ts';
import { createRuntime } from '../runtime.ts';
import { createTtyChannel, nobodyChannel } from '../ttyChannel.ts';
import type { PersonChannel } from '../../requests/personChannel.ts';
import { describeStoreLocation, resolveStoreLocation } from '../../events/openStore.ts';
import {
  addPolicyOptions,
  addStoreOption,
  buildPolicy,
  ownPaths,
  defaultSessionId,
  openStoreFromFlags,
  origin,
  setupLogging,
  positiveNumber,
  type PolicyFlags,
} from '../options.ts';
import { ConfigError } from '../../errors.ts';
import { recoverStore } from '../recovery.ts';
import { defaultRulesPath } from '../../safety/ruleFile.ts';
import { startSandboxDetection } from '../../sandbox/platform.ts';
import { MAX_TIMEOUT_MS } from '../../sandbox/types.ts';

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

/** The signals a person or a supervisor sends to stop a command: the command gets them, not warden. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * The decision timeout in seconds: the flag, else WARDEN_DECISION_TIMEOUT, else none. A bad value
 * in either stops the command before anything is recorded.
 */
export function decisionTimeoutSeconds(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (flag !== undefined) return positiveNumber(flag, '--decision-timeout');
  const fromEnv = env.WARDEN_DECISION_TIMEOUT;
  if (fromEnv === undefined || fromEnv.trim() === '') return undefined;
  return positiveNumber(fromEnv, 'WARDEN_DECISION_TIMEOUT');
}

/**
 * Without a terminal and with a decision timeout, nobody here can answer but someone elsewhere can
 * (`warden approve`, the inspector): this channel only says so on stderr and never answers itself;
 * the decider's store watch or its timeout (a denial recorded with source `timeout`) ends the wait.
 */
function elsewhereChannel(stderr: NodeJS.WritableStream, seconds: number, store: string): PersonChannel {
  return {
    ask: (input) => {
      stderr.write(
        `warden: ${input.request.command?.join(' ') ?? 'this request'} needs a decision; waiting up to ${seconds} s for one from \`warden approve --store ${store}\` or \`warden inspect\`\n`,
      );
      return new Promise(() => undefined);
    },
  };
}

/** The exit status and the one line a person reads on stderr. */
export function exitFor(result: RequestResult): { code: number; line: string | null } {
  const ctx = result.context;
  const run = ctx.execution ?? ctx.sandboxRun;
  switch (result.finalState) {
    case 'rejected':
      return { code: EXIT_DENIED, line: `warden: not run: ${ctx.failure ?? 'denied'}` };
    case 'aborted':
      // "aborted by root", not "aborted: aborted by root"
      return { code: EXIT_ABORTED, line: `warden: ${ctx.failure?.startsWith('aborted') ? ctx.failure : `aborted: ${ctx.failure ?? 'the request'}`}` };
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
    .argument('<command...>', 'the command and its arguments (warden\'s options stop at the first word that is not one; `--` also ends them)')
    .option('--session <id>', 'session id (default: $WARDEN_SESSION, else this terminal session)')
    .option('--rules <file>', 'user rules file (default $XDG_CONFIG_HOME/warden/rules.toml)')
    .option('--timeout <seconds>', 'kill the command after this many seconds (exit 124)')
    .option('--decision-timeout <seconds>', 'deny when nobody decides within this time (default $WARDEN_DECISION_TIMEOUT); without a terminal, wait this long for `warden approve` or the inspector instead of denying at once')
    .option('--justification <text>', 'why the command is needed (shown when asking)')
    .option('--escalate', 'request to run without the sandbox (asks under on-request)')
    .option('--request <id>', "run a request a client's hook handed to warden (`warden init` installs that hook): approved, not yet run, for exactly this command and directory; used once");
  addPolicyOptions(cmd);
  addStoreOption(cmd);
  // `warden exec ls -la`: -la is the command's, not warden's (main.ts enables positional options).
  cmd.passThroughOptions();
  cmd.action(async (command: string[], flags: ExecFlags) => {
    setupLogging(flags);
    const policy = buildPolicy(flags, { own: ownPaths(flags) });
    const timeoutSeconds = positiveNumber(flags.timeout, '--timeout');
    if (timeoutSeconds !== undefined && timeoutSeconds * 1000 > MAX_TIMEOUT_MS) throw new ConfigError(`--timeout must be at most ${MAX_TIMEOUT_MS / 1000} seconds, got '${flags.timeout}'`);
    const decisionTimeout = decisionTimeoutSeconds(flags.decisionTimeout);
    void startSandboxDetection(); // the bwrap probe runs while the store opens (createRuntime awaits it)
    const store = await openStoreFromFlags(flags, { create: true });
    try {
      await recoverStore(store);
      // isatty(0), not process.stdin.isTTY: building process.stdin over a pipe makes the shared fd
      // non-blocking, and the command that inherits it would then fail its reads with EAGAIN.
      const onTerminal = isatty(0) && process.stdin instanceof ReadStream;
      const channel = onTerminal
        ? createTtyChannel(process.stdin as ReadStream, process.stderr, {
            rulesPath: flags.rules ?? defaultRulesPath(),
            decisionTimeoutMs: decisionTimeout === undefined ? null : decisionTimeout * 1000,
          })
        : decisionTimeout !== undefined
          ? elsewhereChannel(process.stderr, decisionTimeout, describeStoreLocation(resolveStoreLocation({ flag: flags.store })))
          : nobodyChannel;
      const runtime = await createRuntime({
        store,
        rulesPath: flags.rules,
        channel,
        decisionTimeoutMs: decisionTimeout === undefined ? null : decisionTimeout * 1000,
        runOptions: { stdin: 'inherit', tee: { stdout: process.stdout, stderr: process.stderr }, forwardSignals: FORWARDED_SIGNALS },
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
          ...(timeoutSeconds ? { timeoutMs: Math.max(1, Math.round(timeoutSeconds * 1000)) } : {}),
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

/** One line on stderr when warden has something to say, and the exit status (the output streamed as it came). */
function report(result: RequestResult): void {
  if (result.storeError) {
    process.stderr.write(`warden: the store refused a write (${String((result.storeError as Error).message ?? result.storeError)}); nothing further was run\n`);
  }
  const { code, line } = exitFor(result);
  if (line) process.stderr.write(`${line}\n`);
  process.exitCode = result.storeError && result.finalState !== 'completed' ? EXIT_NOT_RUN : code;
}
