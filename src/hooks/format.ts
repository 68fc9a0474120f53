/**
 * What a client's hook format is to warden: how to read its hook JSON, which request a tool call
 * stands for, and how to say warden's verdict in the client's own words. One module per client
 * (claudeCode.ts, codex.ts, gemini.ts) fills this in; `warden hook <client>` (src/cli) runs it.
 * Each field carries what that client's format can and cannot do, because the differences decide
 * safety: a client that cannot rewrite a call cannot have it run in warden's sandbox, and one
 * whose hook cannot answer `ask` must not be told to (Codex lets such an answer through). Pure.
 */
import type { RunResult } from '../sandbox/types.ts';
import type { ClientCall, Verdict } from './judge.ts';

/** How the rewritten command reaches warden again: this node, this warden, the same store. */
export interface Rewriter {
  /** argv prefix of `warden exec`, e.g. [node, /path/bin/warden.js, exec, --store, S]. */
  execPrefix: string[];
}

/** Which part of the tool call's life a hook event is. */
export type HookPhase =
  | { phase: 'before' }
  /** The tool ran (or failed): its result is recorded. */
  | { phase: 'after' }
  /** The client's prompt refused the call warden asked it to ask about. */
  | { phase: 'refused'; reason: string }
  /**
   * The agent's turn ended: a call handed to the client's prompt that the client has not run by
   * now was refused there (or could not be asked, as in a headless run).
   */
  | { phase: 'turn-ended' };

export interface HookInput {
  sessionId: string;
  cwd: string;
  toolName: string;
  /** The client's id for this call, when its hook input carries one; else an id derived from the call. */
  callId: string;
  /** Whether `callId` is the client's own (and so belongs in the audit as client_call_id). */
  callIdIsClients: boolean;
  phase: HookPhase;
}

export interface HookFormat<I> {
  client: 'claude-code' | 'codex' | 'gemini';
  /** Reads the hook JSON; throws on anything that is not this client's hook event (the hook blocks). */
  parse(json: unknown): { raw: I; input: HookInput };
  /** The request a tool call stands for. Throws on a tool or input it does not know (the hook blocks). */
  call(raw: I, readCurrent: (path: string) => string | null): ClientCall;
  /** The format can replace the call's input, so an approved command runs through `warden exec --request` (unless `--runner client`). */
  canRewrite: boolean;
  /** The format has an `ask` answer that the client honours by asking the person. */
  canAsk: boolean;
  /** The answer on stdout (null: print nothing, exit 0, which lets the call run as it is). */
  answer(verdict: Verdict, call: ClientCall, raw: I, rewriter: Rewriter): Record<string, unknown> | null;
  /** What the client's tool did, from an after-tool event. */
  outcome(raw: I): RunResult;
}

/** A hook event that ends the agent's turn: it carries no tool, only the session matters (its open `ask`s are closed). */
export function turnEnded(sessionId: string, cwd: string): HookInput {
  return { sessionId, cwd, toolName: '', callId: '', callIdIsClients: false, phase: { phase: 'turn-ended' } };
}

/** What failed a schema's parse, as the hook's blocking reason names it: the first issue. */
interface ParseFailure {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}

/** The hook JSON is not this client's hook event. */
export function notAHookEvent(client: string, error: ParseFailure): Error {
  return new Error(`the hook input is not a ${client} hook event (${error.issues[0]?.path.join('.') ?? ''}: ${error.issues[0]?.message ?? 'invalid'})`);
}

/** A tool call's input does not fit what warden reads of that tool. */
export function unreadableToolInput(tool: string, error: ParseFailure): Error {
  return new Error(`cannot read the ${tool} tool's input (${error.issues[0]?.message ?? 'invalid'})`);
}

export function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** A run result reported by a client: no sandbox of warden's, nothing truncated by warden. */
export function reportedOutcome(fields: { exitCode: number | null; stdout?: string; stderr?: string; error?: string; durationMs?: number }): RunResult {
  const stdout = fields.stdout ?? '';
  const stderr = fields.stderr ?? '';
  return {
    sandboxType: 'none',
    signal: null,
    timedOut: false,
    durationMs: Math.max(0, fields.durationMs ?? 0),
    truncated: false,
    denial: { denied: false },
    exitCode: fields.exitCode,
    stdout,
    stderr,
    stdoutBytes: bytes(stdout),
    stderrBytes: bytes(stderr),
    ...(fields.error ? { error: fields.error } : {}),
  };
}
