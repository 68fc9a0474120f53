/**
 * The exec verdict: DESIGN.md "Decision logic (exec)" steps 1-4 on top of CODEX-REFERENCE §5.
 * (Step 5, escalation after a sandbox denial, belongs to the approval machine.) Order: user rules,
 * then known-safe or approved-for-session, then dangerous, then the (approval, sandbox) matrix.
 * One deliberate deviation: an `allow` rule does not auto-approve a dangerous command (it falls
 * through to the dangerous step), so a stored prefix never silently covers `--force` variants.
 * Pure and total: it never throws; an internal failure becomes `ask` (or `reject` under `never`).
 * The shell grammar must be loaded (`await loadShellGrammar()`) before the first call; before it,
 * classifyExec throws ShellGrammarNotLoadedError (for every argv, so no verdict ever depends on
 * whether an earlier request loaded it).
 */
import type { SandboxType } from '../policy.ts';
import type { Classification, ExecClassificationInput } from './types.ts';
import { isDangerousCommand } from './dangerous.ts';
import { checkKnownSafe, isMalformedArgv, isSafeToCallWithExec, zshAsBash } from './knownSafe.ts';
import { programName } from './programs/programPath.ts';
import { isInterpreter, isShell, isWrapper } from './programs/wrappers.ts';
import { type RuleSet, type RuleVerdict, type PrefixRule, declinedAllowRules, matchRules, stricterDecision } from './rules.ts';
import { findRiskyWord } from './programs/riskyOptions.ts';
import { gitHardeningEnv } from './programs/gitHardening.ts';
import { ShellGrammarNotLoadedError, parseWordOnlyScript, requireShellGrammar, shellScriptOf } from './shellParse.ts';

export { isKnownSafeCommand } from './knownSafe.ts';
export { isDangerousCommand } from './dangerous.ts';

/** Classifies one exec request (pure, total). */
export function classifyExec(input: ExecClassificationInput, rules: RuleSet): Classification {
  requireShellGrammar();
  try {
    return decide(input, rules);
  } catch (error) {
    // a bug in wiring, not in the input: the caller must load the grammar, never get a guess
    if (error instanceof ShellGrammarNotLoadedError) throw error;
    const never = input?.policy?.approval === 'never';
    return {
      outcome: never ? 'reject' : 'ask',
      sandbox: 'none',
      knownSafe: false,
      dangerous: false,
      commands: null,
      reason: `classification failed (${error instanceof Error ? error.message : String(error)}); ${never ? 'rejected' : 'asking'} to be safe`,
      ...(never ? {} : { askReason: 'not-known-safe' as const }),
    };
  }
}

/** The word-only commands of argv: its script's commands for a shell form, else [argv]; null if a script did not parse. */
export function commandsOf(argv: readonly string[]): string[][] | null {
  const shell = shellScriptOf(zshAsBash(argv));
  if (shell === null) return [[...argv]];
  return parseWordOnlyScript(shell.script);
}

function decide(input: ExecClassificationInput, rules: RuleSet): Classification {
  const argv = input.command;
  const { approval, sandbox: mode } = input.policy;
  const malformed = !Array.isArray(argv) || argv.length === 0 || isMalformedArgv(argv);
  const commands = malformed ? null : commandsOf(argv);
  const safeVerdict = malformed ? null : checkKnownSafe(argv);
  const knownSafe = safeVerdict?.safe === true;
  // an argv we cannot inspect (NUL, over 1 MiB) counts as dangerous; an empty one does not
  const dangerous = malformed ? Array.isArray(argv) && argv.length > 0 : isDangerousCommand(argv);
  // known-safe runs still go in the (read-only) sandbox when one is in force (stricter than Codex)
  const sandbox: SandboxType = mode === 'danger-full-access' ? 'none' : input.platformSandbox;
  const base = { sandbox, knownSafe, dangerous, commands };
  const never = approval === 'never';

  if (malformed) {
    return never
      ? { ...base, outcome: 'reject', reason: 'the command is empty, holds a NUL byte or is over 1 MiB; rejected' }
      : { ...base, outcome: 'ask', askReason: 'not-known-safe', reason: 'the command is empty, holds a NUL byte or is over 1 MiB' };
  }

  // 1. user rules: strictest wins
  const verdict = ruleVerdict(rules, argv, commands);
  if (verdict.decision === 'forbidden') {
    return { ...base, outcome: 'reject', reason: `forbidden by ${describeRule(verdict.rule, rules)}: ${verdict.rule?.justification ?? ''}` };
  }
  if (verdict.decision === 'prompt') {
    const why = `${describeRule(verdict.rule, rules)} requires approval: ${verdict.rule?.justification ?? ''}`;
    return never
      ? { ...base, outcome: 'reject', reason: `${why}; rejected because the approval policy is never` }
      : { ...base, outcome: 'ask', askReason: 'rule', reason: why };
  }
  // an allow rule does not cover a dangerous variant of its prefix: `approved_always` on
  // `git push origin` stores ["git","push"], which must not wave through `git push --force`
  if (verdict.decision === 'allow' && !dangerous) {
    // a rule decides whether to ask, not where it runs: the policy's sandbox still holds it
    const where = knownSafe ? 'known-safe' : sandbox === 'none' ? 'not known-safe; runs without a sandbox' : `not known-safe; runs inside the ${mode} sandbox`;
    return { ...base, outcome: 'auto-approve', decisionSource: 'rule', reason: `allowed by ${describeRule(verdict.rule, rules)}: ${verdict.rule?.justification ?? ''} (${where})` };
  }

  // 2. known-safe, or approved for this session
  if (knownSafe) {
    return { ...base, outcome: 'auto-approve', decisionSource: 'policy', reason: 'known-safe read-only command', ...hardening(commands) };
  }
  const whyNot = ` (${clip(safeVerdict?.why ?? 'not understood')})${declinedNote(rules, argv, commands)}`;
  if (input.approvedForSession) {
    return { ...base, outcome: 'auto-approve', decisionSource: 'session-cache', reason: 'an identical command was approved for this session' };
  }

  const prefix = proposedPrefix(argv, commands, dangerous);
  const withPrefix = prefix === null ? {} : { proposedPrefix: prefix };

  // 3. dangerous
  if (dangerous) {
    return never
      ? { ...base, outcome: 'reject', reason: 'the command might destroy data or history; rejected because the approval policy is never' }
      : { ...base, outcome: 'ask', askReason: 'dangerous', reason: 'the command might destroy data or history', ...withPrefix };
  }

  // 4. the (approval, sandbox) matrix
  if (approval === 'untrusted') {
    return { ...base, outcome: 'ask', askReason: 'not-known-safe', reason: `not a known-safe command${whyNot} and the approval policy is untrusted`, ...withPrefix };
  }
  if (mode === 'danger-full-access') {
    return { ...base, outcome: 'auto-approve', decisionSource: 'policy', reason: `danger-full-access: runs without a sandbox; not known-safe${whyNot}` };
  }
  if (approval === 'on-request' && input.withEscalatedPermissions) {
    return { ...base, outcome: 'ask', askReason: 'escalation', reason: `the agent asked to run outside the sandbox; not known-safe${whyNot}`, ...withPrefix };
  }
  if (input.platformSandbox === 'none') {
    return never
      ? { ...base, outcome: 'reject', reason: `auto-rejected: not a known-safe command${whyNot} and no sandbox is available` }
      : { ...base, outcome: 'ask', askReason: 'no-sandbox', reason: `no sandbox is available to run the command in; not known-safe${whyNot}`, ...withPrefix };
  }
  return { ...base, outcome: 'auto-approve', decisionSource: 'policy', reason: `runs inside the ${mode} sandbox; not known-safe${whyNot}` };
}

/**
 * Rules for a shell form are checked on each parsed sub-command: any forbidden or prompt match
 * decides; `allow` decides only when EVERY sub-command is allowed by a rule or known-safe (an allow
 * for `cargo build` must not carry `cargo build && curl x | sh`). An unparsed script is matched as
 * its whole argv.
 */
function ruleVerdict(rules: RuleSet, argv: readonly string[], commands: string[][] | null): RuleVerdict {
  if (rules.rules.length === 0) return { decision: null, rule: null, matched: [] };
  const shellForm = shellScriptOf(zshAsBash(argv)) !== null;
  if (!shellForm || commands === null) return matchRules(rules, argv);
  let decision: RuleVerdict['decision'] = null;
  let rule: PrefixRule | null = null;
  const matched: PrefixRule[] = [];
  let everyCovered = true;
  for (const words of commands) {
    const v = matchRules(rules, words);
    matched.push(...v.matched);
    if (v.decision === null && !isSafeToCallWithExec(words)) everyCovered = false;
    const next = stricterDecision(decision, v.decision);
    if (next !== decision) rule = v.rule;
    decision = next;
  }
  if (decision === 'allow' && !everyCovered) return { decision: null, rule: null, matched };
  return { decision, rule, matched };
}

/** A known-safe git command runs with the repository's exec hooks turned off through its environment. */
function hardening(commands: string[][] | null): { runEnv?: Record<string, string> } {
  const runsGit = (commands ?? []).some((words) => programName(words[0] ?? '') === 'git');
  return runsGit ? { runEnv: gitHardeningEnv() } : {};
}

/** A reason quotes at most this much of a word or script. */
function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Allow rules whose prefix matched but which did not cover the command, said in the reason. */
function declinedNote(rules: RuleSet, argv: readonly string[], commands: string[][] | null): string {
  if (rules.rules.length === 0) return '';
  const candidates = commands ?? [argv as string[]];
  for (const words of candidates) {
    const declined = declinedAllowRules(rules, words);
    if (declined.length > 0) return `; ${describeRule(declined[0]!.rule, rules)} does not cover it: ${clip(declined[0]!.why)}`;
  }
  return '';
}

function describeRule(rule: PrefixRule | null, rules: RuleSet): string {
  if (rule === null) return 'a rule';
  const where = rules.source === null ? '' : ` of ${rules.source}`;
  return `rule #${rule.index + 1}${where} (${rule.pattern.map((alts) => alts.join('|')).join(' ')})`;
}

/** Programs whose second word names what they do (`git push`, `cargo build`). */
const SUBCOMMAND_TOOLS = new Set([
  'git', 'cargo', 'npm', 'pnpm', 'yarn', 'go', 'docker', 'podman', 'kubectl', 'helm', 'gh', 'pip', 'pip3', 'uv',
  'poetry', 'rustup', 'brew', 'apt', 'apt-get', 'dnf', 'systemctl', 'terraform', 'dotnet', 'mvn', 'gradle', 'bundle',
  'gem', 'composer', 'swift', 'deno', 'bun', 'hg', 'svn', 'nix', 'conda', 'mix', 'stack', 'cabal', 'opam',
]);

/**
 * The rule an `approved_always` would store ("what was approved, no more"), or null when none may
 * be offered: never for a shell, interpreter or wrapper, a dangerous command, a multi-command or
 * unparsed script, words with control characters, a bare program name (its operands can be code:
 * `sed 's/x/y/e'`), or an argv holding an exec/write option. For a subcommand tool with no options
 * after the subcommand it is the two words (`git push`), which covers later operands but no option;
 * otherwise it is the literal argv.
 */
export function proposedPrefix(argv: readonly string[], commands: string[][] | null, dangerous: boolean): string[] | null {
  if (dangerous || commands === null || commands.length !== 1) return null;
  const words = commands[0]!;
  const argv0 = words[0];
  if (argv0 === undefined) return null;
  const name = programName(argv0);
  if (isShell(name) || isInterpreter(name) || isWrapper(name)) return null;
  // eslint-disable-next-line no-control-regex
  if (words.some((t) => t === '' || /[\u0000-\u001f\u007f]/.test(t))) return null;
  if (findRiskyWord(words, 1) !== null) return null;
  const second = words[1];
  if (SUBCOMMAND_TOOLS.has(name) && second !== undefined && !second.startsWith('-')) {
    const optionsAfter = words.slice(2).some((w) => w.startsWith('-') && w !== '-');
    return optionsAfter ? [...words] : [argv0, second];
  }
  return words.length > 1 ? [...words] : null;
}
