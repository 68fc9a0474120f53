/**
 * Might an argv destroy work or history (CODEX-REFERENCE §2, stricter where noted)? A dangerous
 * command is asked about even where the policy would run it without asking. Finding too much here
 * costs a prompt; finding too little can cost a home directory, so this side over-finds: it looks
 * through wrappers (sudo, env, xargs ...), into every `-c` script, and into substitutions and
 * redirected commands that the word-only parser refuses (Codex does not). An argv too large to
 * inspect (over 1 MiB) or nested absurdly deep counts as dangerous. Pure.
 */
import { FIND_EXEC_ACTIONS } from './programs/find.ts';
import { isDangerousGit } from './programs/git.ts';
import { isDangerousRm } from './programs/rm.ts';
import { programName } from './programs/programPath.ts';
import { inlineScripts, isShell, isWrapper } from './programs/wrappers.ts';
import { DYNAMIC_WORD, MAX_SCRIPT_BYTES, deepScanScript } from './shellParse.ts';
import { zshAsBash } from './knownSafe.ts';

/** How deep scripts may nest inside scripts before we stop and call it dangerous. */
const MAX_DEPTH = 6;
/** Wrappers that join their words into a shell script (`eval "rm -rf /"`, `watch rm -rf x`, `ssh h rm -rf /`). */
const JOINING_WRAPPERS = new Set(['eval', 'watch', 'ssh', 'su', 'runuser', 'script', 'parallel', 'sudo']);

/** sudo joins its words only with -s/-i (`sudo -s 'rm -rf /'` hands them to $SHELL -c). */
function joins(name: string, args: readonly string[]): boolean {
  if (name !== 'sudo') return true;
  return args.some((a) => a === '--shell' || a === '--login' || (/^-[A-Za-z]+$/.test(a) && /[si]/.test(a)));
}

/** More words than this is not a command a person reviews word by word: dangerous. */
const MAX_WORDS = 4096;
/** Programs directlyDangerous looks at; any other word is skipped without copying argv. */
const INSPECTED = new Set(['git', 'rm', 'find']);

interface Budget {
  scans: number;
}
/** Script scans allowed per top-level check; past it we answer dangerous (fail closed, no hang). */
const MAX_SCANS = 64;

export function isDangerousCommand(argv: readonly string[]): boolean {
  if (argv.length === 0) return false;
  let size = 0;
  for (const a of argv) size += typeof a === 'string' ? a.length : 0;
  // too large to inspect: say so
  if (size > MAX_SCRIPT_BYTES || argv.length > MAX_WORDS) return true;
  const clean = zshAsBash(argv.map((a) => String(a).replaceAll('\0', '')));
  return dangerousArgv(clean, 0, { scans: 0 });
}

/**
 * Checks argv as a command and, where argv[s] is a wrapper, every later word as the start of the
 * wrapped command. Computed right to left so each suffix is judged once: linear in argv length.
 */
function dangerousArgv(argv: readonly string[], depth: number, budget: Budget): boolean {
  if (depth > MAX_DEPTH) return true;
  // anyFrom = some suffix starting at index >= i (at a non-option word) is dangerous by itself
  let anyFrom = false;
  for (let i = argv.length - 1; i >= 0; i--) {
    const word = argv[i]!;
    const startsCommand = !word.startsWith('-') && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word);
    let here = false;
    if (i === 0 || startsCommand) {
      const name = programName(word);
      const wraps = isWrapper(name);
      // a program name the script computes ($CMD, $(..)) could be anything: fail closed
      if (word === DYNAMIC_WORD) here = true;
      else if (wraps || isShell(name) || INSPECTED.has(name) || JOINING_WRAPPERS.has(name)) {
        here = directlyDangerous(name, argv.slice(i), depth, budget);
      }
      // a wrapper is as dangerous as anything it could be wrapping
      if (!here && wraps && anyFrom) here = true;
    }
    if (i === 0) return here;
    if (startsCommand) anyFrom ||= here;
  }
  return false;
}

function directlyDangerous(name: string, argv: readonly string[], depth: number, budget: Budget): boolean {
  const args = argv.slice(1);
  if (name === 'git' && isDangerousGit(argv)) return true;
  if (name === 'git') {
    // `git -c alias.x='!rm -rf /' x` runs the alias through the shell
    for (const script of gitAliasScripts(argv)) if (scriptIsDangerous(script, depth, budget)) return true;
  }
  // rm with a computed argument ($FLAGS) could be rm -rf
  if (name === 'rm' && (isDangerousRm(args) || args.includes(DYNAMIC_WORD))) return true;
  if (isShell(name) || isWrapper(name)) {
    for (const script of inlineScripts(argv)) {
      if (scriptIsDangerous(script, depth, budget)) return true;
    }
  }
  if (JOINING_WRAPPERS.has(name) && joins(name, args)) {
    // the script starts after the wrapper's own options and operands (`ssh -p 22 host rm -rf /`):
    // try the joined words from each of the first few non-option words
    let tried = 0;
    for (let i = 0; i < args.length && tried < 4; i++) {
      if (args[i]!.startsWith('-')) continue;
      tried += 1;
      if (scriptIsDangerous(args.slice(i).join(' '), depth, budget)) return true;
    }
  }
  if (name === 'find') {
    // find -exec rm -rf {} ; runs the words after the action
    const at = args.findIndex((a) => FIND_EXEC_ACTIONS.has(a));
    if (at >= 0 && dangerousArgv(args.slice(at + 1), depth + 1, budget)) return true;
  }
  return false;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

function scriptIsDangerous(script: string, depth: number, budget: Budget): boolean {
  budget.scans += 1;
  if (budget.scans > MAX_SCANS) return true;
  if (deepScanScript(script).some((words) => dangerousArgv(zshAsBash(words), depth + 1, budget))) return true;
  // tree-sitter and bash disagree on CR, VT and other control characters: read them both as a
  // word break and as a line break, so neither reading hides a command
  if (CONTROL.test(script)) {
    CONTROL.lastIndex = 0;
    for (const sep of [' ', '\n']) {
      const variant = script.replace(CONTROL, sep);
      if (deepScanScript(variant).some((words) => dangerousArgv(zshAsBash(words), depth + 1, budget))) return true;
    }
  }
  CONTROL.lastIndex = 0;
  return false;
}

/** Shell aliases set on git's command line: `-c alias.NAME=!script` and `--config-env` forms. */
function gitAliasScripts(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    const value = word === '-c' ? argv[i + 1] : word.startsWith('-c') ? word.slice(2) : undefined;
    if (value === undefined) continue;
    const m = /^alias\.[^=]*=\s*!(.*)$/is.exec(value);
    if (m) out.push(m[1]!);
  }
  return out;
}
