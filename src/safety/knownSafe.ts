/**
 * Is an argv known to be read-only (CODEX-REFERENCE §1, much stricter)? The answer is a security
 * boundary: a known-safe command is auto-approved under every policy. "Known" is meant literally:
 * every word must be understood by the program's allow-listed option table (./programs), so an
 * option nobody listed makes the command not known-safe. This file only dispatches, handles the
 * `bash -lc` form and names the word that decided. Pure; a script needs the shell grammar loaded
 * (`await loadShellGrammar()`), and asking before that throws.
 */
import { checkBase64 } from './programs/base64.ts';
import { checkCoreutil, LINUX_ONLY } from './programs/coreutils.ts';
import { checkFile } from './programs/file.ts';
import { checkFind } from './programs/find.ts';
import { checkGit } from './programs/git.ts';
import { type SafeVerdict, SAFE, notSafe } from './programs/optionTable.ts';
import { checkRg } from './programs/rg.ts';
import { checkSed } from './programs/sed.ts';
import { checkSort } from './programs/sort.ts';
import { checkUniq } from './programs/uniq.ts';
import { isTrustedProgramPath, programName } from './programs/programPath.ts';
import { MAX_SCRIPT_BYTES, type Expansion, parseWordOnlyScriptDetailed, requireShellGrammar, shellScriptOf } from './shellParse.ts';

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
}

/**
 * Programs whose operands' count or position decides what they do: a glob that expands to two
 * files turns `uniq a*` into `uniq IN OUT` (writes OUT) and `sed -n 1p f*` into a longer argv.
 */
const OPERAND_SENSITIVE: ReadonlySet<string> = new Set(['uniq', 'sed', 'cd']);

/** The per-program check on one plain argv, with the word that decided. */
export function checkProgram(argv: readonly string[], expansion: Expansion = 'none', options: SafeCheckOptions = {}, expandingWord: string | null = null): SafeVerdict {
  const argv0 = argv[0];
  if (argv0 === undefined) return notSafe('', 'empty command');
  if (!isTrustedProgramPath(argv0)) return notSafe(argv0, `\`${argv0}\` is not a program from a system directory (the agent may have written it)`);
  const name = programName(argv0);
  const args = argv.slice(1);
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

/** Boolean form of checkProgram (kept for callers that only need the answer). */
export function isSafeToCallWithExec(argv: readonly string[], expands = false, options: SafeCheckOptions = {}): boolean {
  return checkProgram(argv, expands ? 'unsafe' : 'none', options).safe;
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
  if (shell === null) return checkProgram(command, 'none', options);
  requireShellGrammar();
  if (!isTrustedProgramPath(shell.shell)) return notSafe(shell.shell, `\`${shell.shell}\` is not a shell from a system directory`);
  // bash keeps a CR or VT inside a word where tree-sitter sees a blank: what we read is not what runs
  if (SCRIPT_CONTROL.test(shell.script)) return notSafe(shell.script, 'the script holds a control character (CR, VT ...) the shell reads differently');
  const parsed = parseWordOnlyScriptDetailed(shell.script);
  if (parsed === null) {
    return notSafe(shell.script, 'the script uses more than plain words (redirection, substitution, variables, control flow ...)');
  }
  let changedDirectory = false;
  for (let i = 0; i < parsed.commands.length; i++) {
    const words = parsed.commands[i]!;
    const name = programName(words[0] ?? '');
    // `cd dir && git status` runs git in another repository, whose config can run programs
    if (changedDirectory && name === 'git') return notSafe('cd', '`git` after `cd` runs in another repository, whose config can run programs');
    if (name === 'cd') changedDirectory = true;
    const verdict = checkProgram(words, parsed.expansion[i] ?? 'unsafe', options, parsed.expandingWord[i] ?? null);
    if (!verdict.safe) return verdict;
  }
  return SAFE;
}

/** Known-safe: the plain argv passes, or it is `bash|zsh|sh -lc|-c SCRIPT` whose every word-only sub-command passes. */
export function isKnownSafeCommand(argv: readonly string[], options: SafeCheckOptions = {}): boolean {
  return checkKnownSafe(argv, options).safe;
}
