/** `warden classify` end to end: a real `node bin/warden.js classify` process, JSON lines both ways. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function run(lines: string[], args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const home = mkdtempSync(join(tmpdir(), 'warden-cls-home-'));
  const r = spawnSync(process.execPath, ['bin/warden.js', 'classify', ...args], {
    input: lines.join('\n') + '\n',
    encoding: 'utf8',
    env: { ...process.env, XDG_CONFIG_HOME: home, ...env },
    timeout: 60_000,
  });
  const out = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: r.status, out, stderr: r.stderr };
}

test('one verdict line per input line, in order; bad lines get {error} and the run continues', () => {
  const { status, out, stderr } = run([
    JSON.stringify({ command: ['ls', '-la'] }),
    'not json',
    JSON.stringify({ command: ['bash', '-lc', 'git status && rm -rf /'] }),
    JSON.stringify({ cmd: ['ls'] }),
    JSON.stringify({ command: ['cargo', 'build'], cwd: '/tmp', with_escalated_permissions: true }),
    JSON.stringify({ command: ['bash', '-lc', 'echo $(id)'] }),
  ]);
  assert.equal(status, 0, stderr);
  assert.equal(out.length, 6);
  assert.deepEqual(Object.keys(out[0]!).sort(), ['commands', 'dangerous', 'decision_source', 'known_safe', 'outcome', 'proposed_rule', 'reason', 'sandbox']);
  assert.equal(out[0]!.known_safe, true);
  assert.equal(out[0]!.outcome, 'auto-approve');
  assert.deepEqual(out[0]!.commands, [['ls', '-la']]);
  assert.match(String(out[1]!.error), /not valid JSON/);
  assert.equal(out[2]!.dangerous, true);
  assert.equal(out[2]!.outcome, 'ask');
  assert.deepEqual(out[2]!.commands, [['git', 'status'], ['rm', '-rf', '/']]);
  assert.match(String(out[3]!.error), /command/);
  assert.equal(out[4]!.outcome, 'ask');
  assert.equal(out[5]!.commands, null);
  assert.equal(out[5]!.known_safe, false);
});

test('--approval never and danger-full-access are honoured', () => {
  const never = run([JSON.stringify({ command: ['rm', '-rf', 'x'] })], ['--approval', 'never']);
  assert.equal(never.out[0]!.outcome, 'reject');
  const full = run([JSON.stringify({ command: ['cargo', 'build'] })], ['--sandbox', 'danger-full-access']);
  assert.equal(full.out[0]!.outcome, 'auto-approve');
  assert.equal(full.out[0]!.sandbox, 'none');
  const untrusted = run([JSON.stringify({ command: ['cargo', 'build'] })], ['--approval', 'untrusted']);
  assert.equal(untrusted.out[0]!.outcome, 'ask');
});

test('--rules applies user rules; a missing explicit rules file is an error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cls-'));
  const rules = join(dir, 'rules.toml');
  writeFileSync(rules, '[[rule]]\npattern = ["cargo"]\ndecision = "forbidden"\njustification = "no cargo here"\n');
  const r = run([JSON.stringify({ command: ['cargo', 'build'] })], ['--rules', rules]);
  assert.equal(r.out[0]!.outcome, 'reject');
  assert.match(String(r.out[0]!.reason), /no cargo here/);
  const missing = run([JSON.stringify({ command: ['ls'] })], ['--rules', join(dir, 'nope.toml')]);
  assert.notEqual(missing.status, 0);
  assert.equal(missing.out.length, 0);
  assert.match(missing.stderr, /cannot read rules file/);
  // the default file under $XDG_CONFIG_HOME is read when present
  const xdg = mkdtempSync(join(tmpdir(), 'warden-xdg-'));
  mkdirSync(join(xdg, 'warden'));
  writeFileSync(join(xdg, 'warden', 'rules.toml'), '[[rule]]\npattern = ["ls"]\ndecision = "prompt"\njustification = "ask for ls"\n');
  const viaDefault = run([JSON.stringify({ command: ['ls'] })], [], { XDG_CONFIG_HOME: xdg });
  assert.equal(viaDefault.out[0]!.outcome, 'ask');
});
