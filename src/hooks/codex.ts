/**
 * Codex's hook format (PreToolUse / PostToolUse command hooks, Codex 0.124+; recorded inputs from
 * Codex 0.171 are in test/fixtures/hooks). `Bash` stands for Codex's shell tools (its
 * exec_command / unified exec): `tool_input.command` is the script, judged as `bash -c <script>`;
 * `apply_patch` carries the patch text in `tool_input.command`, judged by the patch safety.
 *
 * What Codex's format cannot do decides the rest, because Codex fails open: a hook that exits with
 * anything but 0 or 2, times out, prints JSON Codex does not accept, or answers `allow` without a
 * rewrite or `ask` is reported as a failed hook and the tool call runs anyway. So warden answers
 * only in forms Codex honours: a deny (`permissionDecision: "deny"`, or exit 2 with the reason on
 * stderr), `allow` with `updatedInput` (the approved command rewritten to `warden exec --request`,
 * which runs it in warden's sandbox), or nothing (exit 0, empty stdout: the client runs the call
 * as it is, for an approved patch or with `--runner client`). Pure.
 */
import * as z from 'zod';
import type { RunResult } from '../sandbox/types.ts';
import { quote } from 'shell-quote';
import { notAHookEvent, reportedOutcome, unreadableToolInput, type HookFormat, type HookInput, type Rewriter } from './format.ts';
import type { ClientCall, Verdict } from './judge.ts';

export const CodexHookInput = z.object({
  session_id: z.string().min(1),
  turn_id: z.string().optional(),
  cwd: z.string().min(1),
  hook_event_name: z.string(),
  model: z.string().optional(),
  permission_mode: z.string().optional(),
  tool_name: z.string().min(1),
  tool_input: z.unknown(),
  tool_use_id: z.string().min(1),
  tool_response: z.unknown().optional(),
});
export type CodexHookInput = z.infer<typeof CodexHookInput>;

// Strict: Codex's hook input carries only the command (test/fixtures/hooks); any other field (a
// `workdir`, a sandbox request) may change what Codex does and would pass into the rewritten call.
const CommandInput = z.strictObject({ command: z.string().min(1) });

export function codexCall(input: CodexHookInput): ClientCall {
  const parsed = CommandInput.safeParse(input.tool_input);
  if (!parsed.success) throw unreadableToolInput(input.tool_name, parsed.error);
  switch (input.tool_name) {
    case 'Bash':
      return { kind: 'exec', command: ['bash', '-c', parsed.data.command], cwd: input.cwd, escalate: false };
    case 'apply_patch':
      return { kind: 'patch', patch: parsed.data.command, cwd: input.cwd };
    default: // anything else: not in toolNames.ts, so not judged
      throw new Error(`warden does not know Codex's tool '${input.tool_name}'`);
  }
}

/** Codex runs the call as it is after an empty answer; `allow` counts only with a rewrite. */
export function codexAnswer(verdict: Verdict, call: ClientCall, input: CodexHookInput, rewriter: Rewriter): Record<string, unknown> | null {
  switch (verdict.kind) {
    case 'run-in-warden': {
      if (call.kind !== 'exec') throw new Error('only a command can be rewritten');
      const command = quote([...rewriter.execPrefix, '--request', verdict.requestId, '--', ...call.command]);
      const args = typeof input.tool_input === 'object' && input.tool_input !== null ? input.tool_input : {};
      return { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'allow', permissionDecisionReason: `warden request ${verdict.requestId}: ${verdict.sentence}`, updatedInput: { ...args, command } } };
    }
    case 'client-runs':
      return null;
    case 'deny':
      return { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: verdict.sentence } };
    case 'ask-client': // never asked for: canAsk is false, and Codex would run the call
      throw new Error(`Codex's hook cannot answer ${verdict.kind}`);
  }
}

/**
 * Codex hands its hook only the tool's output text (no exit code), so the recorded result says
 * so instead of guessing one.
 */
export function codexOutcome(input: CodexHookInput): RunResult {
  const r = input.tool_response;
  const text = typeof r === 'string' ? r : r === undefined ? '' : JSON.stringify(r);
  return reportedOutcome({ exitCode: null, stdout: text, error: 'Codex reports the output of its tools to hooks, not their exit code' });
}

export const codexFormat: HookFormat<CodexHookInput> = {
  client: 'codex',
  parse(json) {
    const parsed = CodexHookInput.safeParse(json);
    if (!parsed.success) throw notAHookEvent('Codex', parsed.error);
    const raw = parsed.data;
    let phase: HookInput['phase'];
    if (raw.hook_event_name === 'PreToolUse') phase = { phase: 'before' };
    else if (raw.hook_event_name === 'PostToolUse') phase = { phase: 'after' };
    // anything else: a decision may be due for it (PermissionRequest, a new Pre… event), and Codex runs the call after an empty answer
    else throw new Error(`warden does not handle the hook event ${raw.hook_event_name}`);
    return { raw, input: { sessionId: raw.session_id, cwd: raw.cwd, toolName: raw.tool_name, callId: raw.tool_use_id, callIdIsClients: true, phase } };
  },
  call: codexCall,
  canRewrite: true,
  canAsk: false,
  answer: codexAnswer,
  outcome: codexOutcome,
};
