/**
 * Metamorphic laws of the known-safe allow-lists (issue #12): take a command warden knows to be
 * read-only, change it in a way that adds a word nobody listed, and the verdict must move away
 * from auto-approval. Seeds come from the conformance vectors and the case tables beside the
 * program rules; fast-check picks the insertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { classifyExec, isDangerousCommand, isKnownSafeCommand, programsToLocate } from '../../src/safety/classifyExec.ts';
import { locatorFor, searchPathFor } from '../../src/sandbox/commandPath.ts';
import type { Classification } from '../../src/safety/types.ts';
import { APPROVAL_POLICIES, SANDBOX_MODES } from '../../src/policy.ts';
import { ANY_ARGUMENTS } from '../../src/safety/programs/coreutils.ts';
import { COREUTILS_CASES } from '../../src/safety/programs/coreutils.cases.ts';
import { GIT_CASES } from '../../src/safety/programs/git.cases.ts';
import { RISKY_TABLES } from '../../src/safety/programs/riskyOptions.ts';
import { SORT_CASES } from '../../src/safety/programs/sort.cases.ts';
import { FILE_CASES } from '../../src/safety/programs/file.cases.ts';
import { RG_CASES } from '../../src/safety/programs/rg.cases.ts';
import { FIND_CASES } from '../../src/safety/programs/find.cases.ts';
import { parseRules } from '../../src/safety/ruleParse.ts';
import { EMPTY_RULE_SET } from '../../src/safety/ruleMatch.ts';
import { loadShellGrammar } from '../../src/safety/shellParse.ts';
import { systemPrograms } from '../support/programs.ts';

await loadShellGrammar();

interface Vector { id: string; command: string[]; known_safe: boolean; dangerous: boolean; platform?: string }
const vectors: Vector[] = readFileSync(fileURLToPath(new URL('../../../shared/conformance/commands.jsonl', import.meta.url)), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Vector)
  .filter((v) => v.platform !== 'windows');

/** Plain known-safe argv from every source, without the programs that take any words at all. */
const SAFE_ARGV: string[][] = [
  ...vectors.filter((v) => v.known_safe && v.command[0] !== 'bash' && v.command[0] !== 'zsh').map((v) => v.command),
  ...COREUTILS_CASES.filter((c) => c.safe).map((c) => c.argv),
  ...GIT_CASES.filter((c) => c.safe).map((c) => c.argv),
  ...SORT_CASES.filter((c) => c.safe).map((c) => ['sort', ...c.args]),
  ...FILE_CASES.filter((c) => c.safe).map((c) => ['file', ...c.args]),
  ...RG_CASES.filter((c) => c.safe).map((c) => ['rg', ...c.args]),
  ...FIND_CASES.filter((c) => c.safe).map((c) => ['find', ...c.args]),
].filter((argv) => !ANY_ARGUMENTS.has(argv[0]!) && isKnownSafeCommand(argv, { platform: 'linux' }));

/**
 * Positions where an inserted word is read as an option: before any `--`, and not right after a
 * word starting with `-` (that slot may be an option's value, which getopt takes whatever it is).
 */
function optionSlots(argv: readonly string[]): number[] {
  const slots: number[] = [];
  const end = argv.indexOf('--') < 0 ? argv.length : argv.indexOf('--');
  for (let i = 1; i <= end; i++) {
    const prev = argv[i - 1]!;
    if (i > 1 && prev.startsWith('-')) continue;
    // sed's shape is fixed and find's paths come first: both refuse any unknown word anyway
    slots.push(i);
  }
  return slots;
}

const unknownLong = fc.stringMatching(/^[a-z]{3,10}$/).map((n) => `--zz-${n}`);
/** A short group holding a letter no table lists, after flags that take no value anywhere. */
const unknownShortCluster = fc.constantFrom('%', '^', '#', '~', ':', '!').chain((bad) =>
  fc.tuple(fc.constantFrom('', 'a'), fc.constantFrom('', 'r', 'v')).map(([a, b]) => `-${a}${bad}${b}`),
);
const unknownWord = fc.oneof(
  unknownLong,
  unknownLong.map((o) => `${o}=x`),
  unknownShortCluster,
);

test('law: inserting any option not in the allow-list before `--` makes a known-safe argv not known-safe', () => {
  assert.ok(SAFE_ARGV.length >= 60, `only ${SAFE_ARGV.length} seeds`);
  fc.assert(
    fc.property(fc.constantFrom(...SAFE_ARGV), unknownWord, fc.nat(), (argv, word, pick) => {
      const slots = optionSlots(argv);
      const at = slots[pick % slots.length]!;
      const mutated = [...argv.slice(0, at), word, ...argv.slice(at)];
      return !isKnownSafeCommand(mutated, { platform: 'linux' });
    }),
    { numRuns: 3000, seed: 12 },
  );
});

test('law: every git global option other than the harmless ones, before a read-only subcommand, makes it not known-safe', () => {
  const globals = [
    ['-C', 'sub'], ['-c', 'core.pager=cat'], ['--config-env=core.pager=P'], ['--exec-path=/tmp'], ['-p'], ['--paginate'],
    ['--git-dir', '.git'], ['--git-dir=.git'], ['--work-tree', '.'], ['--work-tree=.'], ['--namespace', 'x'], ['--namespace=x'],
    ['--super-prefix', 'x'], ['--bare'], ['--attr-source', 'HEAD'], ['--shallow-file', 'x'], ['--list-cmds=main'],
    ['--help'], ['-h'], ['--version'], ['-v'], ['--html-path'], ['--man-path'], ['--info-path'], ['--zz-unknown'], ['-Cdir'],
    ['-ccore.pager=cat'],
  ];
  const gitSeeds = SAFE_ARGV.filter((a) => a[0] === 'git');
  fc.assert(
    fc.property(fc.constantFrom(...gitSeeds), fc.constantFrom(...globals), (argv, global) => {
      return !isKnownSafeCommand(['git', ...global, ...argv.slice(1)]);
    }),
    { numRuns: 1000, seed: 12 },
  );
});

const policy = { approval: 'untrusted' as const, sandbox: 'workspace-write' as const, writableRoots: [], network: false, tmpWrite: true };

test('law: inserting any exec/write option makes a command not auto-approved under any rule', () => {
  const programs = Object.keys(RISKY_TABLES);
  fc.assert(
    fc.property(fc.constantFrom(...programs), fc.nat(), fc.boolean(), (program, pick, attached) => {
      const table = RISKY_TABLES[program]!;
      const risk = table[pick % table.length]!;
      const sub = ['git', 'npm', 'pnpm', 'yarn', 'cargo', 'go', 'pip', 'pip3', 'docker', 'podman', 'kubectl'].includes(program) ? ['run'] : [];
      const option = program === 'find' ? [risk.option, 'x'] : attached && risk.option.startsWith('--') ? [`${risk.option}=x`] : [risk.option, 'x'];
      const argv = [program, ...sub, 'a', ...option];
      const text = [
        `[[rule]]\npattern = ${JSON.stringify([program, ...sub])}\ndecision = "allow"\njustification = "t"\nany_options = true`,
        `[[rule]]\npattern = ${JSON.stringify([program])}\ndecision = "allow"\njustification = "t"\nany_options = true`,
        `[[rule]]\npattern = ${JSON.stringify([program, ...sub, 'a'])}\ndecision = "allow"\njustification = "t"\noptions = ${JSON.stringify([risk.option])}`,
      ].join('\n');
      const rules = parseRules(text, 'law');
      const c = classifyExec({ command: argv, cwd: '/w', withEscalatedPermissions: false, policy, platformSandbox: 'bwrap', approvedForSession: false, programs: systemPrograms }, rules);
      return c.outcome !== 'auto-approve' && c.knownSafe === false;
    }),
    { numRuns: 1500, seed: 12 },
  );
});

const WRAPPERS: string[][] = [
  ['env'], ['env', 'A=1'], ['env', '-i'], ['nice'], ['nice', '-n', '5'], ['timeout', '5'], ['timeout', '-s', 'KILL', '5'], ['xargs'],
  ['xargs', '-0'], ['sudo'], ['sudo', '-u', 'root'], ['busybox'], ['stdbuf', '-oL'], ['ionice', '-c3'], ['nohup'], ['time'],
  ['command'], ['exec'], ['setsid'], ['doas'], ['chrt', '-f', '1'], ['taskset', '1'], ['flock', 'x'],
];

test('law: wrapping in any wrapper never turns an unsafe command safe, nor a dangerous one harmless', () => {
  const seeds = vectors.filter((v) => !v.known_safe).map((v) => v.command);
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.constantFrom(...WRAPPERS), { minLength: 1, maxLength: 3 }), (argv, wrappers) => {
      const wrapped = [...wrappers.flat(), ...argv];
      if (isKnownSafeCommand(wrapped)) return false;
      return !isDangerousCommand(argv) || isDangerousCommand(wrapped);
    }),
    { numRuns: 1500, seed: 12 },
  );
  // and known-safe commands do not become known-safe through a wrapper either (it could change their environment)
  for (const w of WRAPPERS) assert.equal(isKnownSafeCommand([...w, 'ls']), false, JSON.stringify(w));
});

/** A word re-quoted in a way bash reads as the same word. */
function requote(word: string, style: number): string {
  if (word === '' ) return "''";
  switch (style % 5) {
    case 0:
      return word;
    case 1:
      return `'${word.replaceAll("'", `'\\''`)}'`;
    case 2:
      return /["\\$`]/.test(word) ? word : `"${word}"`;
    case 3:
      // split into two quoted halves: "ab" -> 'a'"b"
      return word.length < 2 || /['"\\$`]/.test(word) ? word : `'${word.slice(0, 1)}'"${word.slice(1)}"`;
    default:
      return `$'${word.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  }
}

test('law: quoting and line continuations never turn an unsafe script safe; plain quoting keeps a safe one safe; the danger verdict survives any quoting', () => {
  const safeScripts = vectors.filter((v) => v.known_safe && v.command[0] === 'bash' && v.command.length === 3).map((v) => v.command[2]!);
  // seeds that are safe as a plain script too (`git diff` without --no-ext-diff is safe only as its
  // own argv, where warden adds --no-ext-diff; inside a script it could run an external diff)
  const plainSeeds = SAFE_ARGV.filter((a) => a.every((w) => /^[A-Za-z0-9_./=,:%-]+$/.test(w))).filter((a) =>
    isKnownSafeCommand(['bash', '-lc', a.join(' ')], { platform: 'linux' }),
  );
  assert.ok(plainSeeds.length >= 20, `only ${plainSeeds.length} plain seeds`);
  const dangerousSeeds = vectors.filter((v) => v.dangerous && !['bash', 'zsh', 'sudo'].includes(v.command[0]!)).map((v) => v.command);
  fc.assert(
    fc.property(fc.constantFrom(...plainSeeds), fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), fc.boolean(), (argv, styles, continuation) => {
      const sep = continuation ? ' \\\n  ' : ' ';
      // the command name stays a plain word (a quoted name is refused by design, as in Codex)
      const script = [argv[0]!, ...argv.slice(1).map((w, i) => requote(w, styles[i % 8]!))].join(sep);
      const safe = isKnownSafeCommand(['bash', '-lc', script], { platform: 'linux' });
      const usesAnsiC = script.includes("$'");
      // ANSI-C quoting is stricter (not a plain word): never safer; every other quoting keeps the verdict
      return usesAnsiC ? true : safe;
    }),
    { numRuns: 1500, seed: 12 },
  );
  fc.assert(
    fc.property(fc.constantFrom(...dangerousSeeds), fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), (argv, styles) => {
      const script = argv.map((w, i) => requote(w, styles[i % 8]!)).join(' ');
      return isDangerousCommand(['bash', '-lc', script]) && !isKnownSafeCommand(['bash', '-lc', script]);
    }),
    { numRuns: 800, seed: 12 },
  );
  assert.ok(safeScripts.length > 10);
});

/**
 * redclass: `--` ends a program's options, not what it runs. find reads its expression after it,
 * sed its script, make its VAR=value definitions, git its URLs; so wherever a `--` is put before
 * the word that runs or writes, an allow rule taking any option still does not cover the command.
 */
const RUNS_AFTER_DASHDASH: Array<{ prefix: string[]; before: string[]; risky: string[] }> = [
  { prefix: ['find'], before: ['-L', '.', '-name', 'x'], risky: ['-delete'] },
  { prefix: ['find'], before: ['.', '-type', 'f'], risky: ['-exec', 'rm', '{}', '+'] },
  { prefix: ['find'], before: ['-H', 'src'], risky: ['-fprint', 'out'] },
  { prefix: ['find'], before: ['.'], risky: ['-execdir', 'sh', '-c', 'x', ';'] },
  // (sed's options before the script: a `--` before `-n` would make `-n` the script itself)
  { prefix: ['sed', '-n'], before: [], risky: ['s/x/y/e', 'f'] },
  { prefix: ['sed'], before: [], risky: ['1w out', 'f'] },
  { prefix: ['make', 'test'], before: ['-j4', '-k'], risky: ['CC=./x'] },
  { prefix: ['make', 'test'], before: ['-s'], risky: ['X!=touch pwned'] },
  { prefix: ['git', 'fetch'], before: ['--prune'], risky: ['ext::sh -c touch% pwned'] },
  { prefix: ['git', 'clone'], before: ['--depth', '1'], risky: ['fd::3', 'dir'] },
];

test('law: a `--` anywhere before the word that runs or writes never lets an allow rule cover it (find, sed, make, git URLs)', () => {
  fc.assert(
    fc.property(fc.constantFrom(...RUNS_AFTER_DASHDASH), fc.nat(), (seed, pick) => {
      const at = pick % (seed.before.length + 1);
      const argv = [...seed.prefix, ...seed.before.slice(0, at), '--', ...seed.before.slice(at), ...seed.risky];
      const rules = parseRules(`[[rule]]\npattern = ${JSON.stringify(seed.prefix)}\ndecision = "allow"\njustification = "t"\nany_options = true`, 'law');
      const c = classifyExec({ command: argv, cwd: '/w', withEscalatedPermissions: false, policy, platformSandbox: 'bwrap', approvedForSession: false, programs: systemPrograms }, rules);
      return c.outcome !== 'auto-approve';
    }),
    { numRuns: 400, seed: 12 },
  );
});

test('law: make takes every operand holding `=` as a variable definition, so no allow rule covers one', () => {
  // (a word starting with `-` is an option to make, not a definition)
  const name = fc.stringMatching(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,7}$/);
  const op = fc.constantFrom('=', ':=', '::=', ':::=', '?=', '+=', '!=');
  const blank = fc.constantFrom('', ' ', '\t');
  const keyword = fc.constantFrom('', 'override ', 'export ');
  fc.assert(
    fc.property(keyword, name, blank, op, blank, fc.boolean(), (kw, n, b1, o, b2, dashdash) => {
      const word = `${kw}${n}${b1}${o}${b2}./x`;
      const argv = ['make', 'test', ...(dashdash ? ['--'] : []), word];
      const rules = parseRules('[[rule]]\npattern = ["make", "test"]\ndecision = "allow"\njustification = "t"\nany_options = true', 'law');
      const c = classifyExec({ command: argv, cwd: '/w', withEscalatedPermissions: false, policy, platformSandbox: 'bwrap', approvedForSession: false, programs: systemPrograms }, rules);
      return c.outcome !== 'auto-approve';
    }),
    { numRuns: 500, seed: 12 },
  );
});

/** How much a verdict lets run without a person: reject < ask < auto-approve. */
const PERMISSIVENESS: Record<Classification['outcome'], number> = { reject: 0, ask: 1, 'auto-approve': 2 };

test('law: adding an empty, relative, workspace or temp entry to PATH (holding a planted copy of every program) never makes a verdict more permissive, nor changes the PATH the command gets', () => {
  // where the pretend disk keeps programs: the system's in /usr/bin, a person's own in ~/bin
  const system = (name: string) => `/usr/bin/${name}`;
  const scripts = ['ls && pwd', 'git status', 'cat a | wc -l', 'grep -n x f; ls -la'];
  const argvArb = fc.oneof(fc.constantFrom(...SAFE_ARGV), fc.constantFrom(...scripts).chain((s) => fc.constantFrom<string[]>(['bash', '-lc', s], ['zsh', '-lc', s], ['sh', '-c', s])));
  const unsafeEntry = fc.constantFrom('', '.', './', 'bin', 'node_modules/.bin', '/w', '/w/bin', '/w/sub/../bin', '/tmp', '/tmp/x/bin', '/scratch/me');
  const baseArb = fc.subarray(['/home/u/bin', '/usr/local/bin', '/usr/bin', '/bin'], { minLength: 1 });
  fc.assert(
    fc.property(argvArb, baseArb, unsafeEntry, fc.nat(), fc.boolean(), fc.constantFrom(...APPROVAL_POLICIES), fc.constantFrom(...SANDBOX_MODES), fc.constantFrom('bwrap' as const, 'none' as const), fc.boolean(), (argv, base, entry, at, personalLs, approval, sandbox, platformSandbox, clientRuns) => {
      const policy = { approval, sandbox, writableRoots: [], network: false, tmpWrite: true };
      const ctx = { cwd: '/w', writableRoots: [], tmpDirs: ['/tmp', '/scratch/me'] };
      // the planted copies live in the unsafe entry (relative ones under the cwd, /w)
      const plantedDir = entry === '' ? '/w' : entry.startsWith('/') ? entry : `/w/${entry}`;
      const isExecutable = (withPlant: boolean) => (path: string) => {
        const dir = path.slice(0, path.lastIndexOf('/'));
        const name = path.slice(path.lastIndexOf('/') + 1);
        if (withPlant && (dir === plantedDir || dir === plantedDir.replace(/\/$/, '') || dir === `/w/${entry}`.replace(/\/$/, ''))) return true;
        if (dir === '/home/u/bin') return personalLs && name === 'ls';
        return path === system(name) || dir === '/bin';
      };
      const verdict = (path: string, withPlant: boolean) => {
        const search = searchPathFor(path, ctx);
        const programs = clientRuns && search.dropped.length > 0 ? () => null : locatorFor(programsToLocate(argv), search.entries, { isExecutable: isExecutable(withPlant), canonical: (d) => d });
        const c = classifyExec({ command: argv, cwd: '/w', withEscalatedPermissions: false, policy, platformSandbox, approvedForSession: false, programs, ...(clientRuns ? { clientRuns: true } : {}) }, EMPTY_RULE_SET);
        return { c, runPath: search.path };
      };
      const before = verdict(base.join(':'), false);
      const entries = [...base];
      entries.splice(at % (entries.length + 1), 0, entry);
      const after = verdict(entries.join(':'), true);
      assert.equal(after.runPath, before.runPath, 'the command gets the same PATH');
      assert.ok(PERMISSIVENESS[after.c.outcome] <= PERMISSIVENESS[before.c.outcome], `${JSON.stringify(argv)} PATH=${entries.join(':')}: ${before.c.outcome} -> ${after.c.outcome}`);
      assert.ok(!after.c.knownSafe || before.c.knownSafe, 'never newly known-safe');
      return true;
    }),
    { numRuns: 1500, seed: 12 },
  );
});

/** Directories an agent may name as the run's (MCP workdir, Gemini dir_path): ordinary, short, a home, secret ones. */
const RUN_DIRECTORIES = ['/work/app', '/repo', '/', '/home/u', '/home/u/proj', '/root', '/etc', '/proc/self', '/dev', '/home/u/.ssh', '/home/u/.config/gh', '/Users/u/.aws', '/tmp', '/home/u/proj/src'];

test('law: naming the directory a command runs in never makes it more permissive (rt-classifier)', () => {
  const seeds = [...SAFE_ARGV, ...SAFE_ARGV.map((a) => ['bash', '-lc', a.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(' ')]), ...vectors.map((v) => v.command)];
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.constantFrom(...RUN_DIRECTORIES), (argv, cwd) => {
      const there = isKnownSafeCommand(argv, { platform: 'linux', cwd });
      return !there || isKnownSafeCommand(argv, { platform: 'linux' });
    }),
    { numRuns: 2000, seed: 12 },
  );
});

test('law: an environment assignment before any command of a script makes it not known-safe (GIT_PAGER=, LD_PRELOAD=, BASH_ENV= ...)', () => {
  const scripts = SAFE_ARGV.map((a) => a.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(' '));
  fc.assert(
    fc.property(fc.constantFrom(...scripts), fc.constantFrom('GIT_PAGER', 'PAGER', 'LD_PRELOAD', 'BASH_ENV', 'GIT_EXTERNAL_DIFF', 'RIPGREP_CONFIG_PATH', 'LC_ALL', 'X'), fc.constantFrom('./x', '', 'C', 'sh'), (script, name, value) => {
      return !isKnownSafeCommand(['bash', '-lc', `${name}=${value} ${script}`]) && !isKnownSafeCommand(['bash', '-lc', `ls && ${name}=${value} ${script}`]);
    }),
    { numRuns: 1000, seed: 12 },
  );
});
