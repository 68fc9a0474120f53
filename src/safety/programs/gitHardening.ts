/**
 * The environment a known-safe git command runs with, so that the repository it runs in (which an
 * auto-approved patch or a planted `sub/.git` may have written) cannot make it run a program.
 * Config set through `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` is read after every
 * config file (it has `-c` precedence), so each entry below overrides the repository's. The list
 * follows git-config(1)'s keys that name a program and are read by status/log/diff/show/branch.
 *
 * Drivers selected by attributes (.gitattributes, .git/info/attributes, core.attributesFile) have
 * names the repository chooses: `diff.<drv>.textconv`, `diff.<drv>.command`, `filter.<drv>.clean`
 * / `smudge` / `process`, `merge.<drv>.driver` (run by `--remerge-diff`). git 2.39 has no
 * `--attr-source` to ignore the attributes, so the runner lists the config's names just before the
 * run (requests/gitDrivers.ts) and `driverOverrides` neutralises every driver it finds, whichever
 * attribute file could select it. Pure data and pure functions.
 */

/**
 * What git runs instead of an external diff (diff.external, diff.<drv>.command): the plain unified
 * diff of the two files it is handed (path old-file old-hex old-mode new-file new-hex new-mode), or
 * a line for an unmerged path. An empty value would make every `git diff` die ("external diff
 * died"), and git has no way to unset a key from the environment.
 */
export const PLAIN_EXTERNAL_DIFF =
  'warden_plain_diff() { if [ "$#" -ge 7 ]; then diff -u --label "a/$1" --label "b/$1" -- "$2" "$5"; else printf "* Unmerged path %s\\n" "$1"; fi; return 0; }; warden_plain_diff';

import { findGitSubcommand } from './git.ts';
import { programName } from './programPath.ts';
import { withoutShellStartup } from './shellStartup.ts';

/** [key, value, the attack it blocks]. */
export const GIT_HARDENING: ReadonlyArray<readonly [string, string, string]> = [
  ['core.fsmonitor', 'false', 'core.fsmonitor=CMD runs CMD on every status/diff'],
  ['core.pager', 'cat', 'core.pager=CMD runs CMD when output is a terminal'],
  ['pager.status', 'false', 'pager.<cmd>=CMD runs CMD'],
  ['pager.log', 'false', 'pager.<cmd>=CMD runs CMD'],
  ['pager.diff', 'false', 'pager.<cmd>=CMD runs CMD'],
  ['pager.show', 'false', 'pager.<cmd>=CMD runs CMD'],
  ['pager.branch', 'false', 'pager.<cmd>=CMD runs CMD'],
  // the plain diff, not the repository's program (an empty value makes every git diff die)
  ['diff.external', PLAIN_EXTERNAL_DIFF, 'diff.external=CMD runs CMD for git diff'],
  ['core.sshCommand', 'ssh', 'core.sshCommand=CMD runs CMD for any ssh transport'],
  ['core.gitProxy', '', 'core.gitProxy=CMD runs CMD for git:// transports'],
  ['core.askPass', '', 'core.askPass=CMD runs CMD to ask for credentials'],
  ['core.hooksPath', '/dev/null', 'core.hooksPath=DIR runs hooks from DIR'],
  ['core.alternateRefsCommand', '', 'core.alternateRefsCommand=CMD runs CMD'],
  ['credential.helper', '', 'credential.helper=CMD runs CMD (an empty value clears the list)'],
  ['gpg.program', 'gpg', 'gpg.program=CMD runs CMD to check signatures'],
  ['gpg.openpgp.program', 'gpg', 'gpg.openpgp.program=CMD'],
  ['gpg.x509.program', 'gpgsm', 'gpg.x509.program=CMD'],
  ['gpg.ssh.program', 'ssh-keygen', 'gpg.ssh.program=CMD'],
  ['log.showSignature', 'false', 'log.showSignature=true makes git log run gpg.program'],
  // -m shows merges in log.diffMerges's format, and `remerge` re-runs them with the merge driver
  ['log.diffMerges', 'separate', 'log.diffMerges=remerge makes git log -m run merge.<drv>.driver'],
  ['protocol.ext.allow', 'never', 'ext:: URLs run a program'],
  ['diff.ignoreSubmodules', 'all', 'submodule diffs run git in the submodule with its own config'],
  ['status.submoduleSummary', 'false', 'the submodule summary runs git log in the submodule'],
  ['submodule.recurse', 'false', 'recursing runs git in each submodule with its own config'],
  ['core.editor', ':', 'core.editor=CMD'],
  ['sequence.editor', ':', 'sequence.editor=CMD'],
  ['diff.tool', '', 'diff.tool names a program for difftool'],
];

/**
 * Config names whose subsection the repository chooses, each with the value that makes it run
 * nothing and the attack it blocks. Matched against `git config --list --name-only` output, where
 * section and key are lower-case and the subsection is as written.
 */
export const DRIVER_KEYS: ReadonlyArray<readonly [RegExp, string, string]> = [
  // textconv=CMD runs CMD on every blob diff/log/show prints; `cat` converts nothing
  [/^diff\..+\.textconv$/, 'cat', 'diff.<drv>.textconv=CMD (attribute diff=<drv>) runs CMD for diff, log -p, show'],
  // command=CMD replaces git's diff for the path in `git diff`
  [/^diff\..+\.command$/, PLAIN_EXTERNAL_DIFF, 'diff.<drv>.command=CMD (attribute diff=<drv>) runs CMD for git diff'],
  // clean runs when status/diff compare a work-tree file with the index; an empty filter is none
  [/^filter\..+\.clean$/, '', 'filter.<drv>.clean=CMD (attribute filter=<drv>) runs CMD for status and diff'],
  [/^filter\..+\.smudge$/, '', 'filter.<drv>.smudge=CMD runs CMD when a blob is written out'],
  [/^filter\..+\.process$/, '', 'filter.<drv>.process=CMD starts CMD as a long-running filter'],
  // a required filter that is emptied would make status die instead of reading the file as it is
  [/^filter\..+\.required$/, 'false', 'filter.<drv>.required=true turns the emptied filter into a fatal error'],
  // --remerge-diff (and log.diffMerges=remerge with -m) re-runs merges, with the merge driver
  [/^merge\..+\.driver$/, 'false', 'merge.<drv>.driver=CMD (attribute merge=<drv>) runs CMD for show/log --remerge-diff'],
  // URL-scoped credential helpers run for any transport a lazy fetch could start
  [/^credential\..+\.helper$/, '', 'credential.<url>.helper=CMD runs CMD to get credentials'],
  [/^remote\..+\.uploadpack$/, 'git-upload-pack', 'remote.<name>.uploadpack=CMD runs CMD for a fetch from a local remote'],
  [/^remote\..+\.receivepack$/, 'git-receive-pack', 'remote.<name>.receivepack=CMD runs CMD for a push to a local remote'],
];

/**
 * The overrides for the repository-named keys among `configNames` (pure): one [key, value] for
 * each name a DRIVER_KEYS pattern matches, a filter's `required` added for each filter found (so
 * one defined only in a file we could not list still cannot fail the run open), in first-seen order.
 */
export function driverOverrides(configNames: readonly string[]): Array<[string, string]> {
  const out = new Map<string, string>();
  for (const raw of configNames) {
    const name = raw.trim();
    if (name === '' || out.has(name)) continue;
    for (const [pattern, value] of DRIVER_KEYS) {
      if (!pattern.test(name)) continue;
      out.set(name, value);
      const filter = /^filter\.(.+)\.(?:clean|smudge|process)$/.exec(name);
      if (filter !== null && !out.has(`filter.${filter[1]}.required`)) out.set(`filter.${filter[1]}.required`, 'false');
      break;
    }
  }
  return [...out];
}

/** The environment additions for a known-safe git command (one frozen object, built once). */
export function gitHardeningEnv(): Record<string, string> {
  return HARDENING_ENV;
}

/**
 * `env` (a hardening environment, from gitHardeningEnv) with `extra` config entries appended after
 * its own, GIT_CONFIG_COUNT raised to match (pure). Later entries win in git, so an override here
 * beats the repository's value as the static ones do.
 */
export function withConfigEntries(env: Readonly<Record<string, string>>, extra: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  if (extra.length === 0) return { ...env };
  const count = Number(env.GIT_CONFIG_COUNT ?? '0');
  const out: Record<string, string> = { ...env, GIT_CONFIG_COUNT: String(count + extra.length) };
  extra.forEach(([key, value], i) => {
    out[`GIT_CONFIG_KEY_${count + i}`] = key;
    out[`GIT_CONFIG_VALUE_${count + i}`] = value;
  });
  return out;
}

const HARDENING_ENV: Record<string, string> = Object.freeze(buildEnv());

function buildEnv(): Record<string, string> {
  const env: Record<string, string> = {
    GIT_CONFIG_COUNT: String(GIT_HARDENING.length),
    // the pager is never wanted: output goes back to the agent
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    // no on-demand fetches from a promisor remote (network, helper programs)
    GIT_NO_LAZY_FETCH: '1',
    // never stop to ask for a password on the terminal
    GIT_TERMINAL_PROMPT: '0',
  };
  GIT_HARDENING.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/**
 * The argv a known-safe command runs as: for a plain git argv (not a shell script: its one parsed
 * command is the argv itself), hardenedGitArgv; for a shell form, the shell without the person's
 * startup files (shellStartup.ts: a profile may put `.` back on PATH); anything else unchanged. Pure.
 */
export function knownSafeRunArgv(command: readonly string[], commands: readonly (readonly string[])[] | null): string[] {
  const only = commands?.length === 1 ? commands[0]! : null;
  const plain = only !== null && only.length === command.length && only.every((w, i) => w === command[i]);
  if (!plain) return withoutShellStartup(command);
  if (programName(command[0] ?? '') !== 'git') return [...command];
  return hardenedGitArgv(command, findGitSubcommand(command));
}

/** Subcommands whose diff machinery may run helpers: diff (external diff, textconv), log and show (textconv). */
const HELPER_OFF: Readonly<Record<string, readonly string[]>> = {
  diff: ['--no-ext-diff', '--no-textconv'],
  log: ['--no-ext-diff', '--no-textconv'],
  show: ['--no-ext-diff', '--no-textconv'],
};

/**
 * The argv a known-safe plain git command runs as (pure): `--no-ext-diff --no-textconv` right after
 * a diff/log/show subcommand, so neither diff.external, a diff.<drv>.command nor a textconv runs
 * (and git needs no temp file for them, which the read-only sandbox could not give). `sub` is the
 * subcommand's index (git.ts findGitSubcommand); anything else is returned as it is.
 */
export function hardenedGitArgv(argv: readonly string[], sub: number): string[] {
  const name = sub >= 0 ? argv[sub] : undefined;
  const extra = name !== undefined && Object.hasOwn(HELPER_OFF, name) ? HELPER_OFF[name]! : [];
  if (extra.length === 0) return [...argv];
  return [...argv.slice(0, sub + 1), ...extra, ...argv.slice(sub + 1)];
}
