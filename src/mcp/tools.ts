/**
 * The tools warden offers an agent over MCP, as tools/list shows them: `shell` and `apply_patch`
 * (each in its own file), and the one output schema of every result. Each argument has a zod
 * schema with a description written for a model; the JSON Schema a client sees is generated from
 * the same zod schema. Pure; no I/O.
 */
import * as z from 'zod';
import type { Tool } from './tool.ts';
import { shellTool } from './shellTool.ts';
import { applyPatchTool } from './applyPatchTool.ts';

export { ShellArgs } from './shellTool.ts';
export { ApplyPatchArgs } from './applyPatchTool.ts';



/** The tools, in the order tools/list shows them: one file each (shellTool.ts, applyPatchTool.ts). */
export const TOOL_DEFINITIONS = [shellTool, applyPatchTool] as const;

/** The tool of this name; undefined for a name warden does not offer. */
export function toolNamed(name: string): Tool | undefined {
  return (TOOL_DEFINITIONS as readonly Tool[]).find((t) => t.name === name);
}


/**
 * What every result's `structuredContent` holds (result.ts writes it). `summary` comes first: Claude
 * Code and Codex hand the model this JSON instead of the text, so the outcome sentence must lead.
 */
export const ToolOutput = z.object({
  summary: z.string().describe('One sentence: what happened (ran, failed, denied by whom, not run and why).'),
  state: z.enum(['completed', 'rejected', 'aborted', 'failed', 'not-started']).describe('How the request ended.'),
  exitCode: z.number().int().nullable().optional().describe('The exit code of the command (or patch applier), when it ran.'),
  stdout: z.string().optional().describe('What the command wrote to stdout (capped; base64 when stdoutEncoding says so).'),
  stderr: z.string().optional().describe('What the command wrote to stderr (capped; base64 when stderrEncoding says so).'),
  stdoutEncoding: z.literal('base64').optional().describe('Present when stdout was not UTF-8 text: stdout is then its bytes in base64.'),
  stderrEncoding: z.literal('base64').optional().describe('Present when stderr was not UTF-8 text: stderr is then its bytes in base64.'),
  decision: z
    .object({ decision: z.string(), source: z.string(), reason: z.string().optional() })
    .nullable()
    .optional()
    .describe('Who decided and how; null when no decision was reached.'),
  askReason: z.string().optional().describe('Why a person was asked, when one was.'),
  sandbox: z
    .object({ type: z.string(), mode: z.string().nullable() })
    .optional()
    .describe('Where it ran: the OS sandbox (bwrap, seatbelt, none) and its mode (null when bare).'),
  signal: z.string().optional(),
  timedOut: z.boolean().optional(),
  sandboxDenial: z.string().optional().describe('What the sandbox blocked, when it blocked something.'),
  truncated: z.boolean().optional(),
  durationMs: z.number().optional(),
  requestId: z.string().optional().describe('warden\'s request id, as in warden audit.'),
});
export type ToolOutput = z.infer<typeof ToolOutput>;

export interface ToolListOptions {
  /** Whether commands may reach the network (the policy's `--network`): MCP's openWorldHint. */
  network: boolean;
}

/**
 * tools/list. The annotations are honest hints, not a promise: both tools may change the machine
 * (destructive, not idempotent), and a command reaches the outside world only when the policy lets
 * the sandbox use the network. Codex reads them to decide whether its own approval is needed.
 */
export function toolList(options: ToolListOptions = { network: false }) {
  const outputSchema = z.toJSONSchema(ToolOutput, { io: 'output' }) as { type: 'object'; [k: string]: unknown };
  return TOOL_DEFINITIONS.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: z.toJSONSchema(t.schema, { io: 'input' }) as { type: 'object'; [k: string]: unknown },
    outputSchema,
    annotations: {
      title: t.title,
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
      openWorldHint: t.name === 'shell' && options.network,
    },
  }));
}
