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
import { GIT_RISKY } from './git.ts';
import { type RiskyOption, wordNamesRisky } from './optionTable.ts';
import { programName } from './programPath.ts';
import { RG_RISKY } from './rg.ts';
import { SED_RISKY } from './sed.ts';
import { SORT_RISKY } from './sort.ts';

const exec = (option: string, why: string): RiskyOption => ({ option, kind: 'exec', why });
const write = (option: string, why: string): RiskyOption => ({ option, kind: 'write', why });

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
  kind: 'exec' | 'write';
  why: string;
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
  for (let i = Math.max(1, from); i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') break;
    // find's primaries are single-dash words matched exactly
    if (name === 'find') {
      const r = table.find((t) => t.option === word);
      if (r) return { word, kind: r.kind, why: r.why };
      continue;
    }
    const spelled = name === 'go' && /^-[^-]/.test(word) ? `-${word}` : word;
    const r = wordNamesRisky(spelled, table);
    if (r) return { word, kind: r.kind, why: r.why };
    // ext::CMD and fd:: run a program as the "remote" (git fetch ext::'sh -c evil')
    if (name === 'git' && /^(ext|fd)::/i.test(word)) return { word, kind: 'exec', why: 'is a git transport that runs a program' };
    if ((name === 'make' || name === 'gmake') && /^[A-Za-z_][A-Za-z0-9_.]*\+?:?=/.test(word)) {
      return { word, kind: 'exec', why: 'overrides a make variable (SHELL, CC, MAKE ... name programs)' };
    }
  }
  return null;
}
