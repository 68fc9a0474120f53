/**
 * The `shell` tool: one command as an argv array, run through the approval machine. Pure (see tool.ts).
 */
import * as z from 'zod';
import { MAX_TIMEOUT_MS } from '../sandbox/types.ts';
import { callDirectory, type Tool } from './tool.ts';

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
    .describe('Absolute path of the directory to run in (must exist; under workspace-write inside the directory warden was started in or a writable root). Defaults to the directory warden was started in.'),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .max(MAX_TIMEOUT_MS)
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

export const shellTool: Tool<typeof ShellArgs> = {
  name: 'shell',
  title: 'Run a command',
  description:
    'Run a command on the machine through warden. Read-only commands run at once; others run in a sandbox (no network, writes only inside the workspace) or wait for the person to approve. The result gives stdout, stderr, exit code and how it was decided. If the person denies it, the result says so: do not retry the same command; change approach or ask them.',
  schema: ShellArgs,
  toRequest(args, ctx) {
    const dir = callDirectory(args.workdir, ctx, 'run');
    if ('refused' in dir) return dir;
    const { cwd } = dir;
    return {
      kind: 'exec',
      command: args.command,
      cwd,
      withEscalatedPermissions: args.with_escalated_permissions === true,
      ...(args.justification ? { justification: args.justification } : {}),
      ...(args.timeout_ms ? { timeoutMs: args.timeout_ms } : {}),
      policy: ctx.policy,
      origin: ctx.origin,
    };
  },
};
