/**
 * The hand-written attack corpus (attacks.corpus.ts, issue #12) through the real `warden classify`:
 * under `--approval untrusted` a command is auto-approved only when it is known-safe or a rule
 * allows it, so every row must come out not known-safe and not auto-approved, with a rules file of
 * the allow rules people commonly write in force (a rule must not cover a word that runs or
 * writes). Rows that destroy work must also be flagged dangerous, and "always allow" must never
 * propose a bare program or a rule for a dangerous command. Secrets: known-safe reads of them may
 * run, but never bare. Real CLI, one process, JSON lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { warden } from '../support/cli.ts';
import { type Attack, BASE, RULE_ABUSE, expandCorpus } from './attacks.corpus.ts';

/** Allow rules as people write them (bare-program rules too, as an old "always allow" stored). */
const RULES = `
[[rule]]
pattern = ["npm", ["test", "run"]]
decision = "allow"
justification = "tests"
any_options = true

[[rule]]
pattern = ["git", ["fetch", "push", "log"]]
decision = "allow"
justification = "sync"

[[rule]]
pattern = ["cargo", "build"]
decision = "allow"
justification = "builds"
any_options = true

[[rule]]
pattern = ["go", "test"]
decision = "allow"
justification = "tests"
any_options = true

[[rule]]
pattern = ["make", "test"]
decision = "allow"
justification = "tests"
any_options = true

[[rule]]
pattern = ["pytest"]
decision = "allow"
justification = "tests"
any_options = true

[[rule]]
pattern = ["docker", "ps"]
decision = "allow"
justification = "list containers"
any_options = true

[[rule]]
pattern = [["find", "sed", "rg", "sort"]]
decision = "allow"
justification = "an old always-allow of a bare program"

[[rule]]
pattern = ["git", "log"]
decision = "allow"
justification = "any log format"
options = ["--format", "--pretty", "--diff-merges", "--help"]
`;

interface Line {
  known_safe: boolean;
  dangerous: boolean;
  outcome: string;
  sandbox: string;
  reason: string;
  proposed_rule: string[] | null;
}

function classifyAll(rows: readonly Attack[], args: string[], rules: string | null): Line[] {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-attacks-')));
  const rulesPath = join(dir, 'rules.toml');
  writeFileSync(rulesPath, rules ?? '');
  const input = rows.map((r) => JSON.stringify({ command: r.argv, cwd: dir })).join('\n') + '\n';
  const out = warden(['classify', ...args, '--rules', rulesPath], { input, cwd: dir, env: { XDG_CONFIG_HOME: dir } });
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
  assert.equal(lines.length, rows.length);
  return lines;
}

test('the attack corpus is large and covers every class', () => {
  const all = [...expandCorpus(), ...RULE_ABUSE];
  assert.ok(all.length >= 300, `only ${all.length} argv`);
  const classes = new Set(BASE.map((x) => x.cls));
  for (const c of ['git-global-value', 'git-other-repo', 'git-help', 'env-split', 'shell-options', 'control-chars', 'find', 'rg', 'sed', 'sort', 'file', 'unknown-option', 'shell-syntax']) {
    assert.ok(classes.has(c), c);
  }
});

test('no attack is auto-approved under untrusted, with common allow rules in force', () => {
  const rows = [...expandCorpus(), ...RULE_ABUSE];
  const lines = classifyAll(rows, ['--approval', 'untrusted', '--sandbox', 'workspace-write'], RULES);
  const approved: string[] = [];
  const missedDanger: string[] = [];
  const badProposal: string[] = [];
  rows.forEach((row, i) => {
    const v = lines[i]!;
    const label = `[${row.cls}] ${JSON.stringify(row.argv)}: ${v.reason}`;
    if (v.known_safe || v.outcome === 'auto-approve') approved.push(label);
    if (row.dangerous && !v.dangerous) missedDanger.push(label);
    if (v.proposed_rule !== null && (v.proposed_rule.length < 2 || v.dangerous)) badProposal.push(`${label} -> ${JSON.stringify(v.proposed_rule)}`);
  });
  assert.deepEqual(approved, [], `${approved.length} of ${rows.length} attacks auto-approved`);
  assert.deepEqual(missedDanger, [], `${missedDanger.length} destructive attacks not flagged dangerous`);
  assert.deepEqual(badProposal, [], 'always-allow proposals');
});

test('under never, the same corpus is rejected or sandboxed, and a rule never carries an attack', () => {
  const rows = [...expandCorpus(), ...RULE_ABUSE];
  const lines = classifyAll(rows, ['--approval', 'never', '--sandbox', 'danger-full-access'], RULES);
  const bare: string[] = [];
  rows.forEach((row, i) => {
    const v = lines[i]!;
    // danger-full-access + never auto-runs what is not dangerous (the person chose that); what must
    // hold is that no rule and no known-safe verdict is the reason, and nothing dangerous runs
    if (v.outcome === 'auto-approve' && (v.known_safe || v.dangerous || /^allowed by rule/.test(v.reason))) bare.push(`[${row.cls}] ${JSON.stringify(row.argv)}: ${v.reason}`);
  });
  assert.deepEqual(bare, []);
});

test('known-safe reads of secrets are never planned bare', () => {
  const home = process.env.HOME ?? '/root';
  const rows: Attack[] = [
    ['cat', '/etc/shadow'],
    ['cat', `${home}/.ssh/id_rsa`],
    ['head', '-c', '100', `${home}/.aws/credentials`],
    ['grep', '-r', 'token', `${home}/.config/gh`],
    ['bash', '-lc', 'cat ~/.ssh/id_ed25519'],
    ['base64', `${home}/.netrc`],
  ].map((argv) => ({ argv, cls: 'secret-read' }));
  for (const sandbox of ['read-only', 'danger-full-access']) {
    const lines = classifyAll(rows, ['--approval', 'untrusted', '--sandbox', sandbox], null);
    rows.forEach((row, i) => {
      const v = lines[i]!;
      if (v.outcome === 'auto-approve') assert.notEqual(v.sandbox, 'none', `${sandbox}: ${JSON.stringify(row.argv)} auto-approved bare`);
    });
  }
});
