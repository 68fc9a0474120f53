/**
 * Claude Code's hook format (PreToolUse / PostToolUse / PostToolUseFailure command hooks: one JSON
 * object on stdin, the answer as JSON on stdout, exit code 2 blocks the call with stderr for the
 * model). Its built-in `Bash` becomes an exec request (`bash -c <command>`), `Edit`, `MultiEdit`,
 * `Write` and `NotebookEdit` become patches. Claude Code's PreToolUse can replace the tool's input
 * (`updatedInput`), so an approved command is rewritten to run through `warden exec --request`.
 * Pure, bar `readCurrent` (which the caller supplies).
 */
import * as z from 'zod';
import { quote } from 'shell-quote';
import { MAX_TIMEOUT_MS, type RunResult } from '../sandbox/types.ts';
import { editAsPatch, replacementEdit, type FileEdit } from './editPatch.ts';
import type { ClientCall, Verdict } from './judge.ts';
import { notAHookEvent, reportedOutcome, turnEnded, unreadableToolInput, type HookFormat, type HookInput, type Rewriter } from './format.ts';

/** The fields warden reads; Claude Code sends more (transcript_path, permission_mode, ...), which are ignored. */
export const ClaudeHookInput = z.object({
  session_id: z.string().min(1),
  cwd: z.string().min(1),
  hook_event_name: z.string(),
  tool_name: z.string().min(1),
  tool_input: z.record(z.string(), z.unknown()),
  tool_use_id: z.string().min(1).optional(),
  tool_response: z.unknown().optional(),
  error: z.unknown().optional(),
  is_interrupt: z.boolean().optional(),
  duration_ms: z.number().optional(),
  /** PermissionDenied: why the call was refused. */
  reason: z.string().optional(),
});
export type ClaudeHookInput = z.infer<typeof ClaudeHookInput>;
const StopInput = z.object({ session_id: z.string().min(1), cwd: z.string().min(1), hook_event_name: z.literal('Stop') });


// Strict: a field warden does not read may change what Claude Code does (where it runs, whether
// sandboxed, how much it replaces), and it would pass into the rewritten call, so it blocks.
const BashInput = z.strictObject({
  command: z.string().min(1),
  timeout: z.number().int().positive().max(MAX_TIMEOUT_MS).optional(),
  description: z.string().optional(),
  run_in_background: z.boolean().optional(),
  dangerouslyDisableSandbox: z.boolean().optional(),
});
const Replacement = { old_string: z.string(), new_string: z.string(), replace_all: z.boolean().optional() };
const EditInput = z.strictObject({ file_path: z.string().min(1), ...Replacement });
const MultiEditInput = z.strictObject({ file_path: z.string().min(1), edits: z.array(z.strictObject(Replacement)).min(1) });
const WriteInput = z.strictObject({ file_path: z.string().min(1), content: z.string() });
// cell_id, cell_type and edit_mode pick the cell: the patch names the file, which the patch safety judges.
const NotebookEditInput = z.strictObject({
  notebook_path: z.string().min(1),
  new_source: z.string().optional(),
  cell_id: z.string().optional(),
  cell_type: z.enum(['code', 'markdown']).optional(),
  edit_mode: z.enum(['replace', 'insert', 'delete']).optional(),
});
const asTextEdit = (e: { old_string: string; new_string: string; replace_all?: boolean | undefined }) => ({ old: e.old_string, new: e.new_string, all: e.replace_all === true });

function parse<T extends z.ZodType>(schema: T, tool: string, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw unreadableToolInput(tool, parsed.error);
  return parsed.data;
}

/** The request a tool call stands for. Throws on a tool or input it does not know: the caller denies. */
export function claudeCall(input: ClaudeHookInput, readCurrent: (path: string) => string | null): ClientCall {
  const { tool_name: tool, tool_input: args, cwd } = input;
  const patch = (edit: FileEdit): ClientCall => ({ kind: 'patch', patch: editAsPatch(edit), cwd });
  switch (tool) {
    case 'Bash': {
      const bash = parse(BashInput, tool, args);
      return {
        kind: 'exec',
        command: ['bash', '-c', bash.command],
        cwd,
        // Claude Code's own sandbox switch: the model asks to run unconfined, which warden treats as escalation.
        escalate: bash.dangerouslyDisableSandbox === true,
        ...(bash.timeout ? { timeoutMs: bash.timeout } : {}),
        ...(bash.description ? { justification: bash.description } : {}),
      };
    }
    case 'Edit': {
      const e = parse(EditInput, tool, args);
      return patch(replacementEdit(e.file_path, [asTextEdit(e)], readCurrent));
    }
    case 'MultiEdit': {
      const e = parse(MultiEditInput, tool, args);
      return patch(replacementEdit(e.file_path, e.edits.map(asTextEdit), readCurrent));
    }
    case 'Write': {
      const e = parse(WriteInput, tool, args);
      return patch({ kind: 'write', path: e.file_path, content: e.content, current: readCurrent(e.file_path) });
    }
    case 'NotebookEdit': {
      const e = parse(NotebookEditInput, tool, args);
      return patch({ kind: 'replace', path: e.notebook_path, edits: [{ old: '', new: e.new_source ?? '' }] });
    }
    default: // anything else: not in toolNames.ts, so not judged
      throw new Error(`warden does not know Claude Code's tool '${tool}'`);
  }
}

function preToolUse(fields: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { ...extra, hookSpecificOutput: { hookEventName: 'PreToolUse', ...fields } };
}

/** The PreToolUse answer (stdout JSON) for warden's verdict. */
export function claudeAnswer(verdict: Verdict, call: ClientCall, input: ClaudeHookInput, rewriter: Rewriter): Record<string, unknown> {
  switch (verdict.kind) {
    case 'run-in-warden': {
      if (call.kind !== 'exec') throw new Error('only a command can be rewritten');
      const command = quote([...rewriter.execPrefix, '--request', verdict.requestId, '--', ...call.command]);
      return preToolUse({
        permissionDecision: 'allow',
        permissionDecisionReason: `warden request ${verdict.requestId}: ${verdict.sentence}`,
        updatedInput: { ...input.tool_input, command },
      });
    }
    case 'client-runs':
      return preToolUse({ permissionDecision: 'allow', permissionDecisionReason: `warden request ${verdict.requestId}: ${verdict.sentence}` });
    case 'ask-client':
      return preToolUse({ permissionDecision: 'ask', permissionDecisionReason: `warden: ${verdict.message}` });
    case 'deny':
      // An abort stops the agent until the person speaks: Claude Code's `continue: false`.
      return preToolUse(
        { permissionDecision: 'deny', permissionDecisionReason: verdict.sentence },
        verdict.abort ? { continue: false, stopReason: `warden: ${verdict.sentence}` } : {},
      );
  }
}

const BashResponse = z.object({ stdout: z.string().optional(), stderr: z.string().optional(), interrupted: z.boolean().optional() });

/**
 * What the client's tool did, from PostToolUse (it succeeded) or PostToolUseFailure (it failed:
 * Claude Code reports a command's non-zero exit as "Exit code N" in `error`).
 */
export function claudeOutcome(input: ClaudeHookInput): RunResult {
  const durationMs = input.duration_ms ?? 0;
  if (input.hook_event_name === 'PostToolUse') {
    const r = BashResponse.safeParse(input.tool_response);
    const stdout = r.success ? (r.data.stdout ?? '') : '';
    const stderr = r.success ? (r.data.stderr ?? '') : '';
    // run_in_background: PostToolUse comes when the command has started, not when it ends, so no
    // exit code is known (recording 0 would say it completed).
    if (input.tool_input.run_in_background === true) return reportedOutcome({ exitCode: null, stdout, stderr, durationMs, error: 'started in the background by the client; its exit is not reported to hooks' });
    if (r.success && r.data.interrupted) return reportedOutcome({ exitCode: null, stdout, stderr, durationMs, error: 'interrupted in the client' });
    return reportedOutcome({ exitCode: 0, stdout, stderr, durationMs });
  }
  const error = typeof input.error === 'string' ? input.error : JSON.stringify(input.error ?? 'the tool failed');
  const code = /^Exit code (\d+)\b/m.exec(error);
  if (code && !input.is_interrupt) return reportedOutcome({ exitCode: Number(code[1]), stderr: error, durationMs });
  return reportedOutcome({ exitCode: null, stderr: error, durationMs, error: input.is_interrupt ? 'interrupted in the client' : "the client's tool failed" });
}

/**
 * The events `warden init claude-code` routes here. Any other blocks (fail closed): a decision may
 * be due for it (PermissionRequest, a renamed or new Pre… event), and an empty answer would let it pass.
 */
function phaseOf(input: ClaudeHookInput): HookInput['phase'] {
  switch (input.hook_event_name) {
    case 'PreToolUse':
      return { phase: 'before' };
    case 'PostToolUse':
    case 'PostToolUseFailure':
      return { phase: 'after' };
    case 'PermissionDenied':
      return { phase: 'refused', reason: input.reason ?? "refused in Claude Code's permission prompt" };
    default:
      throw new Error(`warden does not handle the hook event ${input.hook_event_name}`);
  }
}

export const claudeFormat: HookFormat<ClaudeHookInput> = {
  client: 'claude-code',
  parse(json) {
    const stop = StopInput.safeParse(json);
    if (stop.success) return { raw: json as ClaudeHookInput, input: turnEnded(stop.data.session_id, stop.data.cwd) };
    const parsed = ClaudeHookInput.safeParse(json);
    if (!parsed.success) throw notAHookEvent('Claude Code', parsed.error);
    const raw = parsed.data;
    const phase = phaseOf(raw);
    // Without Claude Code's tool_use_id the call cannot be joined to its result: only a `before` may go without.
    return {
      raw,
      input: { sessionId: raw.session_id, cwd: raw.cwd, toolName: raw.tool_name, callId: raw.tool_use_id ?? '', callIdIsClients: raw.tool_use_id !== undefined, phase },
    };
  },
  call: claudeCall,
  canRewrite: true,
  canAsk: true,
  answer: claudeAnswer,
  outcome: claudeOutcome,
};
