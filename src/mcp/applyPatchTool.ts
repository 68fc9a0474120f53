/**
 * The `apply_patch` tool: one patch in the apply_patch envelope, judged and applied through the
 * approval machine. Pure (see tool.ts).
 */
import * as z from 'zod';
import { callDirectory, type Tool } from './tool.ts';

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
    .describe('Absolute path of the directory the patch paths are relative to (must exist; under workspace-write inside the directory warden was started in or a writable root). Defaults to the directory warden was started in.'),
});
export type ApplyPatchArgs = z.infer<typeof ApplyPatchArgs>;

export const applyPatchTool: Tool<typeof ApplyPatchArgs> = {
  name: 'apply_patch',
  title: 'Apply a patch',
  description:
    'Create, update, move or delete files with one patch in the apply_patch format. Changes inside the workspace are usually applied at once (inside the sandbox); others wait for the person to approve. The result lists the files changed or says why nothing was applied.',
  schema: ApplyPatchArgs,
  toRequest(args, ctx) {
    const dir = callDirectory(args.workdir, ctx, 'applied');
    if ('refused' in dir) return dir;
    const { cwd } = dir;
    return { kind: 'patch', patch: args.patch, cwd, withEscalatedPermissions: false, policy: ctx.policy, origin: ctx.origin };
  },
};
