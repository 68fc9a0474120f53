/** User rules: loading, validation with self-checking examples, matching, atomic append. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isConfigError } from '../../src/errors.ts';
import { matchRules } from '../../src/safety/ruleMatch.ts';
import { parseRules, splitExample } from '../../src/safety/ruleParse.ts';
import { appendAllowRule, createRuleBook, defaultRulesPath, loadRules } from '../../src/safety/ruleFile.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'warden-rules-'));

function loadError(text: string): string {
  try {
    parseRules(text, 'r.toml');
  } catch (error) {
    assert.ok(isConfigError(error), String(error));
    return (error as Error).message;
  }
  assert.fail('expected the load to fail');
}

test('a valid file loads with alternatives, and its examples are checked', () => {
  const rules = parseRules(
    `[[rule]]
pattern = ["git", ["push", "fetch"]]
decision = "prompt"
justification = "network"
match = [["git", "push", "origin"], "git fetch"]
not_match = ["git status", "gitx push"]
`,
    'r.toml',
  );
  assert.equal(rules.rules.length, 1);
  assert.deepEqual(rules.rules[0]!.pattern, [['git'], ['push', 'fetch']]);
  assert.equal(matchRules(rules, ['git', 'fetch', '--all']).decision, 'prompt');
  assert.equal(matchRules(rules, ['git']).decision, null);
});

test('a rule whose own example fails stops the load, naming the rule', () => {
  const msg = loadError(`[[rule]]
pattern = ["ls"]
decision = "allow"
justification = "ok"

[[rule]]
pattern = ["git", "push"]
decision = "prompt"
justification = "p"
match = ["git status"]
`);
  assert.match(msg, /rule #2 \(pattern \["git","push"\]\)/);
  assert.match(msg, /match example \["git","status"\] does not match/);
  const notMatch = loadError(`[[rule]]
pattern = ["git"]
decision = "prompt"
justification = "p"
not_match = ["git push"]
`);
  assert.match(notMatch, /rule #1 .*not_match example/);
});

test('empty justification, empty pattern, unknown keys, bad decisions, bad TOML are errors', () => {
  assert.match(loadError(`[[rule]]\npattern = ["x"]\ndecision = "allow"\njustification = "  "\n`), /justification cannot be empty/);
  assert.match(loadError(`[[rule]]\npattern = []\ndecision = "allow"\njustification = "j"\n`), /prefix cannot be empty/);
  assert.match(loadError(`[[rule]]\npattern = ["x"]\ndecision = "allow"\njustification = "j"\nextra = 1\n`), /rule #1.*extra|Unrecognized/i);
  assert.match(loadError(`[[rule]]\npattern = ["x"]\ndecision = "maybe"\njustification = "j"\n`), /rule #1/);
  assert.match(loadError(`[[rule]]\npattern = ["x"]\njustification = "j"\n`), /decision/);
  assert.match(loadError(`[[rules]]\npattern = ["x"]\n`), /only \[\[rule\]\]/);
  assert.match(loadError(`[[rule]\n`), /not valid TOML/);
  assert.match(loadError(`[[rule]]\npattern = ["x", []]\ndecision = "allow"\njustification = "j"\n`), /alternatives cannot be empty/);
});

test('strictest matching rule wins; allow rules need the exact program spelling', () => {
  const rules = parseRules(
    `[[rule]]
pattern = ["git"]
decision = "allow"
justification = "a"
[[rule]]
pattern = ["git", "push"]
decision = "forbidden"
justification = "f"
[[rule]]
pattern = ["git", "push"]
decision = "prompt"
justification = "p"
`,
    'r',
  );
  const v = matchRules(rules, ['git', 'push']);
  assert.equal(v.decision, 'forbidden');
  assert.equal(v.matched.length, 3);
  assert.equal(matchRules(rules, ['/usr/bin/git', 'status']).decision, null);
  assert.equal(matchRules(rules, ['/usr/bin/git', 'push']).decision, 'forbidden');
  // no option skipping: git --x push is not "git push"; and an allow rule covers no option it
  // does not list (issue #12), so the bare ["git"] allow does not cover it either
  assert.equal(matchRules(rules, ['git', '--no-pager', 'push']).decision, null);
  assert.equal(matchRules(rules, ['git', 'status', 'x']).decision, 'allow');
});

test('missing default file means no rules; a missing explicit file is an error', () => {
  const d = dir();
  assert.deepEqual(loadRules(join(d, 'none.toml'), { explicit: false }).rules, []);
  assert.throws(() => loadRules(join(d, 'none.toml')), (e) => isConfigError(e) && /cannot read rules file/.test((e as Error).message));
  assert.equal(defaultRulesPath({ XDG_CONFIG_HOME: '/x/cfg' }), '/x/cfg/warden/rules.toml');
  assert.match(defaultRulesPath({}), /\.config\/warden\/rules\.toml$/);
});

test('appendAllowRule creates the file, dedupes, escapes, and keeps existing rules', () => {
  const d = dir();
  const path = join(d, 'nested', 'rules.toml');
  const first = appendAllowRule(path, ['cargo', 'build']);
  assert.equal(first.rules.length, 1);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const again = appendAllowRule(path, ['cargo', 'build']);
  assert.equal(again.rules.length, 1, 'deduplicated');
  const odd = appendAllowRule(path, ['echo', 'a "quoted" \\ back\nslash']);
  assert.equal(odd.rules.length, 2);
  assert.deepEqual(loadRules(path).rules[1]!.pattern, [['echo'], ['a "quoted" \\ back\nslash']]);
  assert.deepEqual(readdirSync(join(d, 'nested')).sort(), ['rules.toml'], 'no temp or lock files left');
  assert.throws(() => appendAllowRule(path, []), isConfigError);
});

test('appendAllowRule never overwrites a file it cannot validate', () => {
  const d = dir();
  const path = join(d, 'rules.toml');
  writeFileSync(path, 'not = [valid');
  assert.throws(() => appendAllowRule(path, ['x']), isConfigError);
  assert.equal(readFileSync(path, 'utf8'), 'not = [valid');
});

test('a rule book reloads, and an appended rule takes effect at once', () => {
  const d = dir();
  const path = join(d, 'rules.toml');
  const book = createRuleBook(path, { explicit: false });
  assert.equal(book.current().rules.length, 0);
  book.appendAllow(['npm', 'test']);
  assert.equal(matchRules(book.current(), ['npm', 'test', 'unit']).decision, 'allow');
  // an appended rule covers operands only, no option (issue #12)
  assert.equal(matchRules(book.current(), ['npm', 'test', '--watch']).decision, null);
  writeFileSync(path, readFileSync(path, 'utf8') + '\n[[rule]]\npattern = ["npm"]\ndecision = "forbidden"\njustification = "no"\n');
  assert.equal(matchRules(book.current(), ['npm', 'test']).decision, 'allow', 'not reloaded yet');
  book.reload();
  assert.equal(matchRules(book.current(), ['npm', 'test']).decision, 'forbidden');
  assert.ok(existsSync(path));
});

test('options and any_options: only on allow rules, and never over the exec/write table', () => {
  const rules = parseRules('[[rule]]\npattern = ["npm", "test"]\ndecision = "allow"\njustification = "t"\noptions = ["--watch"]\nmatch = ["npm test --watch"]\nnot_match = ["npm test --script-shell=x", "npm test --ci"]\n', 'r');
  assert.equal(matchRules(rules, ['npm', 'test', '--watch=all']).decision, 'allow');
  assert.throws(
    () => parseRules('[[rule]]\npattern = ["npm"]\ndecision = "prompt"\njustification = "t"\nany_options = true\n', 'r'),
    (e) => isConfigError(e) && /allow rules only/.test((e as Error).message),
  );
  const any = parseRules('[[rule]]\npattern = ["git", "push"]\ndecision = "allow"\njustification = "t"\nany_options = true\n', 'r');
  assert.equal(matchRules(any, ['git', 'push', '-u', 'origin', 'main']).decision, 'allow');
  assert.equal(matchRules(any, ['git', 'push', '--receive-pack=./evil', 'origin']).decision, null);
  assert.equal(matchRules(any, ['git', 'push', '--recei=./evil', 'origin']).decision, null, 'abbreviation');
});

test('example strings split on blanks with quotes', () => {
  assert.deepEqual(splitExample(`git commit -m "a b" 'c d'`), ['git', 'commit', '-m', 'a b', 'c d']);
  assert.equal(splitExample(`echo "open`), null);
});

test('"always allow" of a literal argv is stored exact: `touch x` allows `touch x`, not `touch x ~/.profile`', () => {
  const d = dir();
  const path = join(d, 'rules.toml');
  const book = createRuleBook(path, { explicit: false });
  book.appendAllow(['touch', 'x']);
  book.appendAllow(['cargo', 'build', '--release']);
  book.appendAllow(['git', 'push']);
  const text = readFileSync(path, 'utf8');
  assert.equal(text.match(/^exact = true$/gm)?.length, 2, text);
  const rules = book.current();
  // literal argv: exactly that, no word more (an operand would be another file)
  assert.equal(matchRules(rules, ['touch', 'x']).decision, 'allow');
  assert.equal(matchRules(rules, ['touch', 'x', '/home/u/.profile']).decision, null);
  assert.equal(matchRules(rules, ['touch']).decision, null);
  assert.equal(matchRules(rules, ['cargo', 'build', '--release']).decision, 'allow');
  assert.equal(matchRules(rules, ['cargo', 'build', '--release', 'extra']).decision, null);
  // the two-word subcommand form still covers later operands (its documented `git push …`)
  assert.equal(matchRules(rules, ['git', 'push', 'origin', 'main']).decision, 'allow');
  // appending the same literal again is a duplicate; a hand-written exact rule loads and matches
  assert.equal(book.appendAllow(['touch', 'x']).rules.length, 3);
  const hand = parseRules('[[rule]]\npattern = ["make", "lint"]\ndecision = "allow"\nexact = true\njustification = "j"\nmatch = ["make lint"]\nnot_match = ["make lint all"]\n', 'r.toml');
  assert.equal(hand.rules[0]!.exact, true);
  // exact only narrows an allow rule; a prompt or forbidden rule is never narrowed
  assert.match(loadError('[[rule]]\npattern = ["rm"]\ndecision = "forbidden"\nexact = true\njustification = "j"\n'), /belong to allow rules only/);
  assert.match(loadError('[[rule]]\npattern = ["x"]\ndecision = "allow"\nexact = true\nany_options = true\njustification = "j"\n'), /exact rule covers no word/);
});
