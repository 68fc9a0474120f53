/**
 * `warden hook <client>`: warden as a client's pre-/post-tool hook (Claude Code, Codex, Gemini CLI:
 * src/hooks/<client>.ts). Reads the client's hook JSON on stdin and answers in its format. Before a tool runs, its call is judged as a warden request
 * (src/hooks/judge.ts); after it ran, its result is recorded. Fail closed: input that does not
 * parse, a store that cannot be reached, a tool warden does not know or a hook that runs out of
 * time all answer with the client's blocking exit code, never with an allow.
 *
 * Started once per tool call, so it loads only what it needs, lazily, after the flags are read.
 */
import { isAbsolute } from 'node:path';
import type { Command } from 'commander';
import { addPolicyOptions, addStoreOption, storeCheckOptions, type PolicyFlags } from '../options.ts';
import type { HookFormat } from '../../hooks/format.ts';
import { messageOf } from '../../errors.ts';
import { startSandboxDetection } from '../../sandbox/platform.ts';
import { isRunDirectoryInside } from '../../sandbox/writableRoots.ts';

interface HookFlags extends PolicyFlags {
  store?: string;
  logLevel?: string;
  rules?: string;
  decisionTimeout?: string;
  ask: string;
  runner: string;
}

export const HOOK_CLIENTS = ['claude-code', 'codex', 'gemini'] as const;
export type HookClient = (typeof HOOK_CLIENTS)[number];

/** The default wait for a decision made with `warden approve` or the inspector (the hook's own timeout must be longer). */
export const DEFAULT_HOOK_DECISION_TIMEOUT_S = 50;
/** The exit code that blocks the tool call and hands stderr to the model, in all three clients' formats. */
const BLOCK = 2;
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_INPUT_BYTES) throw new Error(`the hook input is over ${MAX_INPUT_BYTES} bytes`);
    chunks.push(chunk);
  }
  // Not UTF-8 is not a client's hook JSON: decoded leniently, the bytes would become U+FFFD, so the
  // command judged would not be the one a client that reads those bytes otherwise runs.
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new Error('the hook input is not valid UTF-8');
  }
}

/** Blocks the tool call: one line for the model on stderr, the blocking exit code. */
function block(message: string): never {
  process.stderr.write(`warden: ${message}; the tool call was blocked (fail closed)\n`);
  process.exit(BLOCK);
}

export function register(program: Command): void {
  const cmd = program
    .command('hook')
    .description("judge a client's own tool calls (its hook JSON on stdin, its answer on stdout); installed by `warden init`")
    .argument('<client>', `the client whose hook format to speak: ${HOOK_CLIENTS.join(', ')}`)
    .option('--ask <where>', 'who asks the person when one must decide: warden (wait for `warden approve` or the inspector) or client (the client\'s own permission prompt)', 'warden')
    .option('--runner <who>', "who runs an approved command: warden (the call is rewritten to `warden exec --request`, in warden's sandbox) or client (the client's own tool, outside warden's sandbox: judged as unsandboxed)", 'warden')
    .option('--rules <file>', 'user rules file (default $XDG_CONFIG_HOME/warden/rules.toml)')
    .option('--decision-timeout <seconds>', `deny when nobody decides within this time (default ${DEFAULT_HOOK_DECISION_TIMEOUT_S}; keep it below the client's hook timeout)`);
  addPolicyOptions(cmd);
  addStoreOption(cmd);
  cmd.action(async (client: string, flags: HookFlags) => {
    if (!(HOOK_CLIENTS as readonly string[]).includes(client)) block(`unknown client '${client}' (known: ${HOOK_CLIENTS.join(', ')})`);
    if (flags.ask !== 'warden' && flags.ask !== 'client') block(`--ask must be warden or client, got '${flags.ask}'`);
    if (flags.runner !== 'warden' && flags.runner !== 'client') block(`--runner must be warden or client, got '${flags.runner}'`);
    const timeoutS = Number(flags.decisionTimeout ?? DEFAULT_HOOK_DECISION_TIMEOUT_S);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) block(`--decision-timeout must be a positive number, got '${flags.decisionTimeout}'`);
    // A hook that hangs (a store that never answers) must still deny, before the client gives up on it.
    const watchdog = setTimeout(() => block(`warden's hook did not finish within ${timeoutS + 20} s`), (timeoutS + 20) * 1000);
    watchdog.unref();
    try {
      await runHook(client as HookClient, flags, timeoutS);
    } catch (error) {
      block(messageOf(error));
    }
  });
}

async function loadFormat(client: HookClient): Promise<HookFormat<unknown>> {
  switch (client) {
    case 'claude-code':
      return (await import('../../hooks/claudeCode.ts')).claudeFormat as HookFormat<unknown>;
    case 'codex':
      return (await import('../../hooks/codex.ts')).codexFormat as HookFormat<unknown>;
    case 'gemini':
      return (await import('../../hooks/gemini.ts')).geminiFormat as HookFormat<unknown>;
  }
}

async function runHook(client: HookClient, flags: HookFlags, timeoutS: number): Promise<void> {
  const text = await readStdin();
  const [format, { setupLogging, buildPolicy, origin }] = await Promise.all([loadFormat(client), import('../options.ts')]);
  setupLogging(flags);
  // Codex lets an `ask` answer through and runs the call: its questions go to warden approve only.
  if (flags.ask === 'client' && !format.canAsk) throw new Error(`${client}'s hook format cannot hand a question to the client (--ask client)`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('the hook input is not JSON');
  }
  const { raw, input } = format.parse(json);
  // Every path of the call is judged against it (and a rewritten command must run there), so one
  // that is not absolute would be read against wherever this process happens to run.
  if (!isAbsolute(input.cwd)) throw new Error(`the hook input's cwd must be an absolute path, got ${JSON.stringify(input.cwd)}`);
  const policy = buildPolicy(flags);
  const sessionId = `${client}:${input.sessionId}`;
  const surface = `hook:${client}`;

  const { openStore, resolveStoreLocation, describeStoreLocation } = await import('../../events/openStore.ts');
  if (input.phase.phase === 'turn-ended') {
    // Never blocks, whatever fails: exit 2 from Claude Code's Stop keeps the agent going, from Gemini's AfterAgent retries the turn.
    try {
      const store = await openStore(resolveStoreLocation({ flag: flags.store }), storeCheckOptions());
      try {
        const { openClientQuestions, recordClientAnswer } = await import('../../hooks/handOff.ts');
        for (const events of await openClientQuestions(store, sessionId, surface)) {
          await recordClientAnswer(store, events, { refused: 'the turn ended and the client had not run the call (refused in its prompt, or it could not ask)' }, surface);
        }
      } finally {
        await store.close();
      }
    } catch (error) {
      process.stderr.write(`warden: could not close this turn's open questions: ${messageOf(error)}\n`);
    }
    return;
  }
  const location = resolveStoreLocation({ flag: flags.store });
  // A call to judge: the bwrap probe runs while the store opens (createRuntime awaits it).
  if (input.phase.phase === 'before') void startSandboxDetection();
  const store = await openStore(location, storeCheckOptions());
  try {
    if (input.phase.phase !== 'before') {
      const { requestForCall, recordClientRun, recordClientAnswer } = await import('../../hooks/handOff.ts');
      if (!input.callId) return;
      const events = await requestForCall(store, sessionId, input.callId);
      if (!events) return;
      if (input.phase.phase === 'refused') {
        await recordClientAnswer(store, events, { refused: `refused in the client's own permission prompt: ${input.phase.reason}` }, surface);
        return;
      }
      const outcome = format.outcome(raw);
      if (!(await recordClientRun(store, events, outcome))) await recordClientAnswer(store, events, { ran: outcome }, surface);
      return;
    }
    const [{ readFileSync, realpathSync }, { createRuntime }, { judge }, { clientProcessId }] = await Promise.all([
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
    const called = format.call(raw, readCurrent);
    // judged where it runs, as MCP's workdir and `warden exec` are: a symlinked dir_path (`cfg` ->
    // ~/.config/gh) made `cat hosts.yml` a known-safe read of the forge token (rt-classifier).
    // A directory that does not resolve is kept as written (the run then fails in it).
    const realDirectory = (path: string) => {
      try {
        return realpathSync(path);
      } catch {
        return path;
      }
    };
    const call = called.kind === 'exec' ? { ...called, cwd: realDirectory(called.cwd) } : called;
    // the client's workspace is the hook's cwd; a call run elsewhere (Gemini's dir_path: ../..)
    // would make that directory writable under workspace-write (writableRoots.ts isRunDirectoryInside)
    if (policy.sandbox === 'workspace-write' && !isRunDirectoryInside(call.cwd, input.cwd, policy.writableRoots)) {
      throw new Error(`the call runs in ${call.cwd}, outside the workspace ${input.cwd} and its writable roots: under workspace-write that directory would become writable`);
    }
    const runtime = (platform?: 'none') =>
      createRuntime({ store, rulesPath: flags.rules, channel: null, decisionTimeoutMs: timeoutS * 1000, ...(platform ? { platformSandbox: platform } : {}) });
    const [sandboxed, clientRun] = await Promise.all([runtime(), runtime('none')]);
    const hint = `run \`warden approve --store ${describeStoreLocation(location)}\` in a terminal (or use \`warden inspect\`)`;
    // The client's own call id goes in the audit; an id warden derived from the call stays warden's.
    // The owner is the client (every command of the agent descends from it), marked for the decider check.
    const owner = clientProcessId();
    const ids = input.callIdIsClients ? origin(surface, undefined, input.callId, owner) : origin(surface, input.callId, undefined, owner);
    const verdict = await judge(
      call,
      {
        store,
        sandboxedEffects: sandboxed.effects,
        clientEffects: clientRun.effects,
        policy,
        sessionId,
        origin: ids,
        askClient: flags.ask === 'client',
        outOfBandHint: hint,
      },
      format.canRewrite && flags.runner === 'warden',
    );
    const execPrefix = [process.execPath, process.argv[1]!, 'exec', ...(flags.store ? ['--store', flags.store] : []), '--decision-timeout', String(timeoutS)];
    const answer = format.answer(verdict, call, raw, { execPrefix });
    if (answer !== null) process.stdout.write(`${JSON.stringify(answer)}\n`);
  } finally {
    await store.close();
  }
}
