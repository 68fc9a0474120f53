/**
 * The rules file's network part: the `[network]` table (allow, deny, approved), per-rule `domains`,
 * what they add to a command's run, and the "always" answer to a domain question written into the
 * table (atomic, idempotent, never over a file that does not validate).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendAllowRule, appendApprovedDomains, createRuleBook } from '../../src/safety/ruleFile.ts';
import { networkForCommand } from '../../src/safety/ruleMatch.ts';
import { parseRules } from '../../src/safety/ruleParse.ts';
import { ConfigError } from '../../src/errors.ts';

const rule = (pattern: string[], decision: string, extra = '') =>
  `[[rule]]\npattern = ${JSON.stringify(pattern)}\ndecision = "${decision}"\njustification = "j"\n${extra}\n`;

test('a [network] table is read and checked like the flags', () => {
  const rs = parseRules('[network]\nallow = ["Registry.npmjs.org", "*.pythonhosted.org"]\ndeny = ["evil.test"]\napproved = ["pypi.org."]\n', 'f');
  assert.deepEqual(rs.network, { allow: ['registry.npmjs.org', '*.pythonhosted.org'], deny: ['evil.test'], approved: ['pypi.org'] });
  assert.deepEqual(parseRules('[network]\n', 'f').network, { allow: [], deny: [], approved: [] }, 'an empty table is a table (the proxy goes on)');
  assert.equal(parseRules(rule(['ls'], 'allow'), 'f').network, undefined);
});

// [text, error, why the row exists]
const bad: Array<[string, RegExp, string]> = [
  ['[network]\nallow = ["*.com"]\n', /\[network\] allow: wildcard too broad/, 'a whole top-level domain'],
  ['[network]\ndeny = ["a b"]\n', /\[network\] deny: not a domain/, 'not a name'],
  ['[network]\napproved = ["*.npmjs.org"]\n', /approved: an exact domain name/, 'an approval is exact: a wildcard would open more than was asked'],
  ['[network]\napproved = ["10.0.0.1"]\n', /approved: an exact domain name/, 'an address is never approved'],
  ['[network]\nallowed = ["x.test"]\n', /\[network\]/, 'an unknown key (a typo must not silently allow nothing)'],
  ['[network]\nallow = "x.test"\n', /\[network\]/, 'a string, not a list'],
  [rule(['curl'], 'forbidden', 'domains = ["x.test"]'), /domains belong to allow and prompt rules only/, 'a forbidden command never runs'],
  [rule(['npm', 'install'], 'allow', 'domains = ["*.org"]'), /domains: wildcard too broad/, 'per-rule domains are checked too'],
  ['[networks]\n', /only \[\[rule\]\] tables and a \[network\] table/, 'another top-level table'],
];

for (const [text, error, why] of bad) {
  test(`refused at load: ${why}`, () => {
    assert.throws(() => parseRules(text, 'f'), (e: unknown) => e instanceof ConfigError && error.test(e.message));
  });
}

test("networkForCommand: the table, plus the domains of every allow or prompt rule matching the command's argv", () => {
  const rs = parseRules(
    `[network]\nallow = ["pypi.org"]\ndeny = ["evil.test"]\n\n` +
      rule(['npm', 'install'], 'allow', 'domains = ["registry.npmjs.org"]') +
      rule(['cargo'], 'prompt', 'domains = ["crates.io", "static.crates.io"]') +
      rule(['npm'], 'allow'),
    'f',
  );
  assert.deepEqual(networkForCommand(rs, ['npm', 'install', 'left-pad']), { allow: ['pypi.org', 'registry.npmjs.org'], deny: ['evil.test'], approved: [] });
  assert.deepEqual(networkForCommand(rs, ['cargo', 'build']), { allow: ['pypi.org', 'crates.io', 'static.crates.io'], deny: ['evil.test'], approved: [] });
  assert.deepEqual(networkForCommand(rs, ['ls']), { allow: ['pypi.org'], deny: ['evil.test'], approved: [] });
  // an allow rule that does not cover the argv (an option it does not list) gives no domains
  assert.deepEqual(networkForCommand(rs, ['npm', 'install', '--prefix', '/tmp/x'])?.allow, ['pypi.org']);
  // no table, no matching rule: nothing (no proxy)
  const plain = parseRules(rule(['npm', 'install'], 'allow', 'domains = ["registry.npmjs.org"]'), 'f');
  assert.equal(networkForCommand(plain, ['ls']), undefined);
  assert.deepEqual(networkForCommand(plain, ['npm', 'install']), { allow: ['registry.npmjs.org'], deny: [], approved: [] });
});

function tempRules(text?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-rules-net-'));
  const path = join(dir, 'rules.toml');
  if (text !== undefined) writeFileSync(path, text);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('"always" on a domain question: a new file gets a [network] table; again is a no-op; more names join the list', () => {
  const f = tempRules();
  try {
    assert.deepEqual(appendApprovedDomains(f.path, ['registry.test']).network?.approved, ['registry.test']);
    const once = readFileSync(f.path, 'utf8');
    assert.match(once, /^\[network\]\n# approved always by the user on .*: registry\.test\napproved = \["registry\.test"\]\n$/);
    appendApprovedDomains(f.path, ['REGISTRY.test']);
    assert.equal(readFileSync(f.path, 'utf8'), once, 'already there: the file is not touched');
    assert.deepEqual(appendApprovedDomains(f.path, ['pypi.org', 'registry.test']).network?.approved, ['registry.test', 'pypi.org']);
    // and a command rule appended afterwards lands after the table, still one valid file
    appendAllowRule(f.path, ['cargo', 'build']);
    const rs = parseRules(readFileSync(f.path, 'utf8'), f.path);
    assert.deepEqual(rs.network?.approved, ['registry.test', 'pypi.org']);
    assert.equal(rs.rules.length, 1);
  } finally {
    f.cleanup();
  }
});

test('"always" into an existing table keeps everything else, comments included', () => {
  const text = `# my rules\n${rule(['ls'], 'allow')}\n[network] # mine\nallow = ["pypi.org"] # the index\n\n${rule(['cat'], 'allow')}`;
  const f = tempRules(text);
  try {
    appendApprovedDomains(f.path, ['registry.test']);
    const after = readFileSync(f.path, 'utf8');
    assert.ok(after.includes('# my rules') && after.includes('allow = ["pypi.org"] # the index'));
    const rs = parseRules(after, f.path);
    assert.deepEqual(rs.network, { allow: ['pypi.org'], deny: [], approved: ['registry.test'] });
    assert.equal(rs.rules.length, 2, 'the rule after the table is still a rule, not part of it');
    appendApprovedDomains(f.path, ['other.test']);
    assert.deepEqual(parseRules(readFileSync(f.path, 'utf8'), f.path).network?.approved, ['registry.test', 'other.test']);
  } finally {
    f.cleanup();
  }
});

test('never written: a wildcard or an address, or over a file that does not validate', () => {
  const f = tempRules('[network]\nallow = ["*.com"]\n');
  try {
    assert.throws(() => appendApprovedDomains(f.path, ['registry.test']), ConfigError);
    assert.equal(readFileSync(f.path, 'utf8'), '[network]\nallow = ["*.com"]\n');
    assert.throws(() => appendApprovedDomains(f.path, ['*.registry.test']), /exact domain name/);
    assert.throws(() => appendApprovedDomains(f.path, ['127.0.0.1']), /exact domain name/);
  } finally {
    f.cleanup();
  }
});

test('the rule book takes an "always" at once', () => {
  const f = tempRules();
  try {
    const book = createRuleBook(f.path, { explicit: false });
    assert.equal(book.current().network, undefined);
    book.appendApprovedDomains(['registry.test']);
    assert.deepEqual(networkForCommand(book.current(), ['curl'])?.approved, ['registry.test']);
  } finally {
    f.cleanup();
  }
});
