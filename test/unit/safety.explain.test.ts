/** `warden explain`: the report names the deciding word, the rule that declined and what always-allow would store. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainExec, formatExplain } from '../../src/safety/explain.ts';
import { EMPTY_RULE_SET } from '../../src/safety/ruleMatch.ts';
import { parseRules } from '../../src/safety/ruleParse.ts';
import { loadShellGrammar } from '../../src/safety/shellParse.ts';
import { warden } from '../support/cli.ts';
import { systemPrograms } from '../support/programs.ts';

await loadShellGrammar();

const input = (command: string[]) => ({
  command,
  cwd: '/w',
  withEscalatedPermissions: false,
  policy: { approval: 'untrusted' as const, sandbox: 'workspace-write' as const, writableRoots: [], network: false, tmpWrite: true },
  platformSandbox: 'bwrap' as const,
  approvedForSession: false,
  programs: systemPrograms,
});

test('the deciding word and its reason, per sub-command', () => {
  const r = explainExec(input(['bash', '-lc', 'ls src && sort -o out in']), EMPTY_RULE_SET);
  assert.equal(r.subCommands.length, 2);
  assert.equal(r.subCommands[0]!.knownSafe, true);
  assert.equal(r.subCommands[1]!.decidingWord, '-o');
  assert.match(r.subCommands[1]!.why!, /`sort -o` writes a file/);
  assert.match(r.classification.reason, /`sort -o` writes a file/);
  assert.match(formatExplain(r), /"-o": writes: writes a file/);
});

test('which rule matched, which declined and why, and what always-allow would store', () => {
  const rules = parseRules('[[rule]]\npattern = ["npm", "test"]\ndecision = "allow"\njustification = "tests"\n', 'r.toml');
  const declined = explainExec(input(['npm', 'test', '--script-shell=./evil.sh']), rules);
  assert.equal(declined.classification.outcome, 'ask');
  assert.deepEqual(declined.subCommands[0]!.rules.map((x) => x.covers), [false]);
  assert.equal(declined.alwaysAllow, null);
  const allowed = explainExec(input(['npm', 'test', 'unit']), rules);
  assert.equal(allowed.classification.decisionSource, 'rule');
  assert.match(allowed.classification.reason, /runs inside the workspace-write sandbox/);
  const plain = explainExec(input(['cargo', 'build', '--release']), EMPTY_RULE_SET);
  assert.deepEqual(plain.alwaysAllow, ['cargo', 'build', '--release']);
});

test('warden explain prints the report; --json is machine-readable', () => {
  const r = warden(['explain', '--json', '--approval', 'untrusted', '--', 'git', '--shallow-file', 'x', 'status']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { subCommands: Array<{ decidingWord: string }>; classification: { outcome: string } };
  assert.equal(report.subCommands[0]!.decidingWord, '--shallow-file');
  assert.equal(report.classification.outcome, 'ask');
  const text = warden(['explain', '--', 'ls', '-la']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /verdict: auto-approve by policy/);
  assert.match(text.stdout, /always allow would store: nothing/);
});
