/**
 * The exec verdict: DESIGN.md "Decision logic (exec)" steps 1-4 on top of CODEX-REFERENCE §5.
 * (Step 5, escalation after a sandbox denial, belongs to the approval machine.) Order: user rules,
 * then known-safe or approved-for-session, then dangerous, then the (approval, sandbox) matrix.
 * One deliberate deviation: an `allow` rule does not auto-approve a dangerous command (it falls
 * through to the dangerous step), so a stored prefix never silently covers `--force` variants.
 * Pure and total: it never throws; an internal failure becomes `ask` (or `reject` under `never`).
 * The shell grammar is loaded on demand: a verdict that reads a script before it is loaded throws
 * ShellGrammarNotLoadedError (it never guesses), and the caller loads it and asks again. So no
 * verdict depends on whether an earlier request loaded it: one that returned without throwing never
 * read it. A plain argv (`true`, `git status`) then costs no grammar load (~25 ms of start-up).
 */
import { posix } from 'node:path';
import type { SandboxType } from '../policy.ts';
import type { Classification, ExecClassificationInput } from './types.ts';
import { isDangerousCommand } from './dangerous.ts';
import { OPERAND_SENSITIVE, checkKnownSafe, checkProgram, isMalformedArgv, zshAsBash } from './knownSafe.ts';
import { type ProgramLocator, programName } from './programs/programPath.ts';
import { segmentMatches } from './programs/secretPaths.ts';
import { inlineScripts, isInterpreter, isShell, isWrapper } from './programs/wrappers.ts';
import { findGitSubcommand } from './programs/git.ts';
import { type RuleSet, type RuleVerdict, type PrefixRule, SUBCOMMAND_TOOLS, declinedAllowRules, isGroupSubcommand, matchRules, stricterDecision } from './ruleMatch.ts';
import { findRiskyWord } from './programs/riskyOptions.ts';
import { gitHardeningEnv } from './programs/gitHardening.ts';
import { ShellGrammarNotLoadedError, deepScanScript, parseWordOnlyScript, parseWordOnlyScriptDetailed, shellScriptOf } from './shellParse.ts';
import { messageOf } from '../errors.ts';

export { isKnownSafeCommand } from './knownSafe.ts';
export { isDangerousCommand } from './dangerous.ts';

/** Classifies one exec request (pure, total). */
export function classifyExec(input: ExecClassificationInput, rules: RuleSet): Classification {
  try {
    return verdictFor(input, rules);
  } catch (error) {
    // not a failure of this input: the caller loads the grammar and asks again, never gets a guess
    if (error instanceof ShellGrammarNotLoadedError) throw error;
    const never = input?.policy?.approval === 'never';
    return {
      outcome: never ? 'reject' : 'ask',
      sandbox: 'none',
      knownSafe: false,
      dangerous: false,
      commands: null,
      reason: `classification failed (${messageOf(error)}); ${never ? 'rejected' : 'asking'} to be safe`,
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

/**
 * The bare program names a verdict on argv looks up (pure; a script needs the grammar loaded): its
 * argv[0] and, for a shell form, each word-only command's. The edge finds them on the command's
 * PATH before classifying; a name it did not look up counts as not found (not known-safe).
 */
export function programsToLocate(argv: readonly string[]): string[] {
  if (!Array.isArray(argv) || argv.length === 0 || isMalformedArgv(argv)) return [];
  // zsh is read as bash (zshAsBash), but zsh is what runs: both are looked up
  const names = new Set<string>([argv[0]!, ...zshAsBash(argv).slice(0, 1), ...(commandsOf(argv) ?? []).map((words) => words[0] ?? '')]);
  return [...names].filter((n) => n !== '' && !n.includes('/'));
}

function verdictFor(input: ExecClassificationInput, rules: RuleSet): Classification {
  const argv = input.command;
  const { approval, sandbox: mode } = input.policy;
  const malformed = !Array.isArray(argv) || argv.length === 0 || isMalformedArgv(argv);
  const commands = malformed ? null : commandsOf(argv);
  // a caller that gave no locator places no bare name: nothing found on PATH is known-safe
  const locate = typeof input.programs === 'function' ? input.programs : () => null;
  // the run's directory too: an agent chooses it (`cat hosts.yml` in ~/.config/gh)
  const safeVerdict = malformed ? null : checkKnownSafe(argv, { locate, ...(typeof input.cwd === 'string' ? { cwd: input.cwd } : {}) });
  const knownSafe = safeVerdict?.safe === true;
  // an argv we cannot inspect (NUL, over 1 MiB) counts as dangerous; an empty one does not
  const dangerous = malformed ? Array.isArray(argv) && argv.length > 0 : isDangerousCommand(argv);
  // known-safe runs always go in the read-only sandbox where the platform has one, even under
  // danger-full-access (stricter than Codex): it holds them to reading and masks the secrets
  // (`cat ~/.ssh/id_rsa` is a known-safe read); everything else follows the policy's mode
  const sandbox: SandboxType = knownSafe || mode !== 'danger-full-access' ? input.platformSandbox : 'none';
  // a known-safe git command gets the hardening whoever approves it (a person, where no sandbox is)
  const base = { sandbox, knownSafe, dangerous, commands, ...(knownSafe ? hardening(commands) : {}) };
  const never = approval === 'never';

  if (malformed) {
    return never
      ? { ...base, outcome: 'reject', reason: 'the command is empty, holds a NUL byte or is over 1 MiB; rejected' }
      : { ...base, outcome: 'ask', askReason: 'not-known-safe', reason: 'the command is empty, holds a NUL byte or is over 1 MiB' };
  }

  // 1. user rules: strictest wins
  const verdict = ruleVerdict(rules, argv, commands, locate);
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

  // 2. known-safe, or approved for this session. Known-safe is never auto-run bare: without a
  // platform sandbox nothing holds it to reading or hides the secrets it may name (`cat
  // ~/.ssh/id_rsa`, `cat /etc/shadow`), so it goes through the matrix like any other command
  if (knownSafe && input.platformSandbox !== 'none') {
    return { ...base, outcome: 'auto-approve', decisionSource: 'policy', reason: 'known-safe read-only command' };
  }
  // the agent client's own tool runs it, in the client's sandbox: known-safe still auto-approves,
  // unless a word (or the directory) may reach a hidden path, which no sandbox of ours masks there
  const secret = knownSafe && input.clientRuns === true ? mayReachHidden(commands ?? [[...argv]], input.cwd, input.policy.hidden ?? []) : null;
  // ... and unless it runs git: warden turns the repository's exec hooks off through git's
  // environment (runEnv), which the client's tool never gets, so there `git status` runs the
  // repository's core.fsmonitor, `git log` its pager, textconv and gpg.program (redclass: a
  // planted .git/config ran its fsmonitor through `warden hook codex --runner client`)
  const clientGit = knownSafe && input.clientRuns === true && (commands ?? [[...argv]]).some((words) => programName(words[0] ?? '') === 'git');
  if (knownSafe && input.clientRuns === true && secret === null && !clientGit) {
    return { ...base, outcome: 'auto-approve', decisionSource: 'policy', reason: "known-safe read-only command (the client's own tool runs it)" };
  }
  const whyNot = knownSafe
    ? secret !== null
      ? ` (known-safe, but \`${clip(secret)}\` may reach a hidden path and no warden sandbox masks it)`
      : clientGit
        ? " (known-safe, but git run by the client's own tool reads the repository's config, which can run programs (core.fsmonitor, core.pager ...), and warden cannot turn that off there)"
        : ' (known-safe, but no sandbox is available to hold it to reading and hide secrets)'
    : ` (${clip(safeVerdict?.why ?? 'not understood')})${declinedNote(rules, argv, commands)}`;
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
function ruleVerdict(rules: RuleSet, argv: readonly string[], commands: string[][] | null, locate: ProgramLocator): RuleVerdict {
  if (rules.rules.length === 0) return { decision: null, rule: null, matched: [] };
  const plain = plainRuleVerdict(rules, argv, commands, locate);
  const held = heldByStrictRule(rules, argv, commands);
  if (held === null || stricterDecision(plain.decision, held.decision) === plain.decision) return plain;
  return { decision: held.decision, rule: held, matched: [...plain.matched, held] };
}

/**
 * The strictest prompt or forbidden rule matching any command argv may run, read the way the
 * danger check reads them (over-finding is the safe error for these): the wrapped command of a
 * wrapper at every later word (`env git push`, `timeout 5 curl x`, `xargs curl`), git without its
 * global options (`git --no-pager push`, `git -C . push`), and every command of an inline or
 * unparsed script (`bash -lc 'git push 2>/dev/null'`, `bash -c -e 'git push'`). A rule forbidding
 * `git push` was bypassed by each of these (redclass). Null when none matches.
 */
function heldByStrictRule(rules: RuleSet, argv: readonly string[], commands: string[][] | null): PrefixRule | null {
  const strict = strictRulesOf(rules);
  if (strict.rules.length === 0) return null;
  const seen = new Set<string>();
  const queue: string[][] = [[...argv], ...(commands ?? [])];
  const shell = shellScriptOf(zshAsBash(argv));
  if (shell !== null && commands === null) queue.push(...deepScanScript(shell.script));
  let best: PrefixRule | null = null;
  for (let n = 0; n < queue.length && n < 256; n++) {
    const words = queue[n]!;
    const key = JSON.stringify(words);
    if (words.length === 0 || seen.has(key)) continue;
    seen.add(key);
    const v = matchRules(strict, words);
    if (v.rule !== null && (best === null || stricterDecision(best.decision, v.rule.decision) !== best.decision)) best = v.rule;
    const name = programName(words[0] ?? '');
    if (name === 'git') {
      const sub = findGitSubcommand(words);
      if (sub > 1) queue.push([words[0]!, ...words.slice(sub)]);
    }
    if (isWrapper(name) || isShell(name)) {
      for (let i = 1; i < words.length; i++) {
        const w = words[i]!;
        if (!w.startsWith('-') && !w.startsWith('+') && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) queue.push(words.slice(i));
      }
      for (const script of inlineScripts(words)) queue.push(...deepScanScript(script));
    }
  }
  return best;
}

/** The prompt and forbidden rules of a rule list, filtered once per list (fixed once parsed), not per classification. */
const strictRules = new WeakMap<readonly PrefixRule[], readonly PrefixRule[]>();
function strictRulesOf(rules: RuleSet): RuleSet {
  let strict = strictRules.get(rules.rules);
  if (strict === undefined) {
    strict = rules.rules.filter((r) => r.decision !== 'allow');
    strictRules.set(rules.rules, strict);
  }
  return { ...rules, rules: strict };
}

function plainRuleVerdict(rules: RuleSet, argv: readonly string[], commands: string[][] | null, locate: ProgramLocator): RuleVerdict {
  const shell = shellScriptOf(zshAsBash(argv));
  if (shell === null || commands === null) return matchRules(rules, argv);
  const detailed = parseWordOnlyScriptDetailed(shell.script);
  let decision: RuleVerdict['decision'] = null;
  let rule: PrefixRule | null = null;
  const matched: PrefixRule[] = [];
  let everyCovered = true;
  let changedDirectory = false;
  commands.forEach((words, i) => {
    const v = matchRules(rules, words);
    matched.push(...v.matched);
    const name = programName(words[0] ?? '');
    const expansion = detailed?.expansion[i] ?? 'unsafe';
    // a rule was written for the words it names, not for what the shell makes of them: an allow
    // does not cover a glob that could expand to an option (`rg foo *.py` -> `--pre=x.py`), brace
    // expansion (`find . {-delete,}`), a glob where the operand count matters, or git after `cd`
    // (another repository, whose config runs programs)
    const reshaped = expansion === 'unsafe' || (expansion === 'prefixed' && OPERAND_SENSITIVE.has(name)) || (changedDirectory && name === 'git');
    if (name === 'cd') changedDirectory = true;
    const ruled = v.decision === 'allow' && reshaped ? null : v.decision;
    if (ruled === null && (reshaped || !checkProgram(words, expansion, { locate }, detailed?.expandingWord[i] ?? null).safe)) everyCovered = false;
    const next = stricterDecision(decision, ruled);
    if (next !== decision) rule = v.rule;
    decision = next;
  });
  if (decision === 'allow' && !everyCovered) return { decision: null, rule: null, matched };
  return { decision, rule, matched };
}

/**
 * The first word of `commands` (or the directory) that may reach a hidden path, or null (pure). A
 * word is read as a path against cwd; it may reach one when it lies inside a hidden path or holds
 * one (`grep -r token ~` reads ~/.ssh), and so does cwd itself (a recursive read with no operand).
 * A word with `~` or `$` cannot be resolved here and counts. Symlinks are not followed (no I/O).
 */
export function mayReachHidden(commands: readonly (readonly string[])[], cwd: string, hidden: readonly string[]): string | null {
  if (hidden.length === 0) return null;
  // a glob reaches a hidden path when its segments could spell the path or a directory holding
  // it (`cat /data/secre?` with /data/secret hidden: redclass); the shell expands it, not warden
  const reaches = (p: string) => hidden.some((h) => isWithinPath(p, h) || isWithinPath(h, p) || (/[*?[]/.test(p) && globReaches(p, h)));
  if (reaches(cwd)) return cwd;
  // every directory a script may be in: a relative word is read from each (`cd /data/x && cat
  // ../vault/key`: redclass), and a cd that fails leaves the shell where it was
  let directories = [cwd];
  for (const words of commands) {
    for (const word of words.slice(1)) {
      if (word.includes('~') || word.includes('$')) return word;
      // an attached option value (`--file=/home/u/.ssh/x`, `-f/home/u/.ssh/x`) is a path too
      const eq = word.indexOf('=');
      const candidates = [word, ...(eq >= 0 ? [word.slice(eq + 1)] : []), ...(/^-[^-]/.test(word) ? [word.slice(2)] : [])];
      for (const c of candidates) if (c !== '' && !c.startsWith('-') && directories.some((d) => reaches(posix.resolve(d, c)))) return word;
    }
    if (programName(words[0] ?? '') === 'cd') {
      const target = words.slice(1).find((w) => !w.startsWith('-'));
      if (target !== undefined) directories = [...new Set([...directories, ...directories.map((d) => posix.resolve(d, target))])];
    }
  }
  return null;
}

/** Do the segments of `pattern` (absolute, a glob) match those of `path`, one being a prefix of the other? */
function globReaches(pattern: string, path: string): boolean {
  const a = pattern.split('/').filter((s) => s !== '');
  const b = path.split('/').filter((s) => s !== '');
  return a.slice(0, b.length).every((s, i) => segmentMatches(s, b[i]!));
}

function isWithinPath(path: string, root: string): boolean {
  const r = root.length > 1 && root.endsWith('/') ? root.slice(0, -1) : root;
  return path === r || path.startsWith(r === '/' ? '/' : `${r}/`);
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

/**
 * The rule an `approved_always` would store ("what was approved, no more"), or null when none may
 * be offered: never for a shell, interpreter or wrapper, a dangerous command, a multi-command or
 * unparsed script, words with control characters, a bare program name (its operands can be code:
 * `sed 's/x/y/e'`), or an argv holding an exec/write option. For a subcommand tool with no options
 * after the subcommand it is the two words (`git push`), which covers later operands but no option;
 * otherwise it is the literal argv, stored as an exact rule (`touch x` allows `touch x` only, not
 * `touch x ~/.profile`): see isSubcommandPrefix.
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
  // a group of verbs (`git stash`, `gh pr`): its two words would cover every sibling verb
  if (SUBCOMMAND_TOOLS.has(name) && second !== undefined && !second.startsWith('-') && !isGroupSubcommand(name, second)) {
    const optionsAfter = words.slice(2).some((w) => w.startsWith('-') && w !== '-');
    return optionsAfter ? [...words] : [argv0, second];
  }
  return words.length > 1 ? [...words] : null;
}
