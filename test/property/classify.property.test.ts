/**
 * Laws of exec classification, checked with fast-check:
 *  - appending any redirection, substitution or background operator to a safe script makes it not safe;
 *  - the classifier never throws and never hangs on any argv of arbitrary strings;
 *  - classification is deterministic;
 *  - known-safe never coexists with dangerous;
 *  - the fast shape check (a tree-sitter query) reads every script exactly as the full node walk does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyExec, isKnownSafeCommand } from '../../src/safety/classifyExec.ts';
import { loadShellGrammar, parseWordOnlyScriptByQuery, parseWordOnlyScriptByWalk } from '../../src/safety/shellParse.ts';
import { EMPTY_RULE_SET } from '../../src/safety/ruleMatch.ts';
import { APPROVAL_POLICIES, SANDBOX_MODES, SANDBOX_TYPES } from '../../src/policy.ts';
import type { ExecClassificationInput } from '../../src/safety/types.ts';
import { systemPrograms } from '../support/programs.ts';

await loadShellGrammar();

const SAFE_COMMANDS = ['ls', 'ls -la', 'pwd', 'git status', 'git log -n 3', 'cat README.md', "grep -n 'x' f", 'wc -l', 'echo hi', 'sed -n 1,5p f', 'rg foo', 'find . -name x', 'head -n 2 f', 'true'];
const JOINERS = [' && ', ' || ', '; ', ' | ', '\n'];
const safeScript = fc
  .tuple(fc.constantFrom(...SAFE_COMMANDS), fc.array(fc.tuple(fc.constantFrom(...JOINERS), fc.constantFrom(...SAFE_COMMANDS)), { maxLength: 4 }))
  .map(([first, rest]) => first + rest.map(([j, c]) => j + c).join(''));

const TAILS = [
  '> out', '>> out', '< in', '2>&1', '2> err', '&> all', '>| out', '<<< word', "<<'EOF'\nx\nEOF", '<<EOF\nx\nEOF', '<> rw', '>&2',
  '$(id)', '`id`', '$HOME', '${HOME}', '"$HOME"', '<(id)', '>(id)', '$((1+1))', "$'\\x41'", '$"msg"', '"$(id)"',
  '&', '& ls', '&& ls &', '|& cat', '# comment', '; (id)', '; { id; }', '; FOO=1 ls', '; if true; then ls; fi',
];
const glue = fc.constantFrom(' ', '');

test('appending any redirection, substitution or background operator to a safe script makes it not safe', () => {
  fc.assert(
    fc.property(safeScript, glue, fc.constantFrom(...TAILS), (script, sep, tail) => {
      // (a script the grammar misreads is refused; the law is about scripts that are safe)
      fc.pre(isKnownSafeCommand(['bash', '-lc', script]));
      // glued to the last word, # is part of the word, not a comment
      const tainted = `${script}${sep === '' && /^[a-z0-9#]/i.test(tail) ? ' ' : sep}${tail}`;
      assert.equal(isKnownSafeCommand(['bash', '-lc', tainted]), false, JSON.stringify(tainted));
    }),
    { numRuns: 600 },
  );
});

test('pinned regression: a pipeline line break that tree-sitter-bash folds into arguments', () => {
  // fast-check found ["ls | ls | sed -n 1,5p f\nls && ls", " ", "> out"]: the grammar read line 2's
  // first word as an argument of sed; a command spanning a line break is now refused
  assert.equal(isKnownSafeCommand(['bash', '-lc', 'ls | ls | cat\ntouch x && ls']), false);
  assert.equal(isKnownSafeCommand(['bash', '-lc', 'ls | ls | sed -n 1,5p f\nls && ls > out']), false);
});

const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('-rf', '--force', '-c', 'git', 'rm', 'bash', '-lc', 'sudo', 'env', '$(x)', '`', "'", '"', '\\', '\0', '\n', ';', '&&', '|', '>'),
  fc.array(fc.constantFrom('ls', 'rm', '-rf', '$(', ')', '`', '"', "'", '\\', ' ', ';', '&', '|', '<', '>', '{', '}', '(', '\n', 'git', 'reset', '$x', '*'), { maxLength: 30 }).map((a) => a.join('')),
);
const argvArb = fc.oneof(
  fc.array(anyString, { maxLength: 8 }),
  fc.tuple(fc.constantFrom('bash', 'zsh', 'sh', '/bin/bash'), fc.constantFrom('-lc', '-c'), anyString).map((t) => [...t]),
);
const inputArb = fc.record({
  command: argvArb,
  approval: fc.constantFrom(...APPROVAL_POLICIES),
  sandbox: fc.constantFrom(...SANDBOX_MODES),
  platform: fc.constantFrom(...SANDBOX_TYPES),
  esc: fc.boolean(),
  session: fc.boolean(),
});

type InputRecord = typeof inputArb extends fc.Arbitrary<infer T> ? T : never;

function toInput(r: InputRecord): ExecClassificationInput {
  return {
    command: r.command,
    cwd: '/w',
    withEscalatedPermissions: r.esc,
    policy: { approval: r.approval, sandbox: r.sandbox, writableRoots: [], network: false, tmpWrite: true },
    platformSandbox: r.platform,
    approvedForSession: r.session,
    programs: systemPrograms,
  };
}

test('the classifier never throws and never hangs on arbitrary argv', () => {
  fc.assert(
    fc.property(inputArb, (r) => {
      const t0 = performance.now();
      const c = classifyExec(toInput(r), EMPTY_RULE_SET);
      assert.ok(performance.now() - t0 < 1000, 'took over a second');
      assert.ok(['auto-approve', 'ask', 'reject'].includes(c.outcome));
      assert.ok(typeof c.reason === 'string' && c.reason.length > 0);
      assert.ok(c.commands === null || c.commands.every((w) => Array.isArray(w) && w.every((x) => typeof x === 'string')));
    }),
    { numRuns: 3000 },
  );
});

test('classification is deterministic', () => {
  fc.assert(
    fc.property(fc.array(inputArb, { minLength: 1, maxLength: 5 }), (rs) => {
      const first = rs.map((r) => classifyExec(toInput(r), EMPTY_RULE_SET));
      const again = [...rs].reverse().map((r) => classifyExec(toInput(r), EMPTY_RULE_SET)).reverse();
      assert.deepEqual(again, first);
    }),
    { numRuns: 500 },
  );
});

test('known-safe and dangerous never hold together', () => {
  fc.assert(
    fc.property(inputArb, (r) => {
      const c = classifyExec(toInput(r), EMPTY_RULE_SET);
      assert.ok(!(c.knownSafe && c.dangerous), JSON.stringify(r.command));
    }),
    { numRuns: 2000 },
  );
});

const SHELLISH = [
  'ls', 'rm', '-rf', 'git', 'reset', 'echo', ' ', ' ', ' ', ';', '&&', '||', '|', '&', '>', '<', '>>', '2>&1', '$(', ')', '`', '"', "'", '\\',
  '$x', '${x}', '$((1))', '(', ')', '{', '}', '\n', '#', '*', '?', '~', '=', 'FOO=1', "$'a'", '<<EOF\nx\nEOF\n', '<<<', 'if', 'then', 'fi',
  'for', 'in', 'do', 'done', 'case', 'esac', ';;', '!', '[[', ']]', '[', ']', 'function', 'f()', 'x', '-', '--', '0', '1e3', 'é', '\t',
];
test('the query-based shape check reads every script as the full node walk does', () => {
  fc.assert(
    fc.property(fc.oneof(fc.array(fc.constantFrom(...SHELLISH), { maxLength: 25 }).map((a) => a.join(' ')), fc.array(fc.constantFrom(...SHELLISH), { maxLength: 25 }).map((a) => a.join('')), fc.string({ maxLength: 60 })), (script) => {
      assert.deepEqual(parseWordOnlyScriptByQuery(script), parseWordOnlyScriptByWalk(script), JSON.stringify(script));
    }),
    { numRuns: 4000 },
  );
});
