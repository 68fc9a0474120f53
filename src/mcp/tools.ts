/**
 * The tools warden offers an agent over MCP: `shell` and `apply_patch`. Each argument has a zod
 * schema with a description written for a model; the JSON Schema a client sees is generated from
 * the same zod schema. Pure; no I/O.
 */
import { z } from 'zod';

export const ShellArgs = z.strictObject({
  command: z
    .array(z.string())
    .min(1)
    .describe(
      'The command as an argv array, e.g. ["ls", "-la"] or ["bash", "-lc", "make test 2>&1 | tail -n 20"]. The first element is the program. Use bash -lc only when you need shell syntax (pipes, redirects, &&).',
    ),
  workdir: z
    .string()
    .min(1)
    .optional()
    .describe('Absolute path of the directory to run in (must exist). Defaults to the directory warden was started in.'),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .max(24 * 3600 * 1000)
    .optional()
    .describe('Kill the command (and its process group) after this many milliseconds.'),
  with_escalated_permissions: z
    .boolean()
    .optional()
    .describe(
      'Set to true only when the command cannot work inside the sandbox (it needs the network or to write outside the workspace). The person is asked before it runs without the sandbox; explain why in justification.',
    ),
  justification: z
    .string()
    .max(2000)
    .optional()
    .describe('One sentence for the person deciding: why this command is needed. Shown when they are asked.'),
});
export type ShellArgs = z.infer<typeof ShellArgs>;

export const ApplyPatchArgs = z.strictObject({
  patch: z
    .string()
    .min(1)
    .describe(
      [
        'The patch, in the apply_patch envelope:',
        '*** Begin Patch',
        '*** Add File: path/new.txt',
        '+line of the new file',
        '*** Update File: path/existing.py',
        '@@ def context_line():',
        ' unchanged line',
        '-old line',
        '+new line',
        '*** Delete File: path/gone.txt',
        '*** End Patch',
        'Paths are relative to workdir. An update may add "*** Move to: new/path" after its header.',
      ].join('\n'),
    ),
  workdir: z
    .string()
    .min(1)
    .optional()
    .describe('Absolute path of the directory the patch paths are relative to (must exist). Defaults to the directory warden was started in.'),
});
export type ApplyPatchArgs = z.infer<typeof ApplyPatchArgs>;

export const TOOL_DEFINITIONS = [
  {
    name: 'shell',
    title: 'Run a command',
    description:
      'Run a command on the machine through warden. Read-only commands run at once; others run in a sandbox (no network, writes only inside the workspace) or wait for the person to approve. The result gives stdout, stderr, exit code and how it was decided. If the person denies it, the result says so: do not retry the same command; change approach or ask them.',
    schema: ShellArgs,
  },
  {
    name: 'apply_patch',
    title: 'Apply a patch',
    description:
      'Create, update, move or delete files with one patch in the apply_patch format. Changes inside the workspace are usually applied at once (inside the sandbox); others wait for the person to approve. The result lists the files changed or says why nothing was applied.',
    schema: ApplyPatchArgs,
  },
] as const;

export type ToolName = (typeof TOOL_DEFINITIONS)[number]['name'];

/**
 * What every result's `structuredContent` holds (result.ts writes it). `summary` comes first: Claude
 * Code and Codex hand the model this JSON instead of the text, so the outcome sentence must lead.
 */
export const ToolOutput = z.object({
  summary: z.string().describe('One sentence: what happened (ran, failed, denied by whom, not run and why).'),
  state: z.enum(['completed', 'rejected', 'aborted', 'failed', 'not-started']).describe('How the request ended.'),
  exitCode: z.number().int().nullable().optional().describe('The exit code of the command (or patch applier), when it ran.'),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
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
  requestId: z.string().optional().describe('warden\'s request id (warden audit, warden approve).'),
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
