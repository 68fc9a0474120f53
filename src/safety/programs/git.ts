/**
 * git: which invocations only read (CODEX-REFERENCE §1) and which destroy work or remote history
 * (§2). Both locate the subcommand with the same global-option skipper. Pure.
 */
import { abbreviates, longName, shortGroupHas } from './flags.ts';

/** Global options that take the next argv element as their value. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set([
  '-C', '-c', '--config-env', '--exec-path', '--git-dir', '--namespace', '--super-prefix', '--work-tree',
]);

/**
 * Index of the subcommand in `argv` (argv[0] is git itself), or -1. Skips `-C X`, `-c X`,
 * `--git-dir X` (and the other value options), inline `--opt=value`, `-Cdir`, `-ckey=val`, other
 * dash flags and `--`; the first other word is the subcommand (so `git checkout status` is checkout).
 */
export function findGitSubcommand(argv: readonly string[]): number {
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) {
      i += 1;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return i;
  }
  return -1;
}

const READ_ONLY_SUBCOMMANDS = new Set(['status', 'log', 'diff', 'show', 'branch']);

/** Options of log/diff/show/status that write files or run programs. */
const FORBIDDEN_SUBCOMMAND_OPTIONS = ['--output', '--ext-diff', '--textconv', '--exec', '--paginate'];

const BRANCH_LISTING_FLAGS = new Set(['--list', '-l', '--show-current', '-a', '--all', '-r', '--remotes', '-v', '-vv', '--verbose']);

export function isSafeGit(argv: readonly string[]): boolean {
  for (const arg of argv.slice(1)) {
    // config overrides can set core.pager, core.fsmonitor, diff.external ... and run them
    if (arg === '-c' || arg === '--config-env' || (arg.startsWith('-c') && arg.length > 2)) return false;
    if (arg.startsWith('--config-env=')) return false;
  }
  const sub = findGitSubcommand(argv);
  if (sub < 0) return false;
  for (const arg of argv.slice(1, sub)) {
    // --exec-path=DIR makes git run helper programs from DIR (stricter than Codex)
    if (arg.startsWith('--exec-path')) return false;
    // a global -p / --paginate starts the pager (stricter than Codex, which only looks after the subcommand)
    if (arg === '-p' || abbreviates(arg, '--paginate', 4)) return false;
  }
  const name = argv[sub]!;
  if (!READ_ONLY_SUBCOMMANDS.has(name)) return false;
  const args = argv.slice(sub + 1);
  for (const arg of args) {
    if (arg.startsWith('--output=') || arg.startsWith('--exec=')) return false;
    // --output writes a file, --ext-diff/--textconv run programs, --paginate a pager; git accepts
    // unique prefixes (`--outp=x`), so an abbreviation of any of them counts too (stricter than Codex)
    if (FORBIDDEN_SUBCOMMAND_OPTIONS.some((opt) => arg === opt || abbreviates(arg, opt, 3))) return false;
  }
  if (name === 'branch') return isReadOnlyBranch(args);
  return true;
}

/** `git branch` lists with no args or listing flags only; a name or -d/-m/... changes refs. */
function isReadOnlyBranch(args: readonly string[]): boolean {
  if (args.length === 0) return true;
  let sawListing = false;
  for (const arg of args) {
    if (BRANCH_LISTING_FLAGS.has(arg) || arg.startsWith('--format=')) sawListing = true;
    // anything else: a branch name creates it, -d deletes, -m renames, -f forces
    else return false;
  }
  return sawListing;
}

export function isDangerousGit(argv: readonly string[]): boolean {
  const sub = findGitSubcommand(argv);
  if (sub < 0) return false;
  const name = argv[sub]!;
  const args = argv.slice(sub + 1);
  switch (name) {
    case 'reset':
    case 'rm':
      // reset --hard discards work; rm deletes files
      return true;
    case 'branch':
      return args.some(
        (a) => a === '-d' || a === '-D' || isLong(a, ['--delete']) || shortGroupHas(a, 'dD'),
      );
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

/** `--opt`, `--opt=value`, or an abbreviation of at least `--xy` of one of `options`. */
function isLong(arg: string, options: readonly string[]): boolean {
  const name = longName(arg);
  if (name === null) return false;
  return options.some((opt) => name === opt || abbreviates(arg, opt, 4));
}
