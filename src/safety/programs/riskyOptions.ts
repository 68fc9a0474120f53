/**
 * The exec/write tables the rule checks read: for each program an allow rule commonly names, the
 * options (and a few operand shapes) that make it run a program the rule's author never saw or
 * write where they never meant. An allow rule never covers a word listed here, whatever the rule
 * says (`allow ["npm","test"]` does not allow `npm test --script-shell=./evil.sh`). Known-safe
 * programs contribute their own risky tables. Matching over-finds on purpose (abbreviations,
 * letters inside short groups): a false hit costs a prompt, a miss runs code. Pure.
 */
import { BASE64_RISKY } from './base64.ts';
import { FILE_RISKY } from './file.ts';
import { FIND_RISKY } from './find.ts';
import { GIT_RISKY, findGitSubcommand } from './git.ts';
import { type RiskKind, type RiskyOption, wordNamesRisky } from './optionTable.ts';
import { programName } from './programPath.ts';
import { RG_RISKY } from './rg.ts';
import { SED_RISKY } from './sed.ts';
import { SORT_RISKY } from './sort.ts';

const exec = (option: string, why: string): RiskyOption => ({ option, kind: 'exec', why });
const write = (option: string, why: string): RiskyOption => ({ option, kind: 'write', why });
const read = (option: string, why: string): RiskyOption => ({ option, kind: 'read', why });

const NPM_RISKY: readonly RiskyOption[] = [
  exec('--script-shell', 'runs scripts with another shell program'),
  exec('--node-options', 'passes options to node (--require ./evil.js)'),
  exec('--userconfig', 'reads another npmrc, which can set script-shell, node-options ...'),
  exec('--globalconfig', 'reads another npmrc'),
  exec('--init-module', 'runs a module'),
  exec('--onload-script', 'runs a module'),
  exec('--editor', 'runs an editor program'),
  exec('--shell', 'runs a shell program'),
  exec('--browser', 'runs a browser program'),
  exec('--git', 'runs another git program'),
  exec('--call', 'runs a command (npm exec -c)'),
  exec('-c', 'runs a command (npm exec -c)'),
  write('--prefix', 'installs or runs in another directory'),
  write('-C', 'runs in another directory'),
  write('--global', 'writes the global install directory'),
  write('-g', 'writes the global install directory'),
  write('--cache', 'writes another cache directory'),
];

const PNPM_RISKY: readonly RiskyOption[] = [
  ...NPM_RISKY,
  write('--dir', 'runs in another directory'),
  write('--workspace-root', 'runs in the workspace root'),
  exec('--shell-emulator', 'changes how scripts run'),
  exec('--config', 'sets config that can name programs'),
];

const YARN_RISKY: readonly RiskyOption[] = [
  write('--cwd', 'runs in another directory'),
  write('--modules-folder', 'writes another directory'),
  write('--global-folder', 'writes another directory'),
  write('--cache-folder', 'writes another directory'),
  exec('--use-yarnrc', 'reads another yarnrc, which can name programs'),
  exec('--script-shell', 'runs scripts with another shell program'),
  ...NPM_RISKY.filter((r) => r.option === '--node-options'),
];

const CARGO_RISKY: readonly RiskyOption[] = [
  exec('--config', 'sets config such as build.rustc-wrapper, which runs a program'),
  exec('-Z', 'unstable flags, some run programs'),
  exec('--manifest-path', 'builds another package, whose build.rs runs'),
  exec('-C', 'runs in another directory'),
  write('--target-dir', 'writes another directory'),
  write('--out-dir', 'writes another directory'),
  write('--artifact-dir', 'writes another directory'),
];

/** go reads its flags with one dash or two (`-toolexec=x` is `--toolexec=x`). */
const GO_RISKY: readonly RiskyOption[] = [
  exec('--toolexec', 'runs every compiler tool through a program'),
  exec('--exec', 'runs the test binary through a program'),
  exec('--ldflags', 'can name an external linker program (-extld)'),
  exec('--gcflags', 'passes flags to the compiler'),
  exec('--asmflags', 'passes flags to the assembler'),
  exec('--gccgoflags', 'passes flags to gccgo'),
  exec('--compiler', 'names another compiler'),
  exec('--overlay', 'replaces source files'),
  exec('--modfile', 'reads another go.mod'),
  exec('--C', 'runs in another directory'),
  write('--o', 'writes a file'),
  // redclass: `go vet -vettool=./x` runs ./x
  exec('--vettool', 'runs a vet program'),
  // redclass: `go test -coverprofile=~/.bashrc` writes wherever the profile is named, and so does
  // the test binary for its own -test.* spellings after -args
  ...['coverprofile', 'cpuprofile', 'memprofile', 'blockprofile', 'mutexprofile', 'trace', 'outputdir', 'testlogfile', 'gocoverdir', 'fuzzcachedir'].flatMap(
    (flag) => [write(`--${flag}`, 'writes a file where it names'), write(`--test.${flag}`, 'writes a file where it names')],
  ),
  write('--pkgdir', 'installs packages in another directory'),
];

const MAKE_RISKY: readonly RiskyOption[] = [
  exec('--file', 'reads another makefile, whose recipes run'),
  exec('--makefile', 'reads another makefile'),
  exec('-f', 'reads another makefile'),
  exec('--directory', 'runs another directory\'s makefile'),
  exec('-C', 'runs another directory\'s makefile'),
  exec('--eval', 'evaluates make code'),
  exec('-E', 'evaluates make code'),
  exec('--include-dir', 'reads included makefiles from another directory'),
  exec('-I', 'reads included makefiles from another directory'),
  // pathsec: -e lets the environment override the makefile's own variables (CC, MAKEFLAGS ...)
  exec('--environment-overrides', "lets the environment override the makefile's variables (CC, LD ... name programs)"),
  exec('-e', "lets the environment override the makefile's variables (CC, LD ... name programs)"),
];

const PIP_RISKY: readonly RiskyOption[] = [
  write('--target', 'installs into another directory'),
  write('-t', 'installs into another directory'),
  write('--prefix', 'installs into another prefix'),
  write('--root', 'installs under another root'),
  write('--user', 'installs into the home directory'),
  exec('--requirement', 'installs whatever a file lists'),
  exec('-r', 'installs whatever a file lists'),
  exec('--index-url', 'installs from another index'),
  exec('-i', 'installs from another index'),
  exec('--extra-index-url', 'installs from another index'),
  exec('--find-links', 'installs from other locations'),
  exec('-f', 'installs from other locations'),
  exec('--editable', 'builds a local project, running its setup code'),
  exec('-e', 'builds a local project, running its setup code'),
  exec('--config-settings', 'passes settings to the build backend'),
  exec('--global-option', 'passes options to setup.py'),
  exec('--build-option', 'passes options to setup.py'),
];

const PYTEST_RISKY: readonly RiskyOption[] = [
  exec('-p', 'loads a plugin module'),
  exec('--override-ini', 'overrides ini settings such as addopts'),
  exec('-o', 'overrides ini settings such as addopts'),
  exec('--config-file', 'reads another config'),
  exec('-c', 'reads another config'),
  exec('--rootdir', 'collects another root (its conftest.py runs)'),
  exec('--confcutdir', 'loads conftest.py from further up'),
  exec('--pyargs', 'imports packages by name'),
  write('--basetemp', 'deletes and writes another directory'),
  write('--junitxml', 'writes a file'),
  write('--junit-xml', 'writes a file'),
  write('--result-log', 'writes a file'),
  // redclass: more files written where they are named, and a debugger class imported by name
  write('--log-file', 'writes a file'),
  write('--debug', 'writes a debug log file'),
  write('--report-log', 'writes a file'),
  write('--cov-report', 'writes a coverage report where it names'),
  write('--html', 'writes a file'),
  exec('--pdbcls', 'imports a module by name'),
];

const DOCKER_RISKY: readonly RiskyOption[] = [
  exec('--privileged', 'gives the container the host'),
  exec('--volume', 'mounts host paths'),
  exec('-v', 'mounts host paths'),
  exec('--mount', 'mounts host paths'),
  exec('--device', 'gives host devices'),
  exec('--cap-add', 'adds capabilities'),
  exec('--security-opt', 'turns off confinement'),
  exec('--pid', 'joins host processes'),
  exec('--network', 'joins host networking'),
  exec('--net', 'joins host networking'),
  exec('--userns', 'changes user namespaces'),
  exec('--ipc', 'joins host IPC'),
  exec('--uts', 'joins host UTS'),
  exec('--host', 'talks to another daemon'),
  exec('-H', 'talks to another daemon'),
  exec('--context', 'talks to another daemon'),
  exec('--config', 'reads another config (credential helpers run)'),
  exec('--entrypoint', 'runs another program'),
];

const KUBECTL_RISKY: readonly RiskyOption[] = [
  exec('--kubeconfig', 'reads another kubeconfig, whose exec credential plugin runs'),
  exec('--context', 'talks to another cluster'),
  exec('--cluster', 'talks to another cluster'),
  exec('--server', 'talks to another server'),
  exec('-s', 'talks to another server'),
  exec('--token', 'acts with another identity'),
  exec('--as', 'impersonates'),
  exec('--as-group', 'impersonates'),
  exec('--user', 'acts with another identity'),
];

/** The short spellings the known-safe tables resolve to their long names, for word matching. */
function withShort(table: readonly RiskyOption[], shorts: Readonly<Record<string, string>>): readonly RiskyOption[] {
  const extra = Object.entries(shorts).map(([short, long]) => ({ ...table.find((r) => r.option === long)!, option: short }));
  return [...table, ...extra];
}

/** Program name to its exec/write table. */
export const RISKY_TABLES: Readonly<Record<string, readonly RiskyOption[]>> = {
  npm: NPM_RISKY,
  npx: NPM_RISKY,
  pnpm: PNPM_RISKY,
  yarn: YARN_RISKY,
  cargo: CARGO_RISKY,
  go: GO_RISKY,
  make: MAKE_RISKY,
  gmake: MAKE_RISKY,
  pip: PIP_RISKY,
  pip3: PIP_RISKY,
  pytest: PYTEST_RISKY,
  docker: DOCKER_RISKY,
  podman: DOCKER_RISKY,
  kubectl: KUBECTL_RISKY,
  git: GIT_RISKY,
  sort: withShort(SORT_RISKY, { '-o': '--output', '-T': '--temporary-directory' }),
  file: withShort(FILE_RISKY, { '-C': '--compile', '-z': '--uncompress', '-Z': '--uncompress-noreport', '-p': '--preserve-date' }),
  rg: withShort(RG_RISKY, { '-z': '--search-zip' }),
  find: FIND_RISKY,
  base64: withShort(BASE64_RISKY, { '-o': '--output' }),
  sed: SED_RISKY,
};

export interface RiskyWord {
  word: string;
  kind: RiskKind;
  why: string;
}

/**
 * Options harmless or not by their value: the value (attached, `--opt=v` / `-ov`, or the next
 * word) must have the listed shape, anything else is risky. An allow-list of values, where a
 * table of bad values could never be complete. Each names the attack it blocks (pathsec).
 */
interface ValuedOption {
  long: string;
  short?: string;
  safe: RegExp;
  kind: RiskKind;
  why: string;
}

/** A path inside the project: relative, no `..` segment, no `~`, not an option (`packages/api`, `@scope/api`). */
const INSIDE_PROJECT = /^(?:\.\/)?(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9@_][A-Za-z0-9@._/-]*$/;

const NPM_VALUED: readonly ValuedOption[] = [
  // npm -w ../x / --workspace=/elsewhere runs (and installs into) a directory outside the project
  { long: '--workspace', short: '-w', safe: INSIDE_PROJECT, kind: 'write', why: 'runs and installs in a workspace directory outside the project' },
  // --location=global / user writes the global prefix or the person's npmrc
  { long: '--location', safe: /^project$/, kind: 'write', why: 'writes the global install directory or the user config' },
];

const VALUED_OPTIONS: Readonly<Record<string, readonly ValuedOption[]>> = {
  npm: NPM_VALUED,
  npx: NPM_VALUED,
  // pytest -W error::evil.Warning imports the module a dotted warning category names
  pytest: [{ long: '--pythonwarnings', short: '-W', safe: /^[A-Za-z0-9_:]*$/, kind: 'exec', why: 'a dotted warning category imports its module' }],
};

/** The word at argv[i] spells a valued option whose value has no listed shape: its risk, else null. */
function riskyValue(argv: readonly string[], i: number, options: readonly ValuedOption[]): RiskyWord | null {
  const word = argv[i]!;
  for (const o of options) {
    let value: string | undefined;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = eq < 0 ? word : word.slice(0, eq);
      // an abbreviation too (nopt and argparse take them, one letter included), and nopt's `--w` for `-w`
      if (!(name === o.long || (name.length >= 3 && o.long.startsWith(name)) || (o.short !== undefined && name === `-${o.short}`))) continue;
      value = eq < 0 ? argv[i + 1] : word.slice(eq + 1);
    } else if (o.short !== undefined && word.startsWith('-') && word.length > 1) {
      // the letter alone, attached (`-Wx`, `-w=x`) or inside a group of flags (`-xW v`)
      const at = word.indexOf(o.short[1]!, 1);
      if (at < 0) continue;
      const rest = word.slice(at + 1).replace(/^=/, '');
      value = rest === '' ? argv[i + 1] : rest;
    } else {
      continue;
    }
    // a missing value (the option is the last word) is not a listed shape either
    if (value === undefined || !o.safe.test(value)) return { word, kind: o.kind, why: o.why };
  }
  return null;
}

/**
 * git subcommands' own spellings of a risky option, and subcommand options that run or write which
 * mean something harmless elsewhere (`-x` is `rebase --exec` but `log -x` does not exist, `-u` is
 * `clone --upload-pack` but `log -u` is `--patch`), so they are keyed by subcommand. Each names
 * the attack it blocks (redclass, issue #12).
 */
const STRATEGY_WHY = 'runs the merge strategy program git-merge-<name> found on PATH';
/** -s/--strategy NAME runs git-merge-NAME; -X/--strategy-option passes it options. */
const STRATEGY: readonly RiskyOption[] = [
  exec('--strategy', STRATEGY_WHY),
  exec('--strategy-option', 'passes options to the merge strategy program'),
  exec('-X', 'passes options to the merge strategy program'),
];
const RECURSE_WHY = "runs git in every submodule, whose config and hooks the rule's author never saw";

const GIT_SUBCOMMAND_RISKY: Readonly<Record<string, readonly RiskyOption[]>> = {
  // git clone -u CMD runs CMD as the upload-pack of a local "remote"
  clone: [
    exec('-u', 'runs a program as the upload-pack of a local remote'),
    // the template's hooks are copied in and post-checkout runs at the end of the clone
    exec('--template', "copies hooks from another directory, which run at checkout"),
    // --config core.fsmonitor=CMD / core.hooksPath=DIR is -c for the new repository
    exec('--config', 'sets config in the new repository, which can run programs'),
    write('--separate-git-dir', 'writes the repository in another directory'),
    exec('--recursive', RECURSE_WHY),
  ],
  // rebase -x CMD runs CMD after each commit
  rebase: [exec('-x', 'runs a command after each commit'), ...STRATEGY, exec('-s', STRATEGY_WHY)],
  pull: [exec('-x', 'runs a command after each commit (with --rebase)'), ...STRATEGY, exec('-s', STRATEGY_WHY)],
  merge: [...STRATEGY, exec('-s', STRATEGY_WHY)],
  // cherry-pick/revert -s is --signoff: only the long spellings and -X
  'cherry-pick': STRATEGY,
  revert: STRATEGY,
  // git submodule update --recursive goes on into nested submodules; clone --recursive is --recurse-submodules
  submodule: [exec('--recursive', RECURSE_WHY)],
  // diff/grep --no-index and blame --contents read any file, not the repository's (a secret read)
  diff: [read('--no-index', 'compares files outside the repository')],
  blame: [read('--contents', 'prints any file as the blamed contents')],
  annotate: [read('--contents', 'prints any file as the blamed contents')],
  // difftool -x CMD / -t TOOL run a program
  difftool: [exec('-x', 'runs a program'), exec('-t', 'runs a configured tool program')],
  mergetool: [exec('-t', 'runs a configured tool program')],
  // grep -O CMD opens the matching files in CMD
  grep: [
    exec('-O', 'opens the matching files in a program'),
    exec('--open-files-in-pager', 'opens the matching files in a program'),
    read('--no-index', 'searches files outside the repository'),
  ],
  archive: [write('-o', 'writes a file')],
  'format-patch': [write('-o', 'writes into a directory'), write('--output-directory', 'writes into a directory')],
  'send-email': ['--to-cmd', '--cc-cmd', '--header-cmd', '--sendmail-cmd', '--smtp-server'].map((o) => exec(o, 'runs a program')),
};

/** Subcommand operands that run a command: `git submodule foreach CMD`, `git bisect run CMD`. */
const GIT_RUNNING_OPERANDS: Readonly<Record<string, string>> = { submodule: 'foreach', bisect: 'run' };

/** git words whose value runs a program: signature formats (gpg.program), remerge (merge drivers). */
function riskyGitWord(word: string): RiskyWord | null {
  const eq = word.indexOf('=');
  const name = eq < 0 ? word : word.slice(0, eq);
  const value = eq < 0 ? '' : word.slice(eq + 1);
  if ((name === '--format' || name === '--pretty') && /%G|%\(signature/.test(value)) return { word, kind: 'exec', why: 'asks for signatures, which runs gpg.program' };
  if (name === '--diff-merges' && /^(r|remerge)$/.test(value)) return { word, kind: 'exec', why: 're-runs merges with the merge driver the attributes select' };
  return null;
}

/**
 * The first word of argv at or after `from` (and before `--`) that the program's exec/write table
 * lists, or an operand shape that runs code: git `ext::`/`fd::` transports, make `VAR=value`
 * overrides (`make SHELL=./evil`). Null when none. Programs without a table have no risky words
 * here (a rule still covers no option unless it says so).
 */
export function findRiskyWord(argv: readonly string[], from: number): RiskyWord | null {
  const name = programName(argv[0] ?? '');
  const table = Object.hasOwn(RISKY_TABLES, name) ? RISKY_TABLES[name]! : [];
  const gitAt = name === 'git' ? findGitSubcommand(argv) : -1;
  const gitSub = gitAt < 0 ? null : argv[gitAt]!;
  const gitTable = gitSub !== null && Object.hasOwn(GIT_SUBCOMMAND_RISKY, gitSub) ? GIT_SUBCOMMAND_RISKY[gitSub]! : [];
  let sedScriptSeen = false;
  // after `--` words are operands; but find reads its expression, sed its script, make its
  // VAR=value definitions and git its URLs there too (redclass: `find -- . -delete` under an allow
  // for `find`, `sed -- s/x/y/e f`, `make test -- CC=./x`, `git fetch -- ext::...`)
  let operandsOnly = false;
  for (let i = Math.max(1, from); i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--' && !operandsOnly && name !== 'find') {
      if (!Object.hasOwn(READ_AFTER_DASHDASH, name)) break;
      operandsOnly = true;
      continue;
    }
    // sed's first operand is its script (an -e/-f one is risky already): `e` runs and `w`/`W`
    // write (`sed s/x/y/e f`, `sed '1w out' f`); over-finds on any such letter in it
    if (name === 'sed' && (operandsOnly || !word.startsWith('-')) && !sedScriptSeen) {
      sedScriptSeen = true;
      if (/[ewW]/.test(word)) return { word, kind: 'exec', why: 'is a sed script that may run a command (e) or write a file (w)' };
      continue;
    }
    // ext::CMD and fd:: run a program as the "remote" (git fetch ext::'sh -c evil')
    if (name === 'git' && /^(ext|fd)::/i.test(word)) return { word, kind: 'exec', why: 'is a git transport that runs a program' };
    // make reads every argument holding `=` as a variable definition: SHELL=./x, X!=cmd (runs
    // the shell at once), `X ::= $(shell ...)`, `.SHELLFLAGS=...`, `override CC = ./x`
    if ((name === 'make' || name === 'gmake') && !word.startsWith('-') && word.includes('=')) {
      return { word, kind: 'exec', why: 'defines a make variable (SHELL, CC, MAKE ... name programs; != runs the shell)' };
    }
    // git diff is a --no-index diff of any two files on the disk by itself when a path is outside
    // the work tree (redteam: `git diff /dev/null ~/.ssh/id_rsa` under an allow for `git diff`)
    if (gitSub === 'diff' && i > gitAt && (operandsOnly || !word.startsWith('-')) && leavesWorkTree(word)) {
      return { word, kind: 'read', why: 'names a path outside the work tree, which git diff compares as --no-index' };
    }
    if (operandsOnly) continue;
    if (Object.hasOwn(VALUED_OPTIONS, name)) {
      const v = riskyValue(argv, i, VALUED_OPTIONS[name]!);
      if (v !== null) return v;
    }
    if (name === 'git') {
      const git = riskyGitWord(word);
      if (git !== null) return git;
      if (gitSub !== null && i > gitAt && Object.hasOwn(GIT_RUNNING_OPERANDS, gitSub) && GIT_RUNNING_OPERANDS[gitSub] === word) {
        return { word, kind: 'exec', why: `runs a command (git ${gitSub} ${word})` };
      }
      const sub = wordNamesRisky(word, gitTable.filter((r) => r.option.startsWith('-')));
      if (sub) return { word, kind: sub.kind, why: sub.why };
    }
    // find's primaries are single-dash words matched exactly
    if (name === 'find') {
      const r = table.find((t) => t.option === word);
      if (r) return { word, kind: r.kind, why: r.why };
      continue;
    }
    // go's flag package takes `-flag` and `--flag`, and no abbreviation: match exactly
    if (name === 'go') {
      const r = goRisky(word, table);
      if (r) return { word, kind: r.kind, why: r.why };
      continue;
    }
    const r = wordNamesRisky(word, table);
    if (r) return { word, kind: r.kind, why: r.why };
  }
  return null;
}

/** A path that may point outside the work tree: absolute, `~` (a shell expands it) or with a `..` segment. */
function leavesWorkTree(word: string): boolean {
  return word.startsWith('/') || word.startsWith('~') || word.split('/').includes('..');
}

/** Programs that still read what runs from the words after `--` (see findRiskyWord). */
const READ_AFTER_DASHDASH: Readonly<Record<string, true>> = { sed: true, make: true, gmake: true, git: true };

/** A go flag word (`-toolexec=x`, `--o`, `-o`) against GO_RISKY, by exact name. */
function goRisky(word: string, table: readonly RiskyOption[]): RiskyOption | null {
  if (!word.startsWith('-') || word === '-' || word === '--') return null;
  const eq = word.indexOf('=');
  const bare = (eq < 0 ? word : word.slice(0, eq)).replace(/^--?/, '');
  return table.find((r) => r.option === `--${bare}`) ?? null;
}
