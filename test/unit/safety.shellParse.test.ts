/** The word-only parser: what it accepts, what it refuses, and that it refuses to run uninitialised. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  deepScanScript,
  loadShellGrammar,
  parseWordOnlyScript,
  parseWordOnlyScriptDetailed,
  shellScriptOf,
} from '../../src/safety/shellParse.ts';

test('before the grammar is loaded every classification throws instead of guessing', () => {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "Promise.all([import('./src/safety/shellParse.ts'), import('./src/safety/classifyExec.ts'), import('./src/safety/ruleMatch.ts')]).then(([m, c, r]) => { " +
        "const input = (command) => ({ command, cwd: '/', withEscalatedPermissions: false, approvedForSession: false, platformSandbox: 'bwrap', " +
        "policy: { approval: 'on-request', sandbox: 'read-only', writableRoots: [], network: false, tmpWrite: false } }); " +
        "for (const argv of [['ls'], ['bash', '-lc', 'ls'], ['find', '.', '-exec', 'sh', '-c', 'x', ';']]) { " +
        "try { c.classifyExec(input(argv), r.EMPTY_RULE_SET); console.log('verdict'); } catch (e) { console.log(e.name); } } " +
        "try { m.parseWordOnlyScript('ls') } catch (e) { console.log(e.message) } })",
    ],
    { encoding: 'utf8' },
  );
  assert.match(r.stdout, /await loadShellGrammar\(\)/);
  // a plain argv too: the verdict must not depend on whether an earlier request loaded the grammar
  assert.equal(r.stdout.split('\n').filter((l) => l === 'ShellGrammarNotLoadedError').length, 3, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /verdict/);
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
