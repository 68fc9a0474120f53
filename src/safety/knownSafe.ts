/**
 * Is an argv known to be read-only (CODEX-REFERENCE §1, stricter where noted)? The answer is a
 * security boundary: a known-safe command is auto-approved under every policy. The per-program
 * rules live in ./programs; this file only dispatches and handles the `bash -lc` form. Pure
 * (the shell parser must have been initialised; without it a script is simply not known-safe).
 */
import { isSafeBase64 } from './programs/base64.ts';
import { isSafeFind } from './programs/find.ts';
import { isSafeGit } from './programs/git.ts';
import { isSafeRg } from './programs/rg.ts';
import { isSafeSed } from './programs/sed.ts';
import { isSafeUniq, isUnconditionallySafe } from './programs/safeList.ts';
import { isTrustedProgramPath, programName } from './programs/programPath.ts';
import { MAX_SCRIPT_BYTES, isShellParserReady, parseWordOnlyScriptDetailed, shellScriptOf } from './shellParse.ts';

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

/** The per-program check on one plain argv. `expands`: an argument holds unquoted glob/brace/tilde. */
export function isSafeToCallWithExec(argv: readonly string[], expands = false, options: SafeCheckOptions = {}): boolean {
  const argv0 = argv[0];
  if (argv0 === undefined || !isTrustedProgramPath(argv0)) return false;
  const name = programName(argv0);
  const args = argv.slice(1);
  // with glob/brace expansion the real arguments are unknown: only programs safe with ANY
  // arguments qualify (`git log --o*` could expand to a file named --output=...)
  if (isUnconditionallySafe(name, options.platform)) return true;
  if (expands) return false;
  switch (name) {
    case 'uniq':
      return isSafeUniq(args);
    case 'base64':
      return isSafeBase64(args);
    case 'find':
      return isSafeFind(args);
    case 'rg':
      return isSafeRg(args);
    case 'git':
      return isSafeGit(argv);
    case 'sed':
      return isSafeSed(argv);
    default:
      // anything else
      return false;
  }
}

/** Known-safe: the plain argv passes, or it is `bash|zsh|sh -lc|-c SCRIPT` whose every word-only sub-command passes. */
export function isKnownSafeCommand(argv: readonly string[], options: SafeCheckOptions = {}): boolean {
  if (argv.length === 0 || isMalformedArgv(argv)) return false;
  const command = zshAsBash(argv);
  if (isSafeToCallWithExec(command, false, options)) return true;
  const shell = shellScriptOf(command);
  if (shell === null || !isTrustedProgramPath(shell.shell) || !isShellParserReady()) return false;
  const parsed = parseWordOnlyScriptDetailed(shell.script);
  if (parsed === null) return false;
  return parsed.commands.every((words, i) => isSafeToCallWithExec(words, parsed.expands[i] ?? true, options));
}
