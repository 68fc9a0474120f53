/**
 * `warden explain [policy options] [--rules F] [--json] -- CMD...`: why a command gets its verdict,
 * word by word, which rule matched and why it won, the sandbox it would run in, and what "always
 * allow" would store. No side effects besides reading the rules file.
 */
import type { Command } from 'commander';
import { addPolicyOptions, buildPolicy, type PolicyFlags } from '../options.ts';
import { explainExec, formatExplain } from '../../safety/explain.ts';
import { loadRules } from '../../safety/ruleFile.ts';
import { loadShellGrammar } from '../../safety/shellParse.ts';
import { platformSandbox } from '../../sandbox/platform.ts';
import { programLocatorFor } from '../../requests/programLocator.ts';

interface Options extends PolicyFlags {
  rules?: string;
  json?: boolean;
  escalated?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('explain')
    .description('explain the verdict for one command: per sub-command and word, the rules, the sandbox, what "always allow" would store')
    .argument('<command...>', 'the command, after --')
    .option('--rules <file>', 'user rules file (default $XDG_CONFIG_HOME/warden/rules.toml)')
    .option('--json', 'print the report as JSON')
    .option('--escalated', 'as if the agent asked to run outside the sandbox');
  addPolicyOptions(cmd);
  cmd.action(async (command: string[], options: Options) => {
    const policy = buildPolicy(options, { resolveRoots: false });
    const rules = loadRules(options.rules);
    await loadShellGrammar();
    // the programs a bare name would run as, found on this shell's PATH as a run would clean it
    const programs = programLocatorFor(process.env, { command, cwd: process.cwd(), policy });
    const report = explainExec(
      { command, cwd: process.cwd(), withEscalatedPermissions: options.escalated ?? false, policy, platformSandbox: platformSandbox(), approvedForSession: false, programs },
      rules,
    );
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatExplain(report));
  });
}
