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

export function toolList() {
  return TOOL_DEFINITIONS.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: z.toJSONSchema(t.schema, { io: 'input' }) as { type: 'object'; [k: string]: unknown },
  }));
}
