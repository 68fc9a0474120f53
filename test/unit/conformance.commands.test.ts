/**
 * Every vector in ../shared/conformance/commands.jsonl (taken from the Codex CLI's tests) must hold:
 * known_safe exactly, the parsed word-only commands exactly, and dangerous exactly except for the
 * listed deviations where warden is deliberately stricter (dangerous where Codex says not).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadShellGrammar, parseWordOnlyScript, shellScriptOf } from '../../src/safety/shellParse.ts';
import { isDangerousCommand, isKnownSafeCommand } from '../../src/safety/classifyExec.ts';

interface Vector {
  id: string;
  command: string[];
  known_safe: boolean;
  dangerous: boolean;
  platform?: 'linux' | 'windows';
  parsed?: string[][] | null;
  note?: string;
}

const file = fileURLToPath(new URL('../../../shared/conformance/commands.jsonl', import.meta.url));
const vectors: Vector[] = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Vector);

/** Vectors where warden says dangerous=true and Codex false, each on purpose. */
const STRICTER_DANGEROUS: Record<string, string> = {
  // `rm -rf /` inside a word-only script: Codex's own rule flags rm -rf; the vector only records
  // that the test did not assert it. warden checks every sub-command.
  'codex-062': 'ls && rm -rf / : rm -rf in a sub-command',
  // the command substitution still runs git reset --hard; warden scans inside substitutions
  'codex-122': 'python3 <<< "$(rm -rf /)": rm -rf inside a substitution',
  // rm with recursive and force flags in any order or position (DESIGN.md)
  'codex-169': 'rm -r -f x: split flags',
  'codex-170': 'rm x -rf: flags after the operand',
  'codex-177': 'echo $(git reset --hard): reset inside a substitution',
};

/** Vectors where warden says known_safe=false and Codex true, each on purpose (issue #12). */
const STRICTER_SAFE: Record<string, string> = {
  // GNU grep has no -g option: every word must be in grep's option table, an unknown one is not known-safe
  'codex-114': "grep -n 'pattern' -g'*.txt': -g is not a grep option",
  // an explicit --git-dir skips repository discovery and the ownership check, and can name any
  // repository, whose config runs programs (core.fsmonitor, core.pager ...)
  'codex-151': 'git --git-dir=.git log: explicit git dir',
};

test('the conformance file is present and non-trivial', () => {
  assert.ok(vectors.length >= 170, `only ${vectors.length} vectors`);
});

test('every conformance vector holds (Windows rows skipped on this platform)', async (t) => {
  await loadShellGrammar();
  const onWindows = process.platform === 'win32';
  let skipped = 0;
  let checked = 0;
  for (const v of vectors) {
    if (v.platform === 'windows' && !onWindows) {
      skipped += 1;
      continue;
    }
    if (v.platform === 'linux' && process.platform !== 'linux') {
      skipped += 1;
      continue;
    }
    checked += 1;
    const expectedSafe = v.id in STRICTER_SAFE ? false : v.known_safe;
    assert.equal(isKnownSafeCommand(v.command), expectedSafe, `${v.id} known_safe ${JSON.stringify(v.command)}`);
    const expectedDangerous = v.id in STRICTER_DANGEROUS ? true : v.dangerous;
    assert.equal(isDangerousCommand(v.command), expectedDangerous, `${v.id} dangerous ${JSON.stringify(v.command)}`);
    if (v.parsed !== undefined) {
      const shell = shellScriptOf(v.command);
      assert.ok(shell, `${v.id} is a shell form`);
      assert.deepEqual(parseWordOnlyScript(shell.script), v.parsed, `${v.id} parsed`);
    }
  }
  t.diagnostic(`checked ${checked} vectors, skipped ${skipped} (platform)`);
  assert.equal(skipped, vectors.filter((v) => v.platform === 'windows').length);
});

test('each listed known-safe deviation really is a vector where Codex says known-safe', () => {
  for (const id of Object.keys(STRICTER_SAFE)) {
    const v = vectors.find((x) => x.id === id);
    assert.ok(v, id);
    assert.equal(v.known_safe, true, id);
  }
});

test('each listed deviation really is a vector where Codex says not dangerous', () => {
  for (const id of Object.keys(STRICTER_DANGEROUS)) {
    const v = vectors.find((x) => x.id === id);
    assert.ok(v, id);
    assert.equal(v.dangerous, false, id);
  }
});
