/**
 * `warden classify`: JSON lines in, JSON lines out, no side effects. Each input line
 * `{"command": [argv...], "cwd"?, "with_escalated_permissions"?}` gets
 * `{"known_safe","dangerous","outcome","sandbox","commands","reason"}` in the same order; a line
 * that is not usable gets `{"error"}` and the run goes on. The verdict is classifyExec's, with the
 * user rules (`--rules`, else the default file) and the sandbox this machine really offers.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import { ApprovalPolicySchema, SandboxModeSchema, type SandboxType } from '../../policy.ts';
import type { RequestPolicy } from '../../events/types.ts';
import { classifyExec } from '../../safety/classifyExec.ts';
import { loadRules, type RuleSet } from '../../safety/rules.ts';
import { initShellParser } from '../../safety/shellParse.ts';
import { platformSandbox } from '../../sandbox/platform.ts';

const InputLine = z.object({
  command: z.array(z.string()).min(1),
  cwd: z.string().optional(),
  with_escalated_permissions: z.boolean().optional(),
});

interface Options {
  approval: string;
  sandbox: string;
  writableRoot: string[];
  rules?: string;
  network?: boolean;
  tmpWrite: boolean;
}

/** One output line for one input line. Pure (the parser must be initialised). */
export function classifyLine(line: string, policy: RequestPolicy, sandbox: SandboxType, rules: RuleSet): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { error: `not valid JSON: ${(error as Error).message}` };
  }
  const input = InputLine.safeParse(json);
  if (!input.success) {
    return { error: `expected {"command": [string, ...], "cwd"?: string, "with_escalated_permissions"?: boolean}: ${z.prettifyError(input.error)}` };
  }
  const c = classifyExec(
    {
      command: input.data.command,
      cwd: input.data.cwd ?? process.cwd(),
      withEscalatedPermissions: input.data.with_escalated_permissions ?? false,
      policy,
      platformSandbox: sandbox,
      approvedForSession: false,
    },
    rules,
  );
  return { known_safe: c.knownSafe, dangerous: c.dangerous, outcome: c.outcome, sandbox: c.sandbox, commands: c.commands, reason: c.reason };
}

function policyFromOptions(o: Options): RequestPolicy {
  const approval = ApprovalPolicySchema.safeParse(o.approval);
  if (!approval.success) throw new ConfigError(`--approval must be one of ${ApprovalPolicySchema.options.join(', ')}`);
  const sandbox = SandboxModeSchema.safeParse(o.sandbox);
  if (!sandbox.success) throw new ConfigError(`--sandbox must be one of ${SandboxModeSchema.options.join(', ')}`);
  return { approval: approval.data, sandbox: sandbox.data, writableRoots: o.writableRoot, network: o.network === true, tmpWrite: o.tmpWrite };
}

export function register(program: Command): void {
  program
    .command('classify')
    .description('classify exec requests: JSON lines {"command": [argv], "cwd"?, "with_escalated_permissions"?} on stdin, one verdict per line on stdout')
    .option('--approval <policy>', 'untrusted | on-failure | on-request | never', 'on-request')
    .option('--sandbox <mode>', 'read-only | workspace-write | danger-full-access', 'workspace-write')
    .option('--writable-root <dir>', 'extra writable root (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--rules <file>', 'user rules file (default $XDG_CONFIG_HOME/warden/rules.toml)')
    .option('--network', 'allow network access (recorded in the policy)')
    .option('--no-tmp-write', 'do not treat /tmp and $TMPDIR as writable')
    .action(async (options: Options) => {
      const policy = policyFromOptions(options);
      const rules = loadRules(options.rules);
      await initShellParser();
      const sandbox = platformSandbox();
      const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
      for await (const line of rl) {
        if (line.trim() === '') continue;
        process.stdout.write(`${JSON.stringify(classifyLine(line, policy, sandbox, rules))}\n`);
      }
    });
}
