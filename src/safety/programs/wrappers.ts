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
 * Scripts an argv runs inline, found the way the programs themselves read their options, and
 * over-finding where programs disagree (this feeds only the danger check):
 * - shells (bash, sh, dash, zsh, ksh, fish ...): options are clusters of `-x`/`+x` letters; `o`
 *   and `O` take the next word (`-o posix`, `+O extglob`), `--rcfile`/`--init-file` take the next
 *   word, `--` or `-` ends the options; with `c` anywhere in a cluster the first word after the
 *   options is the script (`bash -c -- 'rm -rf x'`, `bash -ec 'rm ...'`, `bash -o posix -c ...`).
 *   getopt-style shells (fish, csh) also take the rest of the cluster or the very next word, so
 *   those are scanned too; fish's `-C`/`--init-command` and `--command` run code as well.
 * - env: `-S STRING`, `-SSTRING`, `-iS STRING`, `--split-string[=]STRING` and its abbreviations.
 * - su / runuser: `-c CMD`, `-lcCMD`, `--command[=] CMD`.
 */
export function inlineScripts(argv: readonly string[]): string[] {
  const name = programBase(argv[0] ?? '');
  if (name === 'env') return envSplitStrings(argv);
  const out: string[] = [];
  let sawC = false;
  let i = 1;
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--' || word === '-') {
      i += 1;
      break;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const long = eq < 0 ? word : word.slice(0, eq);
      if (long === '--command' || long === '--init-command') {
        if (eq >= 0) out.push(word.slice(eq + 1));
        else if (argv[i + 1] !== undefined) {
          out.push(argv[i + 1]!);
          i += 1;
        }
        continue;
      }
      if (eq < 0 && (long === '--rcfile' || long === '--init-file')) i += 1;
      continue;
    }
    if (word.startsWith('-') || word.startsWith('+')) {
      const letters = word.slice(1);
      const c = letters.indexOf('c');
      const bigC = letters.indexOf('C');
      for (const at of [c, bigC]) {
        if (at < 0) continue;
        if (at === c) sawC = true;
        // getopt shells (fish, csh, su): the rest of the cluster, or the next word, is the script
        const rest = letters.slice(at + 1);
        if (rest !== '') out.push(rest);
        if (argv[i + 1] !== undefined) out.push(argv[i + 1]!);
      }
      for (const ch of letters) if (ch === 'o' || ch === 'O') i += 1;
      continue;
    }
    break;
  }
  if (sawC && i < argv.length) out.push(argv[i]!);
  return [...new Set(out)];
}

function programBase(argv0: string): string {
  const i = argv0.lastIndexOf('/');
  return i < 0 ? argv0 : argv0.slice(i + 1);
}

/** env's -S / --split-string strings in every spelling getopt_long accepts. */
function envSplitStrings(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') break;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const long = eq < 0 ? word : word.slice(0, eq);
      // getopt_long takes any unique prefix: --s, --sp, ... --split-string
      if (long.length >= 3 && '--split-string'.startsWith(long)) {
        if (eq >= 0) out.push(word.slice(eq + 1));
        else if (argv[i + 1] !== undefined) out.push(argv[++i]!);
      } else if (eq < 0 && long.length >= 3 && ('--unset'.startsWith(long) || '--chdir'.startsWith(long))) {
        i += 1;
      }
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      const letters = word.slice(1);
      for (let j = 0; j < letters.length; j++) {
        const ch = letters[j]!;
        if (ch === 'S') {
          const rest = letters.slice(j + 1);
          if (rest !== '') out.push(rest);
          else if (argv[i + 1] !== undefined) out.push(argv[++i]!);
          break;
        }
        // -u NAME, -C DIR, -P PATH (BSD) take a value: attached, or the next word
        if (ch === 'u' || ch === 'C' || ch === 'P') {
          if (j === letters.length - 1) i += 1;
          break;
        }
      }
      continue;
    }
    // an assignment, or the first word of the command: env stops reading options there
    if (!/^[^=]+=/.test(word)) break;
  }
  return out;
}
