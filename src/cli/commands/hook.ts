/**
 * `warden hook <client>`: warden as a client's pre-/post-tool hook. Reads the client's hook JSON on
 * stdin and answers in its format. Before a tool runs, its call is judged as a warden request
 * (src/hooks/judge.ts); after it ran, its result is recorded. Fail closed: input that does not
 * parse, a store that cannot be reached, a tool warden does not know or a hook that runs out of
 * time all answer with the client's blocking exit code, never with an allow.
 *
 * Started once per tool call, so it loads only what it needs, lazily, after the flags are read.
 */
import type { Command } from 'commander';
import { addPolicyOptions, addStoreOption, type PolicyFlags } from '../options.ts';

interface HookFlags extends PolicyFlags {
  store?: string;
  logLevel?: string;
  rules?: string;
  decisionTimeout?: string;
  ask: string;
}

export const HOOK_CLIENTS = ['claude-code'] as const;
export type HookClient = (typeof HOOK_CLIENTS)[number];

/** The default wait for a decision made with `warden approve` or the inspector (the hook's own timeout must be longer). */
export const DEFAULT_HOOK_DECISION_TIMEOUT_S = 50;
/** Claude Code's exit code that blocks the tool call and hands stderr to the model. */
const CLAUDE_BLOCK = 2;
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_INPUT_BYTES) throw new Error(`the hook input is over ${MAX_INPUT_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Blocks the tool call: one line for the model on stderr, the blocking exit code. */
function block(message: string): never {
  process.stderr.write(`warden: ${message}; the tool call was blocked (fail closed)\n`);
  process.exit(CLAUDE_BLOCK);
}

export function register(program: Command): void {
  const cmd = program
    .command('hook')
    .description("judge a client's own tool calls (its hook JSON on stdin, its answer on stdout); installed by `warden init`")
    .argument('<client>', `the client whose hook format to speak: ${HOOK_CLIENTS.join(', ')}`)
    .option('--ask <where>', 'who asks the person when one must decide: warden (wait for `warden approve` or the inspector) or client (the client\'s own permission prompt)', 'warden')
    .option('--rules <file>', 'user rules file (default $XDG_CONFIG_HOME/warden/rules.toml)')
    .option('--decision-timeout <seconds>', `deny when nobody decides within this time (default ${DEFAULT_HOOK_DECISION_TIMEOUT_S}; keep it below the client's hook timeout)`);
  addPolicyOptions(cmd);
  addStoreOption(cmd);
  cmd.action(async (client: string, flags: HookFlags) => {
    if (!(HOOK_CLIENTS as readonly string[]).includes(client)) block(`unknown client '${client}' (known: ${HOOK_CLIENTS.join(', ')})`);
    if (flags.ask !== 'warden' && flags.ask !== 'client') block(`--ask must be warden or client, got '${flags.ask}'`);
    const timeoutS = Number(flags.decisionTimeout ?? DEFAULT_HOOK_DECISION_TIMEOUT_S);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) block(`--decision-timeout must be a positive number, got '${flags.decisionTimeout}'`);
    // A hook that hangs (a store that never answers) must still deny, before the client gives up on it.
    const watchdog = setTimeout(() => block(`warden's hook did not finish within ${timeoutS + 20} s`), (timeoutS + 20) * 1000);
    watchdog.unref();
    try {
      await runClaudeCodeHook(flags, timeoutS);
    } catch (error) {
      block(error instanceof Error ? error.message : String(error));
    }
  });
}

async function runClaudeCodeHook(flags: HookFlags, timeoutS: number): Promise<void> {
  const text = await readStdin();
  const [{ ClaudeHookInput, claudeCall, claudeAnswer, claudeOutcome }, { setupLogging, buildPolicy, origin }] = await Promise.all([
    import('../../hooks/claudeCode.ts'),
    import('../options.ts'),
  ]);
  setupLogging(flags);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('the hook input is not JSON');
  }
  const parsed = ClaudeHookInput.safeParse(json);
  if (!parsed.success) throw new Error(`the hook input is not a Claude Code hook event (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? 'invalid'})`);
  const input = parsed.data;
  const event = input.hook_event_name;
  if (event !== 'PreToolUse' && event !== 'PostToolUse' && event !== 'PostToolUseFailure') {
    if (event.startsWith('Pre')) throw new Error(`warden does not handle the hook event ${event}`);
    return; // an observation warden does not record
  }
  const policy = buildPolicy(flags);
  const sessionId = `claude-code:${input.session_id}`;

  const { openStore, resolveStoreLocation, describeStoreLocation } = await import('../../events/openStore.ts');
  const location = resolveStoreLocation({ flag: flags.store });
  const store = await openStore(location);
  try {
    if (event !== 'PreToolUse') {
      const { requestForCall, recordClientRun } = await import('../../hooks/handOff.ts');
      if (!input.tool_use_id) return;
      const events = await requestForCall(store, sessionId, input.tool_use_id);
      if (events) await recordClientRun(store, events, claudeOutcome(input));
      return;
    }
    const [{ readFileSync }, { createRuntime }, { judge }, { clientProcessId }] = await Promise.all([
      import('node:fs'),
      import('../runtime.ts'),
      import('../../hooks/judge.ts'),
      import('../../hooks/owner.ts'),
    ]);
    const readCurrent = (path: string) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return null;
      }
    };
    const call = claudeCall(input, readCurrent);
    const runtime = (platform?: 'none') =>
      createRuntime({ store, rulesPath: flags.rules, channel: null, decisionTimeoutMs: timeoutS * 1000, ...(platform ? { platformSandbox: platform } : {}) });
    const [sandboxed, clientRun] = await Promise.all([runtime(), runtime('none')]);
    const hint = `run \`warden approve --store ${describeStoreLocation(location)}\` in a terminal (or use \`warden inspect\`)`;
    const verdict = await judge(
      call,
      {
        store,
        sandboxedEffects: sandboxed.effects,
        clientEffects: clientRun.effects,
        policy,
        sessionId,
        origin: { ...origin('hook:claude-code', undefined, input.tool_use_id), pid: clientProcessId() },
        askClient: flags.ask === 'client',
        outOfBandHint: hint,
      },
      true,
    );
    const execPrefix = [process.execPath, process.argv[1]!, 'exec', ...(flags.store ? ['--store', flags.store] : []), '--decision-timeout', String(timeoutS)];
    process.stdout.write(`${JSON.stringify(claudeAnswer(verdict, call, input, { execPrefix }))}\n`);
  } finally {
    await store.close();
  }
}
