/**
 * git: which invocations only read (CODEX-REFERENCE §1, much stricter) and which destroy work or
 * remote history (§2). Both read git's global options exactly as git.c's handle_options does
 * (git 2.39 to 2.47): a value-taking global consumes its value, separate or attached as git allows,
 * so `git --shallow-file x clean -fdx` is `clean`, not `x`. Known-safe then needs: only harmless
 * globals (no `-C` elsewhere, `--git-dir`, `--work-tree`, `-c`, `--help` ...), a read-only
 * subcommand, and every word after it in that subcommand's accepted-option table. Pure.
 */
import { shortGroupHas, longName, abbreviates } from './flags.ts';
import { type OptionTable, type RiskyOption, type SafeVerdict, SAFE, notSafe, optionTable, readArgs } from './optionTable.ts';

/** How a global option takes its value: none, only as the next word, only after `=`, or either. */
type GlobalValue = 'none' | 'separate' | 'attached' | 'either' | 'attached-optional';

/** Every global option of git(1) / git.c handle_options, with how it takes a value. */
export const GIT_GLOBAL_OPTIONS: ReadonlyMap<string, GlobalValue> = new Map<string, GlobalValue>([
  ['-C', 'separate'],
  ['-c', 'separate'],
  ['--config-env', 'either'],
  ['--exec-path', 'attached-optional'],
  ['--html-path', 'none'],
  ['--man-path', 'none'],
  ['--info-path', 'none'],
  ['-p', 'none'],
  ['--paginate', 'none'],
  ['-P', 'none'],
  ['--no-pager', 'none'],
  ['--no-replace-objects', 'none'],
  ['--no-lazy-fetch', 'none'],
  ['--no-optional-locks', 'none'],
  ['--no-advice', 'none'],
  ['--bare', 'none'],
  ['--git-dir', 'either'],
  ['--work-tree', 'either'],
  ['--namespace', 'either'],
  ['--super-prefix', 'either'],
  ['--attr-source', 'either'],
  ['--shallow-file', 'separate'],
  ['--list-cmds', 'attached'],
  ['--literal-pathspecs', 'none'],
  ['--glob-pathspecs', 'none'],
  ['--noglob-pathspecs', 'none'],
  ['--icase-pathspecs', 'none'],
  // these end option parsing and run `git help` / `git version` with the rest as arguments
  ['-h', 'none'],
  ['--help', 'none'],
  ['-v', 'none'],
  ['--version', 'none'],
]);

/** Globals that change nothing a read-only subcommand could be made to do. */
const HARMLESS_GLOBALS: ReadonlySet<string> = new Set([
  '-P', '--no-pager', '--no-replace-objects', '--no-lazy-fetch', '--no-optional-locks', '--no-advice',
  '--literal-pathspecs', '--glob-pathspecs', '--noglob-pathspecs', '--icase-pathspecs',
]);

/** Why each dangerous global is refused before a read-only subcommand (shown in reasons). */
const GLOBAL_WHY: Readonly<Record<string, string>> = {
  '-C': 'points git at another repository, whose config can run programs (core.fsmonitor, core.pager ...)',
  '--git-dir': 'points git at another repository, whose config can run programs',
  '--work-tree': 'points git at another work tree',
  '--bare': 'treats the current directory as a repository, whose config can run programs',
  '-c': 'overrides config, which can run programs (core.pager, core.fsmonitor ...)',
  '--config-env': 'overrides config from the environment, which can run programs',
  '--exec-path': 'runs git helper programs from another directory',
  '-p': 'starts a pager program',
  '--paginate': 'starts a pager program',
  '-h': 'runs `git help`, which starts man with a configurable viewer',
  '--help': 'runs `git help`, which starts man with a configurable viewer',
  '--shallow-file': 'makes git read and rewrite another shallow file',
};

export interface GitGlobal {
  name: string;
  value: string | null;
  word: string;
}

export type GitCommandLine =
  | { ok: true; globals: GitGlobal[]; sub: number }
  | { ok: false; word: string; why: string; /** index of the word git would refuse */ at: number };

/**
 * Reads git's global options as handle_options does. `sub` is the index in argv of the
 * subcommand, or argv.length when there is none. An option git does not know is an error.
 */
export function readGitCommandLine(argv: readonly string[]): GitCommandLine {
  const globals: GitGlobal[] = [];
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-')) return { ok: true, globals, sub: i };
    if (word === '--') return { ok: true, globals, sub: i + 1 };
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq < 0 ? word : word.slice(0, eq);
    const kind = GIT_GLOBAL_OPTIONS.get(name);
    if (kind === undefined) return { ok: false, word, why: `\`${word}\` is not a git global option (git refuses it)`, at: i };
    if (eq >= 0) {
      if (kind === 'none' || kind === 'separate') return { ok: false, word, why: `git's \`${name}\` takes no \`=value\``, at: i };
      globals.push({ name, value: word.slice(eq + 1), word });
      continue;
    }
    if (kind === 'separate' || kind === 'either') {
      const value = argv[i + 1];
      if (value === undefined) return { ok: false, word, why: `git's \`${name}\` needs a value`, at: i };
      globals.push({ name, value, word });
      i += 1;
      continue;
    }
    if (kind === 'attached') return { ok: false, word, why: `git's \`${name}\` needs \`=value\``, at: i };
    globals.push({ name, value: null, word });
    // --help, --version, --exec-path (alone), --html-path ... end the command line
    if (name === '-h' || name === '--help' || name === '-v' || name === '--version') return { ok: true, globals, sub: argv.length };
  }
  return { ok: true, globals, sub: argv.length };
}

/** Diff options the read-only subcommands share (diff.c), without those that write or run. */
const DIFF_LONG = [
  'patch', 'no-patch', 'raw', 'patch-with-raw', 'patch-with-stat', 'stat=?', 'compact-summary', 'numstat', 'shortstat',
  'dirstat=?', 'cumulative', 'dirstat-by-file=?', 'summary', 'name-only', 'name-status', 'color=?', 'no-color',
  'color-moved=?', 'no-color-moved', 'color-moved-ws=', 'no-color-moved-ws', 'word-diff=?', 'word-diff-regex=',
  'color-words=?', 'no-renames', 'rename-empty', 'no-rename-empty', 'check', 'ws-error-highlight=', 'full-index', 'binary',
  'abbrev=?', 'break-rewrites=?', 'find-renames=?', 'find-copies=?', 'find-copies-harder', 'irreversible-delete',
  'diff-filter=', 'pickaxe-all', 'pickaxe-regex', 'skip-to=', 'rotate-to=', 'relative=?', 'no-relative', 'text',
  'ignore-cr-at-eol', 'ignore-space-at-eol', 'ignore-space-change', 'ignore-all-space', 'ignore-blank-lines',
  'ignore-matching-lines=', 'inter-hunk-context=', 'function-context', 'no-function-context', 'exit-code', 'quiet',
  'no-ext-diff', 'no-textconv', 'ignore-submodules=?', 'src-prefix=', 'dst-prefix=', 'no-prefix', 'default-prefix',
  'line-prefix=', 'ita-invisible-in-index', 'ita-visible-in-index', 'indent-heuristic', 'no-indent-heuristic', 'minimal',
  'patience', 'histogram', 'anchored=', 'diff-algorithm=', 'unified=', 'output-indicator-new=', 'output-indicator-old=',
  'output-indicator-context=', 'full-diff', 'stat-width=', 'stat-name-width=', 'stat-graph-width=', 'stat-count=',
];
/** Revision-walk options (revision.c) that only select and format commits. */
const LOG_LONG = [
  'oneline', 'format=', 'pretty=?', 'abbrev-commit', 'no-abbrev-commit', 'no-abbrev', 'date=', 'relative-date', 'graph',
  'no-graph', 'decorate=?', 'no-decorate', 'decorate-refs=', 'decorate-refs-exclude=', 'clear-decorations', 'source',
  'max-count=', 'skip=', 'since=', 'after=', 'until=', 'before=', 'since-as-filter=', 'author=', 'committer=', 'grep=',
  'grep-reflog=', 'all-match', 'invert-grep', 'regexp-ignore-case', 'basic-regexp', 'extended-regexp', 'fixed-strings',
  'perl-regexp', 'all', 'branches=?', 'tags=?', 'remotes=?', 'glob=', 'exclude=', 'reflog', 'alternate-refs', 'single-worktree',
  'merges', 'no-merges', 'min-parents=', 'max-parents=', 'no-min-parents', 'no-max-parents', 'first-parent',
  'exclude-first-parent-only', 'not', 'reverse', 'topo-order', 'date-order', 'author-date-order', 'follow', 'full-history',
  'dense', 'sparse', 'simplify-by-decoration', 'simplify-merges', 'show-pulls', 'ancestry-path=?', 'left-right', 'left-only',
  'right-only', 'cherry-pick', 'cherry-mark', 'cherry', 'boundary', 'no-walk=?', 'do-walk', 'walk-reflogs', 'merge',
  'parents', 'children', 'log-size', 'notes=?', 'no-notes', 'show-notes-by-default', 'expand-tabs=?', 'no-expand-tabs',
  'mailmap', 'no-mailmap', 'use-mailmap', 'no-use-mailmap', 'encoding=', 'show-linear-break=?', 'count', 'timestamp',
  // no --remerge-diff: it re-runs each merge, with the merge driver the attributes select
  // no --stdin: it reads revisions and paths warden never sees (`echo HEAD:.env | git show --stdin`)
  'diff-merges=', 'no-diff-merges', 'dd', 'no-standard-notes', 'standard-notes', 'in-commit-order',
];

/** log and show share the revision parser's options; only log has `-L` (line ranges). */
const revisionTable = (extraShort: string) =>
  optionTable({
    // no grouping in the revision parser; -U, -M, -C, -B take their value only attached
    short: `pusn:zRbwWS:G:O:U::M::C::B::DaimtgEF${extraShort}`,
    long: [...DIFF_LONG, ...LOG_LONG],
    clusters: false,
    numeric: true,
    // the revision parser takes `--author x` but not `--format x`: accept only `=` values
    longSeparate: false,
  });

const LOG_TABLE = revisionTable('L:');

// no `--no-index`: it compares any two files on the disk, not the repository's (a secret read)
const DIFF_TABLE = optionTable({
  short: 'pusz R b w W S: G: O: U:: M:: C:: B:: D a q 1 2 3'.replaceAll(' ', ''),
  long: [...DIFF_LONG, 'cached', 'staged', 'merge-base', 'base', 'ours', 'theirs'],
  clusters: false,
  longSeparate: false,
});

const SHOW_TABLE = revisionTable('');

/** status uses parse-options: short flags group; `-u` takes an optional attached mode. */
const STATUS_TABLE = optionTable({
  short: 'sbu::z',
  long: [
    'short', 'branch', 'show-stash', 'porcelain=?', 'long', 'untracked-files=?', 'ignore-submodules=?', 'ignored=?',
    'column=?', 'no-column', 'ahead-behind', 'no-ahead-behind', 'renames', 'no-renames', 'find-renames=?', 'null',
  ],
});

/** Listing flags of `git branch` (Codex's rule: no arguments, or only these, lists). */
const BRANCH_LISTING_FLAGS = new Set(['--list', '-l', '--show-current', '-a', '--all', '-r', '--remotes', '-v', '-vv', '--verbose']);

const SUBCOMMAND_TABLES: Readonly<Record<string, OptionTable>> = { log: LOG_TABLE, diff: DIFF_TABLE, show: SHOW_TABLE, status: STATUS_TABLE };

/**
 * Risky git options, for the known-safe reasons, the rule checks and the danger side. Entries name
 * the attack. Subcommand-specific ones are keyed `sub:option`.
 */
export const GIT_RISKY: readonly RiskyOption[] = [
  // log/diff/show --output=FILE writes FILE (git log --output=~/.bashrc)
  { option: '--output', kind: 'write', why: 'writes a file' },
  // --ext-diff runs diff.external / the diff driver's command
  { option: '--ext-diff', kind: 'exec', why: 'runs an external diff program' },
  // --textconv runs the diff driver's textconv program
  { option: '--textconv', kind: 'exec', why: 'runs a textconv program' },
  // rebase --exec CMD, archive --exec, ls-remote/fetch --upload-pack=CMD run CMD
  { option: '--exec', kind: 'exec', why: 'runs a program' },
  { option: '--upload-pack', kind: 'exec', why: 'runs a program on the "remote" side, locally for local paths' },
  { option: '--receive-pack', kind: 'exec', why: 'runs a program on the "remote" side, locally for local paths' },
  { option: '--extcmd', kind: 'exec', why: 'runs a program (difftool)' },
  { option: '--tool', kind: 'exec', why: 'runs a configured tool program' },
  // show-signature runs gpg.program
  { option: '--show-signature', kind: 'exec', why: 'runs gpg.program' },
  { option: '--paginate', kind: 'exec', why: 'starts a pager program' },
  // --help opens man, whose viewer man.<tool>.cmd the repository's config can name
  { option: '--help', kind: 'exec', why: 'runs man with a viewer the repository can configure' },
  // --remerge-diff re-runs merges with the attribute-selected merge driver
  { option: '--remerge-diff', kind: 'exec', why: 're-runs merges with the merge driver the attributes select' },
  // global config overrides and other repositories
  { option: '-c', kind: 'exec', why: GLOBAL_WHY['-c']! },
  { option: '--config-env', kind: 'exec', why: GLOBAL_WHY['--config-env']! },
  { option: '--exec-path', kind: 'exec', why: GLOBAL_WHY['--exec-path']! },
  { option: '-C', kind: 'exec', why: GLOBAL_WHY['-C']! },
  { option: '--git-dir', kind: 'exec', why: GLOBAL_WHY['--git-dir']! },
  { option: '--work-tree', kind: 'exec', why: GLOBAL_WHY['--work-tree']! },
  // pathsec: pull/fetch/checkout/clone --recurse-submodules run git in every submodule too
  { option: '--recurse-submodules', kind: 'exec', why: "runs git in every submodule, whose config and hooks the rule's author never saw" },
  // redteam: fetch's --recurse-submodules-default=yes is the same recursion under a longer name (not an abbreviation)
  { option: '--recurse-submodules-default', kind: 'exec', why: "runs git in every submodule, whose config and hooks the rule's author never saw" },
];

/** --diff-merges formats that only show diffs (remerge / r re-runs the merge: not listed). */
const SAFE_DIFF_MERGES: ReadonlySet<string> = new Set(['off', 'none', 'on', 'first-parent', '1', 'separate', 'm', 'combined', 'c', 'dense-combined', 'cc']);

/**
 * A format that asks for signature data runs gpg.program (`%G?`, `%GS`, `%(signature)`), also
 * behind the `+`, `-` and ` ` modifiers pretty.c reads before a placeholder (`%+GS`: redclass).
 */
function formatRunsGpg(value: string): boolean {
  return /%[-+ ]?G|%\(signature/.test(value);
}

/** The formats git itself defines (pretty.c builtin_formats); a value with `%` is a format string. */
const BUILTIN_PRETTY: ReadonlySet<string> = new Set(['oneline', 'short', 'medium', 'full', 'fuller', 'reference', 'email', 'mboxrd', 'raw']);

function isBuiltinPretty(value: string): boolean {
  return BUILTIN_PRETTY.has(value) || value.startsWith('format:') || value.startsWith('tformat:') || value.includes('%');
}

/** Is this git argv known to be read-only? Returns the deciding word when it is not. Pure. */
export function checkGit(argv: readonly string[]): SafeVerdict {
  const line = readGitCommandLine(argv);
  if (!line.ok) return notSafe(line.word, line.why);
  for (const g of line.globals) {
    if (HARMLESS_GLOBALS.has(g.name)) continue;
    // `-C .` changes nothing: git already runs in the request's directory
    if (g.name === '-C' && g.value === '.') continue;
    return notSafe(g.word, `\`git ${g.word}\` ${GLOBAL_WHY[g.name] ?? 'is not a global option warden allows before a read-only subcommand'}`);
  }
  const name = argv[line.sub];
  if (name === undefined) return notSafe('git', 'git without a subcommand');
  const args = argv.slice(line.sub + 1);
  if (name === 'branch') return checkBranch(args);
  const table = SUBCOMMAND_TABLES[name];
  if (table === undefined || !Object.hasOwn(SUBCOMMAND_TABLES, name)) return notSafe(name, `\`git ${name}\` is not a read-only git subcommand warden knows`);
  const read = readArgs(table, args);
  if (!read.ok) return notSafe(read.unknown.word, `git ${name}: ${read.unknown.why}`);
  if (name === 'diff') {
    const outside = read.args.operands.find(pathMayLeaveRepository);
    if (outside !== undefined) {
      return notSafe(outside, `\`git diff ${outside}\`: a path outside the repository makes git diff compare files on the disk (an implied --no-index, recursive for a directory)`);
    }
  }
  for (const option of read.args.options) {
    // combined diffs are not offered: Codex refuses every `-c`-looking word
    if ((option.name === '--format' || option.name === '--pretty') && option.value !== null && formatRunsGpg(option.value)) {
      return notSafe(option.word, `\`git ${name} ${option.word}\` asks for signatures, which runs gpg.program`);
    }
    // a name git does not define is a pretty.<name> alias from the repository's config, whose
    // format warden cannot see (`pretty.x = format:%G?` runs gpg.program: redclass)
    if ((option.name === '--format' || option.name === '--pretty') && option.value !== null && option.value !== '' && !isBuiltinPretty(option.value)) {
      return notSafe(option.word, `\`git ${name} ${option.word}\` names a pretty format the repository's config may define`);
    }
    // --ignore-submodules=none|untracked|dirty runs git status in each submodule, whose config
    // (filters, drivers) the runner never listed; only `all` (the bare flag) keeps git out of them
    if (option.name === '--ignore-submodules' && option.value !== null && option.value !== 'all') {
      return notSafe(option.word, `\`git ${name} ${option.word}\` runs git in each submodule, with config warden never read`);
    }
    // --diff-merges=remerge (r) re-runs merges with the repository's merge driver
    if (option.name === '--diff-merges' && !SAFE_DIFF_MERGES.has(option.value ?? '')) {
      return notSafe(option.word, `\`git ${name} ${option.word}\` is not a diff-merges format warden knows runs no merge driver`);
    }
  }
  return SAFE;
}

/**
 * Can this operand of `git diff` name a path outside the repository? git diff with two paths, one
 * of them outside, compares them as `--no-index` does, and recursively for directories: `git diff
 * empty /home/u` printed every file of the home, keys included (redteam3). Outside any repository
 * every pair is compared so, but a relative path with no `..` stays under the run's directory.
 * Absolute, `~` and `..` words are refused (a revision range `a..b` has no `..` segment).
 */
function pathMayLeaveRepository(operand: string): boolean {
  if (operand.startsWith('/') || operand.startsWith('~')) return true;
  return operand.split('/').includes('..');
}

/** `git branch` lists with no args or listing flags only; a name or -d/-m/... changes refs. */
function checkBranch(args: readonly string[]): SafeVerdict {
  if (args.length === 0) return SAFE;
  let sawListing = false;
  for (const arg of args) {
    if (BRANCH_LISTING_FLAGS.has(arg)) sawListing = true;
    else if (arg.startsWith('--format=') && !formatRunsGpg(arg)) sawListing = true;
    // anything else: a branch name creates it, -d deletes, -m renames, -f forces
    else return notSafe(arg, `\`git branch ${arg}\` can create, rename or delete branches`);
  }
  return sawListing ? SAFE : notSafe('branch', 'git branch');
}

export function isSafeGit(argv: readonly string[]): boolean {
  return checkGit(argv).safe;
}

/**
 * The candidate subcommand positions for the danger check. An exact read gives one; where git
 * would refuse a global option we do not know, both readings of it (flag, or flag and value) are
 * tried, so a table that lags behind git over-finds instead of skipping the real subcommand.
 */
export function gitSubcommandCandidates(argv: readonly string[]): number[] {
  const line = readGitCommandLine(argv);
  if (line.ok) return line.sub < argv.length ? [line.sub] : [];
  const out: number[] = [];
  for (const skip of [1, 2]) {
    const rest = [argv[0]!, ...argv.slice(line.at + skip)];
    for (const s of gitSubcommandCandidates(rest)) out.push(s - 1 + line.at + skip);
  }
  return out;
}

/**
 * Does this `git diff` argv turn the external diff off as git reads it? The word must be read as
 * an option by diff's table: after `--` it is a path, and as the value of `-S`/`-G` a search
 * string (`git diff -S --no-ext-diff` runs diff.external: redclass). Pure.
 */
export function diffTurnsOffExtDiff(argv: readonly string[]): boolean {
  const sub = findGitSubcommand(argv);
  if (sub < 0 || argv[sub] !== 'diff') return false;
  const read = readArgs(DIFF_TABLE, argv.slice(sub + 1));
  return read.ok && read.args.options.some((o) => o.name === '--no-ext-diff');
}

/** The subcommand's name (exact reading), or null. */
export function gitSubcommandName(argv: readonly string[]): string | null {
  const i = findGitSubcommand(argv);
  return i < 0 ? null : argv[i]!;
}

/** Index of the subcommand (exact reading), or -1. */
export function findGitSubcommand(argv: readonly string[]): number {
  const line = readGitCommandLine(argv);
  return line.ok && line.sub < argv.length ? line.sub : -1;
}

export function isDangerousGit(argv: readonly string[]): boolean {
  return gitSubcommandCandidates(argv).some((sub) => dangerousGitSubcommand(argv[sub]!, argv.slice(sub + 1)));
}

function dangerousGitSubcommand(name: string, args: readonly string[]): boolean {
  switch (name) {
    case 'reset':
    case 'rm':
      // reset --hard discards work; rm deletes files
      return true;
    case 'branch':
      return args.some((a) => a === '-d' || a === '-D' || isLong(a, ['--delete']) || shortGroupHas(a, 'dD'));
    case 'push':
      return args.some(
        (a) =>
          a === '-f' ||
          a === '-d' ||
          shortGroupHas(a, 'fd') ||
          // --mirror and --prune delete remote refs (stricter than Codex)
          isLong(a, ['--force', '--force-with-lease', '--force-if-includes', '--delete', '--mirror', '--prune']) ||
          // +ref forces, :ref deletes the remote ref
          ((a.startsWith('+') || a.startsWith(':')) && a.length > 1),
      );
    case 'clean':
      return args.some((a) => a === '-f' || shortGroupHas(a, 'f') || isLong(a, ['--force']));
    default:
      // anything else
      return false;
  }
}

/** `--opt`, `--opt=value`, or any abbreviation of one of `options`, one letter included (git takes `--f` for a unique `--force`). */
function isLong(arg: string, options: readonly string[]): boolean {
  const name = longName(arg);
  if (name === null) return false;
  return options.some((opt) => name === opt || abbreviates(arg, opt, 3));
}
