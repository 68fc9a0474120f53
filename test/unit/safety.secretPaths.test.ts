/**
 * Red-team findings (scripts/attack): reads of credentials that were known-safe, so ran without a
 * sandbox under danger-full-access. One named test per row of secretPaths.cases.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SECRET_PATH_CASES } from '../../src/safety/programs/secretPaths.cases.ts';
import { secretIn, broadSearchRoot } from '../../src/safety/programs/secretPaths.ts';
import { DEFAULT_HIDDEN_IN_HOME } from '../../src/sandbox/hiddenPaths.ts';
import { checkKnownSafe } from '../../src/safety/knownSafe.ts';
import { loadShellGrammar } from '../../src/safety/shellParse.ts';

await loadShellGrammar();

describe('secret paths: known-safe reads that would run bare', () => {
  for (const c of SECRET_PATH_CASES) {
    test(`${JSON.stringify(c.argv)}${c.cwd === undefined ? '' : ` in ${c.cwd}`}: ${c.why}`, () => {
      const v = checkKnownSafe(c.argv, { platform: 'linux', ...(c.cwd === undefined ? {} : { cwd: c.cwd }) });
      assert.equal(v.safe, c.safe, v.safe ? 'known-safe' : `not known-safe: ${'why' in v ? String(v.why) : ''}`);
    });
  }
});

describe('secretIn and broadSearchRoot', () => {
  test('segment sequences match anywhere and globs respect the leading dot', () => {
    assert.equal(secretIn('-f~/.ssh/x'), '.ssh');
    assert.equal(secretIn('/home/u/.config/gh'), '.config/gh');
    assert.equal(secretIn('src/*.ts'), null);
    assert.notEqual(secretIn('~/.s*'), null, '.s* could match .ssh');
    assert.equal(secretIn('~/*.md'), null, '*.md matches no secret name, and * never a dotfile');
    assert.notEqual(secretIn('keys/*'), null, '* could match id_rsa');
    assert.equal(secretIn('/dev/null'), null);
  });
  test('roots that hold credentials', () => {
    for (const w of ['/', '~', '/home/u', '/root', '..', '../..', 'src/../..']) assert.equal(broadSearchRoot(w), true, w);
    for (const w of ['src', './src', '/home/u/proj/src', '-n']) assert.equal(broadSearchRoot(w), false, w);
  });
});

test('every path the sandbox hides by default is a secret to the classifier too (the two lists are kept in step)', () => {
  const missing = DEFAULT_HIDDEN_IN_HOME.filter((rel) => secretIn(`/home/u/${rel}`) === null);
  assert.deepEqual(missing, []);
});
