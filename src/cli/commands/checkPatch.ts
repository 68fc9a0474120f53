/**
 * `warden check-patch`: JSON lines in, JSON lines out, no side effects. Each input line
 * `{"patch", "cwd", "writable_roots"?}` gets `{"outcome", "files", "reason"}` in the same order;
 * a line that is not usable gets `{"error"}` and the run goes on. The verdict is classifyPatch's,
 * with the sandbox this machine really offers.
 */
import type { Command } from 'commander';
import * as z from 'zod';
import type { SandboxType } from '../../policy.ts';
import { addPolicyOptions, buildPolicy, mapJsonLines, parseJsonLine, type PolicyFlags } from '../options.ts';
import type { RequestPolicy } from '../../events/types.ts';
import { classifyPatch } from '../../safety/patch/classifyPatch.ts';
import { platformSandbox } from '../../sandbox/platform.ts';

const InputLine = z.object({
  patch: z.string(),
  cwd: z.string(),
  writable_roots: z.array(z.string()).optional(),
});

/** One output line for one input line. Pure apart from classifyPatch's symlink lookups. */
export function checkPatchLine(line: string, base: RequestPolicy, sandbox: SandboxType): Record<string, unknown> {
  const input = parseJsonLine(line, InputLine, '{"patch": string, "cwd": string, "writable_roots"?: [string]}');
  if ('error' in input) return input;
  const { patch, cwd, writable_roots: extra } = input.data;
  const c = classifyPatch({
    patch,
    cwd,
    policy: { ...base, writableRoots: [...base.writableRoots, ...(extra ?? [])] },
    platformSandbox: sandbox,
    approvedForSession: false,
  });
  return {
    outcome: c.outcome,
    files: (c.files ?? []).map((f) => (f.moveTo === undefined ? { path: f.path, kind: f.kind } : { path: f.path, kind: f.kind, move_to: f.moveTo })),
    reason: c.reason,
  };
}

export function register(program: Command): void {
  const cmd = program
    .command('check-patch')
    .description('classify apply_patch requests: JSON lines {"patch","cwd","writable_roots"?} on stdin, one verdict per line on stdout');
  addPolicyOptions(cmd);
  cmd.action(async (options: PolicyFlags) => {
    const policy = buildPolicy(options, { resolveRoots: false });
    const sandbox = platformSandbox();
    await mapJsonLines((line) => checkPatchLine(line, policy, sandbox));
  });
}
