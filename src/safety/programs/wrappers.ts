/**
 * Programs that run another program (sudo, env, xargs, timeout ...) and programs that run code
 * given inline (python -c, node -e, bash -c ...). None of them is ever known-safe: a wrapper can
 * change the environment, identity or arguments of what it runs (`env GIT_PAGER=x git log`,
 * `xargs` appends stdin words), and inline code can do anything. For the dangerous check we find
 * what they wrap; we do not try to parse each wrapper's options exactly, we try every later word
 * as the start of the wrapped command, which over-finds rather than under-finds. Pure.
 */

/** Run the rest of argv (after their own options) as a command. */
export const WRAPPERS: ReadonlySet<string> = new Set([
  'sudo', 'doas', 'env', 'xargs', 'timeout', 'nice', 'nohup', 'command', 'exec', 'busybox', 'time',
  'stdbuf', 'ionice', 'setsid', 'chroot', 'su', 'runuser', 'taskset', 'chrt', 'numactl', 'prlimit',
  'unshare', 'nsenter', 'flock', 'watch', 'strace', 'ltrace', 'unbuffer', 'caffeinate', 'script',
  'parallel', 'firejail', 'bwrap', 'systemd-run', 'builtin', 'eval', 'fakeroot', 'proot', 'pkexec',
  'sg', 'newgrp', 'catchsegv', 'valgrind', 'gdb', 'retry', 'entr', 'ssh', 'tmux', 'screen', 'expect',
]);

/** Shells: `-c SCRIPT` runs SCRIPT. */
export const SHELLS: ReadonlySet<string> = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh', 'mksh', 'fish', 'csh', 'tcsh', 'ash', 'busybox']);

/** Interpreters and tools that run code passed inline or from a file. */
export const INTERPRETERS: ReadonlySet<string> = new Set([
  'python', 'python2', 'python3', 'pypy', 'pypy3', 'node', 'nodejs', 'deno', 'bun', 'perl', 'ruby', 'irb', 'php',
  'lua', 'luajit', 'tclsh', 'wish', 'Rscript', 'R', 'julia', 'osascript', 'awk', 'gawk', 'mawk', 'nawk',
  'jshell', 'scala', 'groovy', 'pwsh', 'powershell', 'powershell.exe', 'pwsh.exe', 'cmd', 'cmd.exe', 'make', 'npx', 'tsx', 'ts-node',
]);

/** True for names like python3.12 or node20 as well. */
export function isInterpreter(name: string): boolean {
  if (INTERPRETERS.has(name)) return true;
  return /^(python|pypy|perl|ruby|node|php|lua)[0-9.]*$/.test(name);
}

export function isShell(name: string): boolean {
  return SHELLS.has(name);
}

export function isWrapper(name: string): boolean {
  return WRAPPERS.has(name);
}

/**
 * The candidate wrapped commands of a wrapper argv: every suffix that starts at a word not looking
 * like an option or assignment. `sudo -u root rm -rf /` yields `root rm -rf /` and `rm -rf /`; the
 * dangerous check fires if any candidate is dangerous.
 */
export function wrappedCandidates(argv: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    if (word.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    out.push(argv.slice(i));
  }
  return out;
}

/**
 * Scripts a shell argv runs: for `bash [opts] -c SCRIPT`, `-lc`, `-xc`, `-o x -c`, ... the word after
 * the first option group holding `c`. Also used for `su -c`, `watch`, and `env -S` strings.
 */
export function inlineScripts(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    const next = argv[i + 1];
    if (next !== undefined && (/^-[A-Za-z]*c[A-Za-z]*$/.test(word) || word === '--command' || word === '-S' || word === '--split-string')) {
      out.push(next);
    }
    if (word.startsWith('--split-string=') || word.startsWith('--command=')) out.push(word.slice(word.indexOf('=') + 1));
  }
  return out;
}
