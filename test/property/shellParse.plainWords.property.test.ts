/**
 * The plain-words reading (shellParse.ts plainWordsAnalysis) answers without the grammar for the
 * scripts agents send most (`git status`), so it must be the grammar's reading exactly: on every
 * generated script it accepts, its commands, expansion flags and deep-scan words equal what the
 * grammar's query and its full walk give; and what it refuses it leaves to the grammar.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadShellGrammar, parseWordOnlyScriptByPlainWords, parseWordOnlyScriptByQuery, parseWordOnlyScriptByWalk } from '../../src/safety/shellParse.ts';

await loadShellGrammar();

const CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:@+,'];
// words with a shape of their own in bash: reserved words, assignments, options, numbers, paths
const SPECIAL = ['if', 'then', 'fi', 'for', 'in', 'do', 'done', 'case', 'esac', 'time', 'coproc', 'function', 'select', 'while', 'until', 'elif', 'else',
  'declare', 'typeset', 'export', 'local', 'readonly', 'unset', 'unsetenv', 'let', 'eval', 'exec', 'test', 'command', 'builtin', 'X=1', 'a=', '=', '==', '-', '--', '-c', '--x=y', '.', '..', ':', '@', '+', ',', '0', '007', '1e3', '0x1f', '/usr/bin/git', 'git', 'status', 'ls', '-la', 'a:b', 'x@y', '+x', ',,', 'a,b', '2', '1:2'];
const word = fc.oneof(fc.constantFrom(...SPECIAL), fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 8 }).map((cs) => cs.join('')));
const blanks = fc.integer({ min: 1, max: 3 }).map((n) => ' '.repeat(n));
const script = fc
  .tuple(fc.array(fc.tuple(word, blanks), { minLength: 1, maxLength: 6 }), fc.boolean(), fc.boolean())
  .map(([parts, lead, trail]) => `${lead ? ' ' : ''}${parts.map(([w, b], i) => (i === parts.length - 1 ? w : w + b)).join('')}${trail ? ' ' : ''}`);

test('every script the plain-words reading accepts reads the same with the grammar (query and walk)', () => {
  let accepted = 0;
  fc.assert(
    fc.property(script, (s) => {
      const plain = parseWordOnlyScriptByPlainWords(s);
      if (plain === null) return;
      accepted += 1;
      assert.deepEqual(plain, parseWordOnlyScriptByQuery(s), `query: ${JSON.stringify(s)}`);
      assert.deepEqual(plain, parseWordOnlyScriptByWalk(s), `walk: ${JSON.stringify(s)}`);
    }),
    { numRuns: 20000 },
  );
  assert.ok(accepted > 2500, `only ${accepted} generated scripts were plain words`);
});

test('anything beyond plain words is left to the grammar', () => {
  for (const s of ['X=1 ls', 'if true', 'time ls', 'ls; rm x', 'ls\trm', 'ls\nrm', "ls 'a b'", 'ls "a"', 'ls $x', 'ls ~', 'ls *', 'ls a?', 'ls [a]', 'ls {a,b}', 'ls # c', '! ls', '%1', 'ls \\x', 'ls > x', 'ls | x', 'ls & x', '(ls)', 'ls `x`', '', '   ', 'ls\u00a0x', 'ls\rx']) {
    assert.equal(parseWordOnlyScriptByPlainWords(s), null, JSON.stringify(s));
  }
});
