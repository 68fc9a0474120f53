/**
 * `warden classify`: JSON lines in, JSON lines out, no side effects. Each input line
 * `{"command": [argv...], "cwd"?, "with_escalated_permissions"?}` gets
 * `{"known_safe","dangerous","outcome","sandbox","commands","reason"}` in the same order; a line
 * that is not usable gets `{"error"}` and the run goes on. The verdict is classifyExec's, with the
 * user rules (`--rules`, else the default file) and the sandbox this machine really offers.
 */
import type { Command } from 'commander';
import * as z from 'zod';
import type { SandboxType } from '../../policy.ts';
import { addPolicyOptions, buildPolicy, mapJsonLines, parseJsonLine, type PolicyFlags } from '../options.ts';
import type { RequestPolicy } from '../../events/types.ts';
import { classifyExec } from '../../safety/classifyExec.ts';
import { type RuleSet } from '../../safety/ruleMatch.ts';
import { loadRules } from '../../safety/ruleFile.ts';
import { loadShellGrammar } from '../../safety/shellParse.ts';
import { platformSandbox } from '../../sandbox/platform.ts';
import { programLocatorFor } from '../../requests/programLocator.ts';

const InputLine = z.object({
  command: z.array(z.string()).min(1),
  cwd: z.string().optional(),
  with_escalated_permissions: z.boolean().optional(),
});

interface Options extends PolicyFlags {
  rules?: string;
}

/** One output line for one input line (I/O: bare names are looked up on PATH; the parser must be initialised). */
export function classifyLine(line: string, policy: RequestPolicy, sandbox: SandboxType, rules: RuleSet): Record<string, unknown> {
  const input = parseJsonLine(line, InputLine, '{"command": [string, ...], "cwd"?: string, "with_escalated_permissions"?: boolean}');
  if ('error' in input) return input;
  const cwd = input.data.cwd ?? process.cwd();
  const c = classifyExec(
    {
      command: input.data.command,
      cwd,
      // the programs a bare name would run as: found on this process's PATH as a run would clean it
      programs: programLocatorFor(process.env, { command: input.data.command, cwd, policy }),
      withEscalatedPermissions: input.data.with_escalated_permissions ?? false,
      policy,
      platformSandbox: sandbox,
      approvedForSession: false,
    },
    rules,
  );
  return {
    known_safe: c.knownSafe,
    dangerous: c.dangerous,
    outcome: c.outcome,
    sandbox: c.sandbox,
    commands: c.commands,
    reason: c.reason,
    // added by issue #12: who decided, and the exact allow rule "always allow" would store
    decision_source: c.decisionSource ?? null,
    proposed_rule: c.proposedPrefix ?? null,
  };
}

export function register(program: Command): void {
  const cmd = program
    .command('classify')
    .description('classify exec requests: JSON lines {"command": [argv], "cwd"?, "with_escalated_permissions"?} on stdin, one verdict per line on stdout')
    .option('--rules <file>', 'user rules file (default $XDG_CONFIG_HOME/warden/rules.toml)');
  addPolicyOptions(cmd);
  cmd.action(async (options: Options) => {
    const policy = buildPolicy(options, { resolveRoots: false });
    const rules = loadRules(options.rules);
    await loadShellGrammar();
    const sandbox = platformSandbox();
    await mapJsonLines((line) => classifyLine(line, policy, sandbox, rules));
  });
}
