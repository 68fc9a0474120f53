/**
 * A known-safe `bash -lc SCRIPT` is judged word by word, with each bare name found on the PATH
 * warden gives the run. A login shell first reads /etc/profile and the person's ~/.profile or
 * ~/.bash_profile (zsh: ~/.zshenv, ~/.zprofile, ~/.zlogin), which may put `.` or
 * `node_modules/.bin` back in front of PATH, so `ls` in the script would be the agent's ./ls
 * again. So a known-safe shell form runs without the person's startup files: `-lc` becomes `-c`
 * (bash and sh then read no file but $BASH_ENV, which the run's environment does not carry) and
 * zsh also gets `-f` (no ~/.zshenv). The words of a known-safe script need nothing a profile sets
 * up. Pure.
 */
import { programName } from './programPath.ts';

/**
 * Variables that make a non-login shell run code before or around its script: a file it reads
 * (BASH_ENV; ENV for sh/ksh when interactive), and (redteam) bash's imported options with a trace
 * prompt (SHELLOPTS=xtrace with PS4='$(cmd)' runs cmd before each traced command; BASHOPTS the
 * same options by another name). Also CDPATH (redteam3): with the person's exported
 * CDPATH=$HOME, a script's `cd .config && cat gh/hosts.yml` reads ~/.config/gh/hosts.yml, where
 * the secret check joins the words onto the workspace.
 */
export const SHELL_STARTUP_ENV: readonly string[] = ['BASH_ENV', 'ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'CDPATH'];

/** True for a variable a known-safe shell form runs without: the list above and bash's exported functions (`BASH_FUNC_ls%%` defines `ls`). */
export function isShellStartupVar(name: string): boolean {
  return SHELL_STARTUP_ENV.includes(name) || name.startsWith('BASH_FUNC_');
}

/** The argv a known-safe `[shell, -lc|-c, script]` runs as; any other argv is returned unchanged. */
export function withoutShellStartup(argv: readonly string[]): string[] {
  if (argv.length !== 3 || (argv[1] !== '-lc' && argv[1] !== '-c')) return [...argv];
  const [shell, , script] = argv as [string, string, string];
  switch (programName(shell)) {
    case 'bash':
    case 'sh':
      return [shell, '-c', script];
    case 'zsh':
      // -f (NO_RCS): only /etc/zshenv, the system's, is read
      return [shell, '-f', '-c', script];
    default:
      // anything else is not a shell form warden parses: left as it is
      return [...argv];
  }
}
