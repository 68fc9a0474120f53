/**
 * Matching the person's prefix rules against an argv (pure): the rule types, whether a rule's
 * prefix matches (tokens compare exactly, as in Codex's execpolicy, CODEX-REFERENCE §9), what an
 * allow rule covers after its prefix (never the program's exec/write table, no option it does not
 * list), and the strictest matching rule (forbidden > prompt > allow). Reading the file is
 * ruleParse.ts (text to rules) and ruleFile.ts (the file itself); docs/rules.md states the semantics.
 */
import { programName } from './programs/programPath.ts';
import { findRiskyWord } from './programs/riskyOptions.ts';

export const RULE_DECISIONS = ['allow', 'prompt', 'forbidden'] as const;
export type RuleDecision = (typeof RULE_DECISIONS)[number];

const STRICTNESS: Record<RuleDecision, number> = { allow: 0, prompt: 1, forbidden: 2 };

export interface PrefixRule {
  /** Position in the file, from 0; shown as `rule #index+1`. */
  index: number;
  /** Per position, the accepted tokens. */
  pattern: string[][];
  decision: RuleDecision;
  justification: string;
  /** Allow rules: option words the rule also covers after its prefix (`options = ["--watch"]`). */
  options: readonly string[];
  /** Allow rules: cover any option after the prefix, except the program's exec/write table. */
  anyOptions: boolean;
  /** Allow and prompt rules: domains the command may reach through the proxy when the rule matches. */
  domains: readonly string[];
  /** Allow rules: the command must be exactly the pattern, no word after it (`exact = true`). */
  exact: boolean;
}

/** The `[network]` table: domain lists for every sandboxed run without the network. */
export interface NetworkTable {
  allow: string[];
  deny: string[];
  /** Exact names approved "always" by a person (written by warden): public addresses only. */
  approved: string[];
}

/** Tools whose second word is a subcommand: `git push`, `cargo build`, ... */
export const SUBCOMMAND_TOOLS = new Set([
  'git', 'cargo', 'npm', 'pnpm', 'yarn', 'go', 'docker', 'podman', 'kubectl', 'helm', 'gh', 'pip', 'pip3', 'uv',
  'poetry', 'rustup', 'brew', 'apt', 'apt-get', 'dnf', 'systemctl', 'terraform', 'dotnet', 'mvn', 'gradle', 'bundle',
  'gem', 'composer', 'swift', 'deno', 'bun', 'hg', 'svn', 'nix', 'conda', 'mix', 'stack', 'cabal', 'opam',
]);

/**
 * Subcommands that are groups of verbs, where the two words would cover every sibling verb: an
 * "always allow" on `git stash list` must not allow `git stash clear`, nor `gh pr view 1` allow
 * `gh pr merge 1`, nor `terraform state list` allow `terraform state rm` (redclass). Per tool the
 * group subcommands; `*` for a tool whose every subcommand is a group (gh). Their prefix is the
 * literal argv, stored exact.
 */
export const GROUP_SUBCOMMANDS: Readonly<Record<string, ReadonlySet<string> | '*'>> = {
  git: new Set(['stash', 'worktree', 'remote', 'config', 'submodule', 'reflog', 'notes', 'bisect', 'sparse-checkout', 'maintenance', 'lfs', 'credential', 'bundle', 'commit-graph', 'multi-pack-index', 'hook', 'replace', 'symbolic-ref', 'update-ref', 'p4', 'svn']),
  gh: '*',
  docker: new Set(['compose', 'container', 'image', 'volume', 'network', 'system', 'buildx', 'builder', 'context', 'plugin', 'manifest', 'trust', 'swarm', 'node', 'service', 'stack', 'secret', 'config', 'checkpoint', 'scout']),
  podman: new Set(['compose', 'container', 'image', 'volume', 'network', 'system', 'pod', 'machine', 'secret', 'manifest', 'generate', 'kube', 'play']),
  kubectl: new Set(['config', 'rollout', 'auth', 'certificate', 'plugin', 'create', 'set', 'top', 'alpha']),
  helm: new Set(['repo', 'plugin', 'registry', 'dependency', 'get', 'show', 'search', 'env']),
  npm: new Set(['cache', 'config', 'dist-tag', 'owner', 'team', 'access', 'profile', 'token', 'org', 'pkg', 'hook', 'star', 'trust']),
  pnpm: new Set(['store', 'config', 'env', 'cache']),
  yarn: new Set(['cache', 'config', 'global', 'workspace', 'workspaces', 'plugin', 'npm', 'constraints', 'version']),
  cargo: new Set(['owner', 'registry']),
  go: new Set(['mod', 'work', 'env', 'tool', 'telemetry']),
  pip: new Set(['cache', 'config']),
  pip3: new Set(['cache', 'config']),
  uv: new Set(['pip', 'tool', 'python', 'cache', 'self', 'auth']),
  poetry: new Set(['env', 'cache', 'config', 'source', 'self']),
  rustup: new Set(['toolchain', 'component', 'target', 'override', 'self', 'set']),
  terraform: new Set(['state', 'workspace', 'providers']),
  dotnet: new Set(['tool', 'nuget', 'workload', 'dev-certs', 'sln']),
  brew: new Set(['services', 'bundle', 'tap']),
  conda: new Set(['env', 'config']),
  nix: new Set(['profile', 'store', 'registry', 'flake', 'derivation', 'nar', 'hash', 'key', 'daemon']),
  gem: new Set(['sources', 'owner', 'cert', 'signin']),
  composer: new Set(['global', 'config']),
  hg: new Set(['config', 'bookmarks', 'shelve']),
  svn: new Set(['propset', 'propdel']),
  deno: new Set(['jupyter']),
  bun: new Set(['pm']),
  opam: new Set(['switch', 'repository', 'pin', 'config', 'var', 'option']),
  cabal: new Set(['v2-run']),
  mix: new Set(['deps']),
  stack: new Set(['config']),
  bundle: new Set(['config']),
  swift: new Set(['package']),
  dnf: new Set(['module', 'config-manager', 'repository']),
};

/** Is `sub` a group of verbs under `tool` (see GROUP_SUBCOMMANDS)? */
export function isGroupSubcommand(tool: string, sub: string): boolean {
  if (!Object.hasOwn(GROUP_SUBCOMMANDS, tool)) return false;
  const groups = GROUP_SUBCOMMANDS[tool]!;
  return groups === '*' || groups.has(sub);
}

/**
 * Whether an `approved_always` prefix is the two-word subcommand form (`git push`: it covers later
 * operands, no option) rather than a literal argv (`touch x`, `cargo build --release`), which is
 * stored exact. The two are told apart by shape alone, as proposedPrefix makes them.
 */
export function isSubcommandPrefix(prefix: readonly string[]): boolean {
  return prefix.length === 2 && SUBCOMMAND_TOOLS.has(programName(prefix[0]!)) && !prefix[1]!.startsWith('-') && !isGroupSubcommand(programName(prefix[0]!), prefix[1]!);
}

export interface RuleSet {
  rules: readonly PrefixRule[];
  /** The file the rules came from, or null for none. */
  source: string | null;
  /** The `[network]` table, or absent when the file has none. */
  network?: NetworkTable;
}

export const EMPTY_RULE_SET: RuleSet = Object.freeze({ rules: Object.freeze([]), source: null });


/**
 * Does `rule` match `argv` as a prefix? Tokens compare exactly (no option skipping, as in Codex).
 * For prompt and forbidden rules the program also matches by basename (`/usr/bin/git push` is held
 * by a `git push` rule); an allow rule needs the program spelled as in the rule.
 */
export function ruleMatches(rule: PrefixRule, argv: readonly string[]): boolean {
  return prefixMatches(rule, argv) && (rule.decision !== 'allow' || uncoveredWord(rule, argv) === null);
}

function prefixMatches(rule: PrefixRule, argv: readonly string[]): boolean {
  if (argv.length < rule.pattern.length) return false;
  // an exact rule (what "always allow `touch x`" stored) holds that argv and nothing longer
  if (rule.exact && argv.length !== rule.pattern.length) return false;
  for (let i = 0; i < rule.pattern.length; i++) {
    const token = argv[i]!;
    const alternatives = rule.pattern[i]!;
    if (alternatives.includes(token)) continue;
    if (i === 0 && rule.decision !== 'allow' && alternatives.includes(programName(token))) continue;
    return false;
  }
  return true;
}

/**
 * Why an allow rule whose prefix matches does not cover the rest of argv, or null when it does.
 * The words after the prefix may hold no word of the program's exec/write table (whatever the
 * rule says: `allow ["git","fetch"]` never covers `--upload-pack=CMD` or an `ext::` URL), and no
 * option at all unless the rule lists it (`options`) or takes any (`any_options`). After `--`
 * every word is an operand. Pure.
 */
export function uncoveredWord(rule: PrefixRule, argv: readonly string[]): { word: string; why: string } | null {
  const risky = findRiskyWord(argv, rule.pattern.length);
  if (risky !== null) return { word: risky.word, why: `\`${risky.word}\` ${risky.why}` };
  // find's `--` ends only its -H/-L/-P options: the expression after it is still options to a rule
  const find = programName(argv[0] ?? '') === 'find';
  for (let i = rule.pattern.length; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--' && find) continue;
    if (word === '--') break;
    if (!word.startsWith('-') || word === '-') continue;
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    if (rule.options.includes(word) || rule.options.includes(name) || rule.anyOptions) continue;
    return { word, why: `the rule covers no option it does not list, and \`${word}\` is not listed` };
  }
  return null;
}

/** Allow rules whose prefix matches argv but which do not cover it, with the word why (for reasons). */
export function declinedAllowRules(ruleSet: RuleSet, argv: readonly string[]): Array<{ rule: PrefixRule; word: string; why: string }> {
  const out: Array<{ rule: PrefixRule; word: string; why: string }> = [];
  for (const rule of ruleSet.rules) {
    if (rule.decision !== 'allow' || !prefixMatches(rule, argv)) continue;
    const w = uncoveredWord(rule, argv);
    if (w !== null) out.push({ rule, ...w });
  }
  return out;
}

export interface RuleVerdict {
  /** The strictest decision among matching rules, or null when no rule decides. */
  decision: RuleDecision | null;
  /** The strictest matching rule (its justification is shown). */
  rule: PrefixRule | null;
  /** Every matching rule, for the record. */
  matched: PrefixRule[];
}

/** Strictest rule matching `argv` (pure). */
export function matchRules(ruleSet: RuleSet, argv: readonly string[]): RuleVerdict {
  const matched = ruleSet.rules.filter((r) => ruleMatches(r, argv));
  let best: PrefixRule | null = null;
  for (const r of matched) if (best === null || STRICTNESS[r.decision] > STRICTNESS[best.decision]) best = r;
  return { decision: best?.decision ?? null, rule: best, matched };
}

export function stricterDecision(a: RuleDecision | null, b: RuleDecision | null): RuleDecision | null {
  if (a === null) return b;
  if (b === null) return a;
  return STRICTNESS[a] >= STRICTNESS[b] ? a : b;
}


/**
 * The domain lists the rules add to a command's run: the `[network]` table, and the `domains` of every
 * allow or prompt rule that matches argv (as a whole: an allow rule that does not cover the argv gives
 * none). Undefined when the rules say nothing about the network. Pure.
 */
export function networkForCommand(ruleSet: RuleSet, argv: readonly string[] | null): NetworkTable | undefined {
  const fromRules =
    argv === null ? [] : ruleSet.rules.filter((r) => r.domains.length > 0 && r.decision !== 'forbidden' && ruleMatches(r, argv)).flatMap((r) => r.domains);
  if (ruleSet.network === undefined && fromRules.length === 0) return undefined;
  const table = ruleSet.network ?? { allow: [], deny: [], approved: [] };
  return { allow: [...new Set([...table.allow, ...fromRules])], deny: [...table.deny], approved: [...table.approved] };
}
