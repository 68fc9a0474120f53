/**
 * `warden serve`: the MCP stdio server. Everything here is wiring: flags, the store (recovered
 * first), the runtime, `buildServer` and a stdio transport. stdout carries only MCP protocol, so
 * stray console output is sent to stderr. When stdin ends (the client went away) the connection
 * closes: questions still open are denied, calls in progress finish and are recorded, then the
 * store closes.
 */
import { realpathSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { buildServer } from '../../mcp/server.ts';
import { createResponseGuard } from '../../mcp/responseGuard.ts';
import { WardenStdioTransport } from '../../mcp/stdioTransport.ts';
import { createRuntime } from '../runtime.ts';
import { SAVE_NOW } from '../runBundle.ts';
import { addPolicyOptions, addStoreOption, buildPolicy, nonNegativeNumber, positiveNumber, origin, ownPaths, setupLogging, storeCheckOptions, type PolicyFlags } from '../options.ts';
import { describeStoreLocation, openStore, resolveStoreLocation } from '../../events/openStore.ts';
import { recoverStore } from '../recovery.ts';
import { startSandboxDetection } from '../../sandbox/platform.ts';
import { logger } from '../../log.ts';
import { DEFAULT_MIN_DECISION_MS } from '../../mcp/answer.ts';
import { ConfigError } from '../../errors.ts';

interface ServeFlags extends PolicyFlags {
  store?: string;
  logLevel?: string;
  rules?: string;
  decisionTimeout?: string;
  minDecisionMs?: string;
}

export const DEFAULT_DECISION_TIMEOUT_S = 120;
/**
 * The default for a call without a progressToken: the MCP SDKs give up on a request after 60 s
 * unless progress resets their clock, and a client that gave up has nobody to hand the result to.
 */
export const DEFAULT_DECISION_TIMEOUT_WITHOUT_PROGRESS_S = 50;

/**
 * Saves the bundle's V8 code cache now, when this start found none (runBundle.ts SAVE_NOW: a
 * registered symbol, so the launcher's copy of runBundle and the bundle's name the same global):
 * after a tool's first call it holds that call's code too, so the next server's first call compiles
 * less. Costs the first call of a process without a cache one write (~10-30 ms); every other call nothing.
 */
function saveCodeCache(): void {
  const save = (globalThis as Record<symbol, unknown>)[SAVE_NOW];
  if (typeof save === 'function') save();
}

/** stdout belongs to the protocol: anything else that tries to print goes to stderr. */
function guardStdout(): void {
  const toStderr = (...args: unknown[]) => process.stderr.write(`${args.map(String).join(' ')}\n`);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
  console.warn = toStderr;
}

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description('MCP stdio server: tools shell and apply_patch, approvals asked through elicitation')
    .option('--rules <file>', 'user rules file (default $XDG_CONFIG_HOME/warden/rules.toml)')
    .option(
      '--decision-timeout <seconds>',
      `deny when nobody decides within this time (default ${DEFAULT_DECISION_TIMEOUT_S} for a call that carries a progressToken, ` +
        `${DEFAULT_DECISION_TIMEOUT_WITHOUT_PROGRESS_S} for one that does not: most clients give up on a call after 60 s unless progress resets their clock; ` +
        'a value given here applies to every call, so raise the client\'s tool timeout to match)',
    )
    .option(
      '--min-decision-ms <ms>',
      `a client answer sooner than this after the question is the client's own, not a person's: recorded as client-auto, never an approval (default ${DEFAULT_MIN_DECISION_MS}; 0 trusts every answer)`,
    );
  addPolicyOptions(cmd);
  addStoreOption(cmd);
  cmd.action(async (flags: ServeFlags) => {
    guardStdout();
    setupLogging(flags);
    const policy = buildPolicy(flags, { own: ownPaths(flags) });
    const explicitTimeout = positiveNumber(flags.decisionTimeout, '--decision-timeout');
    const decisionTimeoutMs = (explicitTimeout ?? DEFAULT_DECISION_TIMEOUT_S) * 1000;
    const minDecisionMs = nonNegativeNumber(flags.minDecisionMs, '--min-decision-ms', DEFAULT_MIN_DECISION_MS);
    const location = resolveStoreLocation({ flag: flags.store });
    void startSandboxDetection(); // the bwrap probe runs while the store opens (createRuntime awaits it)
    const store = await openStore(location, storeCheckOptions());
    await recoverStore(store);

    // No connection-wide person channel: each tool call brings its own (its client's elicitation).
    const runtime = await createRuntime({ store, rulesPath: flags.rules, decisionTimeoutMs, channel: null });
    const sessionId = `mcp-${randomUUID()}`;
    const guard = createResponseGuard();
    const built = buildServer({
      store,
      effects: runtime.effects,
      policy,
      sessionId,
      defaultCwd: realpathSync(process.cwd()),
      decisionTimeoutMs,
      minDecisionMs,
      ...(explicitTimeout === undefined ? { decisionTimeoutWithoutProgressMs: DEFAULT_DECISION_TIMEOUT_WITHOUT_PROGRESS_S * 1000 } : {}),
      outOfBandHint: `run \`warden approve --store ${describeStoreLocation(location)}\` in a terminal (or use \`warden inspect\`)`,
      origin: (callId, clientCallId) => origin('mcp', callId, clientCallId),
      unwrapResult: guard.unwrap,
      afterFirstCall: saveCodeCache,
    });

    let closing: Promise<void> | null = null;
    const shutdown = (why: string) => {
      closing ??= (async () => {
        logger().info({ why }, 'closing the MCP connection');
        // Closing the connection first rejects open questions, so waiting calls end as denials.
        await built.server.close().catch((error: unknown) => logger().warn({ err: error }, 'closing the transport failed'));
        await built.idle();
        await store.close();
        process.exit(process.exitCode ?? 0);
      })();
      return closing;
    };
    // main.ts exits at once on EPIPE; here a closed stdout means the client went away, and the open
    // questions must still be closed as denials before exiting, so the connection is shut down instead.
    process.stdout.removeAllListeners('error');
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      logger().info({ code: error.code }, 'stdout closed');
      void shutdown(`stdout error ${error.code ?? ''}`);
    });
    process.stdin.on('end', () => void shutdown('stdin ended'));
    process.stdin.on('close', () => void shutdown('stdin closed'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));

    await built.server.connect(new WardenStdioTransport(process.stdin, process.stdout, { guard }));
    logger().info({ sessionId, store: describeStoreLocation(location), policy }, 'warden MCP server ready on stdio');
  });
}
