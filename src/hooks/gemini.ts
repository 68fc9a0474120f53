/**
 * Gemini CLI's hook format (BeforeTool / AfterTool command hooks; recorded inputs from Gemini CLI
 * 0.61 are in test/fixtures/hooks/gemini). `run_shell_command` becomes an exec request
 * (`bash -c <command>` in its `dir_path`), `write_file` and `replace` become patches. Gemini's
 * BeforeTool can replace the tool's arguments (`hookSpecificOutput.tool_input` is merged over
 * them), so an approved command is rewritten to run through `warden exec --request`; it can also
 * answer `ask`, which makes Gemini ask the person itself.
 *
 * Gemini's hook input carries no id for the call, so the call is named by a digest of its tool
 * and arguments (AfterTool repeats the original arguments): `gemini-call:<sha256 prefix>`, which
 * is not the client's own id and is not shown as one. Pure, bar hashing.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { quote } from 'shell-quote';
import * as z from 'zod';
import type { RunResult } from '../sandbox/types.ts';
import { editAsPatch, replacementEdit } from './editPatch.ts';
import { notAHookEvent, reportedOutcome, turnEnded, unreadableToolInput, type HookFormat, type HookInput, type Rewriter } from './format.ts';
import type { ClientCall, Verdict } from './judge.ts';

export const GeminiHookInput = z.object({
  session_id: z.string().min(1),
  transcript_path: z.string().optional(),
  cwd: z.string().min(1),
  hook_event_name: z.string(),
  timestamp: z.string().optional(),
  tool_name: z.string().min(1),
  tool_input: z.record(z.string(), z.unknown()),
  tool_response: z.unknown().optional(),
  mcp_context: z.unknown().optional(),
  /** A tail call (a hook asked for another tool after this one): judged by its own name. */
  original_request_name: z.string().optional(),
});
export type GeminiHookInput = z.infer<typeof GeminiHookInput>;
const TurnEndInput = z.object({ session_id: z.string().min(1), cwd: z.string().min(1), hook_event_name: z.literal('AfterAgent') });

// Strict: a field warden does not read may change what Gemini does, and Gemini merges the rewrite
// over the original arguments, so it would still count: it blocks.
const ShellInput = z.strictObject({
  command: z.string().min(1),
  description: z.string().optional(),
  dir_path: z.string().optional(),
  is_background: z.boolean().optional(),
});
// modified_by_user / ai_proposed_content: Gemini marks an edit the person changed in its editor; the content is what is written.
const UserModified = { modified_by_user: z.boolean().optional(), ai_proposed_content: z.string().optional() };
const WriteInput = z.strictObject({ file_path: z.string().min(1), content: z.string(), ...UserModified });
const ReplaceInput = z.strictObject({
  file_path: z.string().min(1),
  old_string: z.string(),
  new_string: z.string(),
  instruction: z.string().optional(),
  allow_multiple: z.boolean().optional(),
  // older Gemini versions: how many occurrences to replace (more than one: every one, as allow_multiple)
  expected_replacements: z.number().int().min(1).optional(),
  ...UserModified,
});

function parse<T extends z.ZodType>(schema: T, tool: string, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw unreadableToolInput(tool, parsed.error);
  return parsed.data;
}

/** Canonical JSON (sorted keys), so the same call hashes the same before and after it ran. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function geminiCallId(input: Pick<GeminiHookInput, 'tool_name' | 'tool_input'>): string {
  return `gemini-call:${createHash('sha256').update(`${input.tool_name}\n${canonical(input.tool_input)}`).digest('hex').slice(0, 24)}`;
}

export function geminiCall(input: GeminiHookInput, readCurrent: (path: string) => string | null): ClientCall {
  const { tool_name: tool, tool_input: args, cwd } = input;
  switch (tool) {
    case 'run_shell_command': {
      const sh = parse(ShellInput, tool, args);
      // Gemini runs the command in dir_path, relative to the workspace root (the hook's cwd).
      return { kind: 'exec', command: ['bash', '-c', sh.command], cwd: sh.dir_path ? resolve(cwd, sh.dir_path) : cwd, escalate: false, ...(sh.description ? { justification: sh.description } : {}) };
    }
    case 'write_file': {
      const w = parse(WriteInput, tool, args);
      const path = resolve(cwd, w.file_path);
      return { kind: 'patch', patch: editAsPatch({ kind: 'write', path, content: w.content, current: readCurrent(path) }), cwd };
    }
    case 'replace': {
      const r = parse(ReplaceInput, tool, args);
      const all = r.allow_multiple === true || (r.expected_replacements ?? 1) > 1;
      return { kind: 'patch', patch: editAsPatch(replacementEdit(resolve(cwd, r.file_path), [{ old: r.old_string, new: r.new_string, all }], readCurrent)), cwd };
    }
    default: // anything else: not in toolNames.ts, so not judged
      throw new Error(`warden does not know Gemini CLI's tool '${tool}'`);
  }
}

export function geminiAnswer(verdict: Verdict, call: ClientCall, _input: GeminiHookInput, rewriter: Rewriter): Record<string, unknown> {
  switch (verdict.kind) {
    case 'run-in-warden': {
      if (call.kind !== 'exec') throw new Error('only a command can be rewritten');
      const command = quote([...rewriter.execPrefix, '--request', verdict.requestId, '--', ...call.command]);
      return { decision: 'allow', reason: `warden request ${verdict.requestId}: ${verdict.sentence}`, hookSpecificOutput: { hookEventName: 'BeforeTool', tool_input: { command } } };
    }
    case 'client-runs':
      return { decision: 'allow', reason: `warden request ${verdict.requestId}: ${verdict.sentence}` };
    case 'ask-client':
      return { decision: 'ask', systemMessage: `warden: ${verdict.message}` };
    case 'deny':
      // An abort stops the agent until the person speaks: Gemini's `continue: false`.
      return { decision: 'deny', reason: verdict.sentence, ...(verdict.abort ? { continue: false, stopReason: `warden: ${verdict.sentence}` } : {}) };
  }
}

const ToolResponse = z.object({ llmContent: z.unknown().optional(), returnDisplay: z.unknown().optional(), error: z.unknown().optional() });

/** AfterTool: `error` set when the tool failed; the text the model got is the output kept. */
export function geminiOutcome(input: GeminiHookInput): RunResult {
  const r = ToolResponse.safeParse(input.tool_response);
  if (!r.success) return reportedOutcome({ exitCode: null, error: 'Gemini CLI reported no tool response' });
  const text = typeof r.data.llmContent === 'string' ? r.data.llmContent : JSON.stringify(r.data.llmContent ?? '');
  // is_background: AfterTool comes once the command has started, not when it ends (recording 0 would say it completed).
  if (input.tool_input.is_background === true) return reportedOutcome({ exitCode: null, stdout: text, error: 'started in the background by the client; its exit is not reported to hooks' });
  if (r.data.error !== undefined && r.data.error !== null) {
    const e = r.data.error as { message?: unknown };
    return reportedOutcome({ exitCode: null, stdout: text, error: typeof e.message === 'string' ? e.message : JSON.stringify(r.data.error) });
  }
  return reportedOutcome({ exitCode: 0, stdout: text });
}

export const geminiFormat: HookFormat<GeminiHookInput> = {
  client: 'gemini',
  parse(json) {
    // AfterAgent is the turn's end
    const turn = TurnEndInput.safeParse(json);
    if (turn.success) return { raw: json as GeminiHookInput, input: turnEnded(turn.data.session_id, turn.data.cwd) };
    const parsed = GeminiHookInput.safeParse(json);
    if (!parsed.success) throw notAHookEvent('Gemini CLI', parsed.error);
    const raw = parsed.data;
    let phase: HookInput['phase'];
    if (raw.hook_event_name === 'BeforeTool') phase = { phase: 'before' };
    else if (raw.hook_event_name === 'AfterTool') phase = { phase: 'after' };
    // anything else: a decision may be due for it (a new Before… event), and an empty answer would let it pass
    else throw new Error(`warden does not handle the hook event ${raw.hook_event_name}`);
    return { raw, input: { sessionId: raw.session_id, cwd: raw.cwd, toolName: raw.tool_name, callId: geminiCallId(raw), callIdIsClients: false, phase } };
  },
  call: geminiCall,
  canRewrite: true,
  canAsk: true,
  answer: geminiAnswer,
  outcome: geminiOutcome,
};
