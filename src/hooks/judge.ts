/**
 * Judging one of a client's own tool calls, before it runs: the request goes through the approval
 * machine and store exactly like an MCP or terminal request (same events, same session rules), but
 * stops before the run, because the hook process cannot run it: it must answer the client first.
 * Who runs it is part of the request (`origin.runner`): warden (the client's call is rewritten to
 * `warden exec --request`, which claims and runs it in the sandbox) or the client itself (its tool
 * runs it outside warden's sandbox; the start is claimed here, the result recorded after the tool
 * ran). I/O: appends to the store; waits for an out-of-band decision when one is needed.
 */
import type { EventStore } from '../events/eventStore.ts';
import type { RequestPolicy } from '../events/types.ts';
import type { ApprovalRequest, DecideInput } from '../machines/approval.machine.ts';
import { runRequest, type RequestEffects, type RequestResult } from '../requests/runRequest.ts';
import { StreamJournal } from '../requests/streamJournal.ts';
import { toToolResult } from '../mcp/result.ts';

/** What the client asked to do, in warden's terms. */
export type ClientCall =
  | { kind: 'exec'; command: string[]; cwd: string; timeoutMs?: number; escalate: boolean; justification?: string }
  | { kind: 'patch'; patch: string; cwd: string };

export interface JudgeDeps {
  store: EventStore;
  /** Effects whose classification counts on warden's sandbox (requests warden runs). */
  sandboxedEffects: RequestEffects;
  /** Effects whose classification counts on no sandbox (requests the client's own tool runs). */
  clientEffects: RequestEffects;
  policy: RequestPolicy;
  sessionId: string;
  origin: Omit<ApprovalRequest['origin'], 'runner'>;
  /** Whether a question goes to the client's own prompt (the hook answers `ask`) instead of waiting for `warden approve`. */
  askClient: boolean;
  outOfBandHint: string;
}

export type Verdict =
  /** Approved; rewrite the call to `warden exec --request <id>`, which runs it in warden's sandbox. */
  | { kind: 'run-in-warden'; requestId: string; sentence: string }
  /** Approved; the client's tool runs it as it is (its start is already claimed). */
  | { kind: 'client-runs'; requestId: string; sentence: string }
  /** Not approved; `sentence` is what the model is told. `abort`: the person asked the agent to stop. */
  | { kind: 'deny'; requestId: string | null; sentence: string; abort: boolean }
  /** A person must decide and the client's own prompt asks them; the request waits, recorded as asked. */
  | { kind: 'ask-client'; requestId: string; message: string };

function requestOf(call: ClientCall, deps: JudgeDeps, runner: 'warden' | 'client'): ApprovalRequest {
  const origin = { ...deps.origin, runner, ...(deps.askClient ? { prompt: 'client' as const } : {}) };
  if (call.kind === 'patch') return { kind: 'patch', patch: call.patch, cwd: call.cwd, withEscalatedPermissions: false, policy: deps.policy, origin };
  return {
    kind: 'exec',
    command: call.command,
    cwd: call.cwd,
    withEscalatedPermissions: call.escalate,
    ...(call.justification ? { justification: call.justification } : {}),
    ...(call.timeoutMs ? { timeoutMs: call.timeoutMs } : {}),
    policy: deps.policy,
    origin,
  };
}

function denial(result: RequestResult, deps: JudgeDeps): Verdict {
  const sentence = toToolResult(result, { canAsk: false }).structuredContent.summary;
  return { kind: 'deny', requestId: result.requestId, sentence, abort: result.finalState === 'aborted' };
}

/**
 * Runs the request up to its run. `canRewrite`: the client's hook format can replace the call's
 * input, so warden runs it (commands only; an edit is always applied by the client's tool).
 */
export async function judge(call: ClientCall, deps: JudgeDeps, canRewrite: boolean): Promise<Verdict> {
  // Asked through the client, a command the person approves there runs in the client's own tool,
  // as it is: so every request of such a hook is the client's to run, and classified as unsandboxed.
  const runner = call.kind === 'exec' && canRewrite && !deps.askClient ? 'warden' : 'client';
  const base = runner === 'warden' ? deps.sandboxedEffects : deps.clientEffects;
  let asked: ((input: DecideInput) => void) | null = null;
  const askedClient = new Promise<DecideInput>((resolve) => (asked = resolve));
  // Asking through the client: the question is recorded, then the hook answers `ask` and exits; the
  // request stays open until the after-tool hook (or recovery, once the client is gone) closes it.
  const effects: RequestEffects = deps.askClient
    ? { ...base, decide: (input) => (asked!(input), new Promise(() => {})) }
    : base;
  const running = runRequest({ store: deps.store, sessionId: deps.sessionId, request: requestOf(call, deps, runner), effects, stopBeforeRun: true });
  const first = await Promise.race([running.then((r) => ({ done: r })), askedClient.then((q) => ({ asked: q }))]);
  if ('asked' in first) return { kind: 'ask-client', requestId: first.asked.requestId, message: first.asked.message };

  const result = first.done;
  if (result.storeError) {
    return { kind: 'deny', requestId: result.requestId, sentence: `warden could not record this request (${String((result.storeError as Error)?.message ?? result.storeError)}), so it was not run.`, abort: false };
  }
  if (!result.handedOff) return denial(result, deps);
  if (runner === 'warden') return { kind: 'run-in-warden', requestId: result.requestId, sentence: 'warden approved it; it runs in warden\'s sandbox.' };
  // The client runs it right after this answer: its start is claimed now, so the record shows it
  // running (and recovery closes it as interrupted if the client dies before reporting the result).
  const journal = StreamJournal.resume(deps.store, result.events);
  journal.enqueue(result.handedOff.start);
  await journal.flush();
  return { kind: 'client-runs', requestId: result.requestId, sentence: 'warden approved it; the client runs it.' };
}
