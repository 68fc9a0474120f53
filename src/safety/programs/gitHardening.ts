/**
 * The environment a known-safe git command runs with, so that the repository it runs in (which an
 * auto-approved patch or a planted `sub/.git` may have written) cannot make it run a program.
 * Config set through `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` is read after every
 * config file (it has `-c` precedence), so each entry below overrides the repository's. The list
 * follows git-config(1)'s keys that name a program and are read by status/log/diff/show/branch.
 *
 * Not closable by config alone (git 2.39 has no `GIT_ATTR_SOURCE`): attribute-selected drivers,
 * `diff.<driver>.textconv`, `diff.<driver>.command` and `filter.<driver>.clean`, whose names
 * the repository chooses; known-safe git still runs them inside the read-only sandbox where one
 * is in force. Pure data.
 */

/** [key, value, the attack it blocks]. */
export const GIT_HARDENING: ReadonlyArray<readonly [string, string, string]> = [
  ['core.fsmonitor', 'false', 'core.fsmonitor=CMD runs CMD on every status/diff'],
  ['core.pager', 'cat', 'core.pager=CMD runs CMD when output is a terminal'],
  ['pager.status', 'false', 'pager.<cmd>=CMD runs CMD'],
  ['pager.log', 'false', 'pager.<cmd>=CMD runs CMD'],
  ['pager.diff', 'false', 'pager.<cmd>=CMD runs CMD'],
  ['pager.show', 'false', 'pager.<cmd>=CMD runs CMD'],
  ['pager.branch', 'false', 'pager.<cmd>=CMD runs CMD'],
  // an empty external diff makes git refuse to diff instead of running the repository's program
  ['diff.external', '', 'diff.external=CMD runs CMD for git diff'],
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
  ['protocol.ext.allow', 'never', 'ext:: URLs run a program'],
  ['diff.ignoreSubmodules', 'all', 'submodule diffs run git in the submodule with its own config'],
  ['status.submoduleSummary', 'false', 'the submodule summary runs git log in the submodule'],
  ['submodule.recurse', 'false', 'recursing runs git in each submodule with its own config'],
  ['core.editor', ':', 'core.editor=CMD'],
  ['sequence.editor', ':', 'sequence.editor=CMD'],
  ['diff.tool', '', 'diff.tool names a program for difftool'],
];

/** The environment additions for a known-safe git command (one frozen object, built once). */
export function gitHardeningEnv(): Record<string, string> {
  return HARDENING_ENV;
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
