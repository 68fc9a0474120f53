/**
 * Keys as the terminal prompt reads them: one read may hold several keys (tmux sends two Down
 * presses in one write, a paste sends a word), and an arrow key is one escape sequence, not an Esc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyToDecision, splitKeys } from '../../src/cli/ttyChannel.ts';
import { choiceLines } from '../../src/present/terminal.ts';
import { makeStyle } from '../../src/present/ansi.ts';

test('one read splits into whole keys: CSI and SS3 sequences, CRLF, characters', () => {
  assert.deepEqual(splitKeys('\x1b[B\x1b[B'), ['\x1b[B', '\x1b[B']);
  assert.deepEqual(splitKeys('\x1bOA'), ['\x1bOA']);
  assert.deepEqual(splitKeys('\x1b[1;5B'), ['\x1b[1;5B']);
  assert.deepEqual(splitKeys('yes\r\n'), ['y', 'e', 's', '\r\n']);
  assert.deepEqual(splitKeys('\x1b'), ['\x1b']);
  assert.deepEqual(splitKeys('é✔'), ['é', '✔']);
});

test('only a read of exactly one key can decide: an arrow sequence is never Esc (abort)', () => {
  const offered = ['approved', 'denied', 'abort'] as const;
  assert.equal(keyToDecision('\x1b', [...offered]), 'abort');
  assert.equal(keyToDecision('\x1b[B', [...offered]), null);
  assert.equal(keyToDecision('yes', [...offered]), null);
  assert.equal(keyToDecision('y', [...offered]), 'approved');
});

test('a long choice wraps under itself at a word, within the width', () => {
  const q = { choices: [{ key: 'A', decision: 'approved_always', label: 'Yes, and always allow exactly `touch /a/long/path/x` (writes the rule to /home/someone/.config/warden/rules.toml)' }] };
  const lines = choiceLines(q as never, makeStyle(false), null, 60);
  assert.ok(lines.length >= 2, lines.join('\n'));
  for (const l of lines) assert.ok(l.length <= 60, `${l.length}: ${l}`);
  assert.match(lines[1]!, /^ {7}\S/);
});
