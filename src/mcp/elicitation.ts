/**
 * The `elicitation/create` request warden sends when a person must decide: a message they can
 * decide from, a `requestedSchema` whose only field `decision` is an enum of exactly the offered
 * decisions, and the metadata fields the Codex CLI's MCP server sends (`codex_elicitation`,
 * `codex_command`, `codex_changes` ...) so clients that render those show the request natively.
 * Pure; no I/O.
 */
import { basename } from 'node:path';
import { quote } from 'shell-quote';
import type { Decision } from '../policy.ts';
import type { DecideInput } from '../machines/approval.machine.ts';
import { tryParsePatch, type PatchHunk, type UpdateFileChunk } from '../safety/patch/index.ts';
import { DECISION_CHOICES } from '../present/labels.ts';
import { questionOfDecideInput, questionText } from '../present/question.ts';

/** What a person reads beside each choice: the one label table every surface uses. */
export const DECISION_TITLES: Record<Decision, string> = DECISION_CHOICES;

/** How much of a patch's diff the message carries; the rest is counted in its last line. */
export const MESSAGE_DIFF_LINES = 120;

export interface ElicitationContext {
  /** The JSON-RPC id of the `tools/call` that led here. */
  mcpToolCallId: string;
}

/** Codex's ParsedCommand, tagged `type`; a best effort for display, never used for a decision. */
export type ParsedCmd =
  | { type: 'read'; cmd: string; name: string; path: string }
  | { type: 'list_files'; cmd: string; path?: string }
  | { type: 'search'; cmd: string; query?: string; path?: string }
  | { type: 'unknown'; cmd: string };

export function parsedCommand(argv: string[]): ParsedCmd {
  const cmd = quote(argv);
  const [program, ...rest] = argv;
  const operands = rest.filter((a) => !a.startsWith('-'));
  switch (program) {
    case 'cat':
    case 'head':
    case 'tail':
    case 'less':
    case 'nl':
      if (operands.length === 1) return { type: 'read', cmd, name: basename(operands[0]!), path: operands[0]! };
      return { type: 'unknown', cmd };
    case 'ls':
    case 'tree':
      return operands.length <= 1 ? { type: 'list_files', cmd, ...(operands[0] ? { path: operands[0] } : {}) } : { type: 'unknown', cmd };
    case 'grep':
    case 'rg':
      return {
        type: 'search',
        cmd,
        ...(operands[0] ? { query: operands[0] } : {}),
        ...(operands[1] ? { path: operands[1] } : {}),
      };
    default: // anything else
      return { type: 'unknown', cmd };
  }
}

export type FileChange =
  | { type: 'add'; content: string }
  | { type: 'delete'; content: string }
  | { type: 'update'; unified_diff: string; move_path?: string };

/** A readable diff of one chunk: the lines it shares at both ends are context, the rest -/+. */
function chunkDiff(chunk: UpdateFileChunk): string {
  const { oldLines: a, newLines: b } = chunk;
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const lines = [`@@ ${chunk.contexts.join(' ')}`.trimEnd()];
  for (const l of a.slice(0, head)) lines.push(` ${l}`);
  for (const l of a.slice(head, a.length - tail)) lines.push(`-${l}`);
  for (const l of b.slice(head, b.length - tail)) lines.push(`+${l}`);
  for (const l of a.slice(a.length - tail)) lines.push(` ${l}`);
  return lines.join('\n');
}

function fileChange(hunk: PatchHunk): FileChange {
  switch (hunk.kind) {
    case 'add':
      return { type: 'add', content: hunk.contents };
    case 'delete':
      return { type: 'delete', content: '' };
    case 'update':
      return {
        type: 'update',
        unified_diff: hunk.chunks.map(chunkDiff).join('\n'),
        ...(hunk.moveTo ? { move_path: hunk.moveTo } : {}),
      };
  }
}

/** path → change, as Codex's `codex_changes`; empty when the patch does not parse (it is then rejected anyway). */
export function patchChanges(patch: string): Record<string, FileChange> {
  const parsed = tryParsePatch(patch);
  const changes: Record<string, FileChange> = {};
  if (!parsed.ok) return changes;
  for (const hunk of parsed.patch.hunks) changes[hunk.path] = fileChange(hunk);
  return changes;
}

export function requestedSchema(offered: readonly Decision[]) {
  return {
    type: 'object' as const,
    properties: {
      decision: {
        type: 'string' as const,
        title: 'Decision',
        // Short: clients print it under the choices, whose enumNames already say what each one does.
        description: 'What should happen to this request?',
        enum: [...offered],
        enumNames: offered.map((d) => DECISION_TITLES[d]),
      },
    },
    required: ['decision'],
  };
}

/** The text a person decides from, rendered like every other surface's (src/present/question.ts). */
export function elicitationMessage(input: DecideInput): string {
  return questionText(questionOfDecideInput(input, null), { maxDiffLines: MESSAGE_DIFF_LINES });
}

/** The full `params` of the `elicitation/create` request. */
export function elicitationParams(input: DecideInput, ctx: ElicitationContext): Record<string, unknown> {
  const common = {
    message: elicitationMessage(input),
    requestedSchema: requestedSchema(input.offered),
    codex_mcp_tool_call_id: ctx.mcpToolCallId,
    codex_event_id: input.requestId,
    codex_call_id: input.requestId,
    ...(input.request.justification ? { codex_reason: input.request.justification } : {}),
  };
  if (input.request.kind === 'patch') {
    return { ...common, codex_elicitation: 'patch-approval', codex_cwd: input.request.cwd, codex_changes: patchChanges(input.request.patch ?? '') };
  }
  const command = input.request.command ?? [];
  const parts = input.classification.commands ?? [command];
  return {
    ...common,
    codex_elicitation: 'exec-approval',
    codex_command: command,
    codex_cwd: input.request.cwd,
    codex_parsed_cmd: parts.map(parsedCommand),
  };
}
