/** The word-only parser: what it accepts, what it refuses, and that it refuses to run uninitialised. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error the red-team corpus is plain JavaScript without types
import { CORPUS } from '../../scripts/attack/corpus.mjs';
import {
  deepScanScript,
  loadShellGrammar,
  parseWordOnlyScript,
  parseWordOnlyScriptDetailed,
  shellScriptOf,
} from '../../src/safety/shellParse.ts';

const BENIGN = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'scripts', 'attack', 'benign.json'), 'utf8')) as string[][];

/** Every verdict of the corpus, in a fresh process that loads the grammar first (--grammar) or never does. */
function verdictsOf(commands: string[][], grammar: boolean): Array<{ verdict?: unknown; threw?: string }> {
  const r = spawnSync(process.execPath, [...process.execArgv, join(import.meta.dirname, '..', 'fixtures', 'classifyCorpus.ts'), ...(grammar ? ['--grammar'] : [])], {
    input: JSON.stringify(commands),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((line) => JSON.parse(line) as { verdict?: unknown; threw?: string });
}

test('the grammar is loaded on demand: a verdict without it either throws (never a guess) or is the verdict with it', () => {
  const conformance = readFileSync(join(import.meta.dirname, '..', '..', '..', 'shared', 'conformance', 'commands.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { command: string[] }).command);
  const plain = [['true'], ['ls', '-la'], ['bash', '-lc', 'git status'], ['bash', '-c', 'ls -la src'], ['git', 'status'], ['cat', 'README.md'], ['npm', 'test'], ['rm', '-rf', 'x'], ['git', 'push', '--force']];
  // scripts hide in shells, wrappers, find actions and git aliases: each must ask for the grammar
  const scripts = [['bash', '-lc', 'ls | wc -l'], ['bash', '-lc', 'X=1 ls'], ['bash', '-lc', "ls 'a b'"], ['find', '.', '-exec', 'sh', '-c', 'x; y', ';'], ['env', 'sh', '-c', 'rm -rf "$HOME"'], ['timeout', '5', 'bash', '-c', 'ls > x'], ['git', '-c', 'alias.x=!rm -rf $HOME', 'x'], ['ssh', 'host', 'rm', '-rf', '$HOME']];
  const commands = [...plain, ...scripts, ...conformance, ...CORPUS, ...BENIGN];
  const without = verdictsOf(commands, false);
  const withGrammar = verdictsOf(commands, true);
  const configs = without.length / commands.length;
  assert.equal(withGrammar.length, without.length);
  let answered = 0;
  without.forEach((got, i) => {
    const argv = commands[Math.floor(i / configs)];
    assert.equal(withGrammar[i]!.threw, undefined, `${JSON.stringify(argv)} threw with the grammar loaded`);
    if (got.threw !== undefined) {
      assert.equal(got.threw, 'ShellGrammarNotLoadedError', JSON.stringify(argv));
      return;
    }
    answered += 1;
    assert.deepEqual(got.verdict, withGrammar[i]!.verdict, `${JSON.stringify(argv)}: the verdict differs with the grammar loaded`);
  });
  const answeredWithout = (argv: string[]) => without.slice(commands.indexOf(argv) * configs, (commands.indexOf(argv) + 1) * configs).every((v) => v.threw === undefined);
  for (const argv of plain) assert.ok(answeredWithout(argv), `${JSON.stringify(argv)} should not need the grammar`);
  for (const argv of scripts) assert.ok(!answeredWithout(argv), `${JSON.stringify(argv)} reads a script: it must need the grammar`);
  assert.ok(answered > 0);
});

test('the parsers throw before the grammar is loaded, but for plain words', () => {
  const r = spawnSync(process.execPath, [...process.execArgv, '-e', "import('./src/safety/shellParse.ts').then((m) => { try { m.parseWordOnlyScript('ls | wc') } catch (e) { console.log(e.name, e.message) } })"], { encoding: 'utf8' });
  assert.match(r.stdout, /ShellGrammarNotLoadedError .*await loadShellGrammar\(\)/, r.stderr);
});

test('loadShellGrammar is idempotent and concurrent-safe', async () => {
  await Promise.all([loadShellGrammar(), loadShellGrammar()]);
  await loadShellGrammar();
  assert.deepEqual(parseWordOnlyScript('ls'), [['ls']]);
});

const ACCEPTED: Array<[string, string[][]]> = [
  ['ls -la', [['ls', '-la']]],
  ['ls && pwd || true; echo x | wc -l', [['ls'], ['pwd'], ['true'], ['echo', 'x'], ['wc', '-l']]],
  ['ls\npwd', [['ls'], ['pwd']]],
  ['echo "a\nb"', [['echo', 'a\nb']]],
  ["echo 'a b'\"c\"d", [['echo', 'a bcd']]],
  ['echo ""', [['echo', '']]],
  ['ls \\\n-l', [['ls', '-l']]],
];
const REFUSED = [
  'ls > x', 'ls 2>&1', 'ls < x', 'cat <<EOF\nx\nEOF', 'cat <<< x', 'echo $(id)', 'echo `id`', 'echo $X', 'echo ${X}',
  'echo "$X"', 'echo $((1+1))', "echo $'\\x41'", 'echo $"x"', 'FOO=1 ls', '(ls)', '{ ls; }', 'ls &', 'ls |& wc',
  '! ls', 'if true; then ls; fi', 'for i in a; do ls; done', 'f() { ls; }', 'ls # c', 'ls && ', '', '   ',
  "'ls'", '"ls" -l', 'l\\s', 'echo a\\ b', 'echo "a\\"b"', 'ls *\\*', 'echo <(ls)', 'declare x=1', 'export X=1',
  '[[ -f x ]]', 'ls;;', 'ls\0rm', 'ls ~/*', 'l* x',
];

test('accepts plain words joined by && || ; | and newlines', async () => {
  await loadShellGrammar();
  for (const [script, expected] of ACCEPTED) assert.deepEqual(parseWordOnlyScript(script), expected, JSON.stringify(script));
});

test('refuses everything else', async () => {
  await loadShellGrammar();
  for (const script of REFUSED) {
    const parsed = parseWordOnlyScript(script);
    // `ls ~/*` parses but is flagged as expanding; a glob in the name is refused
    if (script === 'ls ~/*') {
      assert.deepEqual(parseWordOnlyScriptDetailed(script)?.expands, [true]);
      continue;
    }
    assert.equal(parsed, null, JSON.stringify(script));
  }
});

test('a 1 MiB script is refused quickly', async () => {
  await loadShellGrammar();
  const big = `echo ${'a'.repeat(1024 * 1024)}`;
  const t0 = performance.now();
  assert.equal(parseWordOnlyScript(big), null);
  assert.ok(performance.now() - t0 < 50);
});

test('shellScriptOf: exactly [bash|zsh|sh, -lc|-c, script], any directory', () => {
  assert.deepEqual(shellScriptOf(['bash', '-lc', 'ls']), { shell: 'bash', script: 'ls' });
  assert.deepEqual(shellScriptOf(['/bin/sh', '-c', 'ls']), { shell: '/bin/sh', script: 'ls' });
  assert.equal(shellScriptOf(['bash', '-lc', 'ls', 'x']), null);
  assert.equal(shellScriptOf(['bash', '-x', 'ls']), null);
  assert.equal(shellScriptOf(['dash', '-c', 'ls']), null);
});

test('deep scan finds commands inside substitutions, redirections and broken scripts', async () => {
  await loadShellGrammar();
  const found = deepScanScript('echo $(git reset --hard) > /dev/null; FOO=1 r\\m -rf x 2>&1; if true; then rm -f y; fi');
  assert.ok(found.some((w) => w.join(' ') === 'git reset --hard'), JSON.stringify(found));
  assert.ok(found.some((w) => w[0] === 'rm' && w[1] === '-rf'), JSON.stringify(found));
  assert.ok(found.some((w) => w.join(' ') === 'rm -f y'), JSON.stringify(found));
  assert.ok(deepScanScript('ls && (rm -rf /').some((w) => w[0] === 'rm'));
});
