/**
 * `warden check-patch`: JSON lines in, JSON lines out, no side effects. Each input line
 * `{"patch", "cwd", "writable_roots"?}` gets `{"outcome", "files", "reason"}` in the same order;
 * a line that is not usable gets `{"error"}` and the run goes on. The verdict is classifyPatch's,
 * with the sandbox this machine really offers.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import { ApprovalPolicySchema, SandboxModeSchema, type SandboxType } from '../../policy.ts';
import type { RequestPolicy } from '../../events/types.ts';
import { classifyPatch } from '../../safety/patch/classifyPatch.ts';
import { platformSandbox } from '../../sandbox/platform.ts';

const InputLine = z.object({
  patch: z.string(),
  cwd: z.string(),
  writable_roots: z.array(z.string()).optional(),
});

interface Options {
  approval: string;
  sandbox: string;
  writableRoot: string[];
  network?: boolean;
  tmpWrite: boolean;
}

/** One output line for one input line. Pure apart from classifyPatch's symlink lookups. */
export function checkPatchLine(line: string, base: RequestPolicy, sandbox: SandboxType): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { error: `not valid JSON: ${(error as Error).message}` };
  }
  const input = InputLine.safeParse(json);
  if (!input.success) {
    return { error: `expected {"patch": string, "cwd": string, "writable_roots"?: [string]}: ${z.prettifyError(input.error)}` };
  }
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

function policyFromOptions(o: Options): RequestPolicy {
  const approval = ApprovalPolicySchema.safeParse(o.approval);
  if (!approval.success) throw new ConfigError(`--approval must be one of ${ApprovalPolicySchema.options.join(', ')}`);
  const sandbox = SandboxModeSchema.safeParse(o.sandbox);
  if (!sandbox.success) throw new ConfigError(`--sandbox must be one of ${SandboxModeSchema.options.join(', ')}`);
  return {
    approval: approval.data,
    sandbox: sandbox.data,
    writableRoots: o.writableRoot,
    network: o.network === true,
    tmpWrite: o.tmpWrite,
  };
}

export function register(program: Command): void {
  program
    .command('check-patch')
    .description('classify apply_patch requests: JSON lines {"patch","cwd","writable_roots"?} on stdin, one verdict per line on stdout')
    .option('--approval <policy>', 'untrusted | on-failure | on-request | never', 'on-request')
    .option('--sandbox <mode>', 'read-only | workspace-write | danger-full-access', 'workspace-write')
    .option('--writable-root <dir>', 'extra writable root (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--network', 'allow network access (recorded in the policy)')
    .option('--no-tmp-write', 'do not treat /tmp and $TMPDIR as writable')
    .action(async (options: Options) => {
      const policy = policyFromOptions(options);
      const sandbox = platformSandbox();
      const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
      for await (const line of rl) {
        if (line.trim() === '') continue;
        process.stdout.write(`${JSON.stringify(checkPatchLine(line, policy, sandbox))}\n`);
      }
    });
}
