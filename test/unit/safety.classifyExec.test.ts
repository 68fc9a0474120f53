/** classifyExec: DESIGN.md decision logic steps 1-4 across policies, sandboxes and rules. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyExec, proposedPrefix } from '../../src/safety/classifyExec.ts';
import { loadShellGrammar } from '../../src/safety/shellParse.ts';
import { EMPTY_RULE_SET, type RuleSet, isSubcommandPrefix } from '../../src/safety/ruleMatch.ts';
import { parseRules } from '../../src/safety/ruleParse.ts';
import type { ApprovalPolicy, SandboxMode, SandboxType } from '../../src/policy.ts';
import type { Classification } from '../../src/safety/types.ts';
import { programsAt, systemPrograms } from '../support/programs.ts';
import type { ProgramLocator } from '../../src/safety/programs/programPath.ts';

await loadShellGrammar();

function classify(
  command: string[],
  opts: { approval?: ApprovalPolicy; sandbox?: SandboxMode; platform?: SandboxType; esc?: boolean; session?: boolean; rules?: RuleSet; programs?: ProgramLocator; clientRuns?: boolean } = {},
): Classification {
  return classifyExec(
    {
      command,
      cwd: '/work',
      withEscalatedPermissions: opts.esc ?? false,
      policy: { approval: opts.approval ?? 'on-request', sandbox: opts.sandbox ?? 'workspace-write', writableRoots: [], network: false, tmpWrite: true },
      platformSandbox: opts.platform ?? 'bwrap',
      approvedForSession: opts.session ?? false,
      programs: opts.programs ?? systemPrograms,
      ...(opts.clientRuns ? { clientRuns: true } : {}),
    },
    opts.rules ?? EMPTY_RULE_SET,
  );
}

type Row = [ApprovalPolicy, SandboxMode, SandboxType, boolean, string[], Classification['outcome'], Classification['askReason'] | undefined, SandboxType];
const SAFE = ['ls', '-la'];
const PLAIN = ['cargo', 'build'];
const DANGER = ['rm', '-rf', 'build'];

// approval, sandbox mode, platform sandbox, escalation, command -> outcome, askReason, sandbox
const MATRIX: Row[] = [
  // known-safe: auto-approve wherever the platform has a sandbox, and run in it (read-only) even
  // under danger-full-access (stricter than Codex); never auto-run bare: without a platform
  // sandbox it goes through the matrix (`cat ~/.ssh/id_rsa` is known-safe, and only the sandbox hides it)
  ['untrusted', 'read-only', 'bwrap', false, SAFE, 'auto-approve', undefined, 'bwrap'],
  ['never', 'workspace-write', 'bwrap', true, SAFE, 'auto-approve', undefined, 'bwrap'],
  ['on-request', 'danger-full-access', 'bwrap', false, SAFE, 'auto-approve', undefined, 'bwrap'],
  ['untrusted', 'danger-full-access', 'bwrap', false, SAFE, 'auto-approve', undefined, 'bwrap'],
  ['on-request', 'read-only', 'none', false, SAFE, 'ask', 'no-sandbox', 'none'],
  ['untrusted', 'danger-full-access', 'none', false, SAFE, 'ask', 'not-known-safe', 'none'],
  ['never', 'workspace-write', 'none', false, SAFE, 'reject', undefined, 'none'],
  // the person chose no sandbox and no questions: everything runs bare, known-safe too
  ['on-request', 'danger-full-access', 'none', false, SAFE, 'auto-approve', undefined, 'none'],
  // dangerous: ask, reject under never, even with full access
  ['on-request', 'danger-full-access', 'bwrap', false, DANGER, 'ask', 'dangerous', 'none'],
  ['on-failure', 'workspace-write', 'bwrap', false, DANGER, 'ask', 'dangerous', 'bwrap'],
  ['never', 'workspace-write', 'bwrap', false, DANGER, 'reject', undefined, 'bwrap'],
  ['untrusted', 'read-only', 'bwrap', false, DANGER, 'ask', 'dangerous', 'bwrap'],
  // the matrix for other commands
  ['untrusted', 'workspace-write', 'bwrap', false, PLAIN, 'ask', 'not-known-safe', 'bwrap'],
  ['untrusted', 'danger-full-access', 'bwrap', false, PLAIN, 'ask', 'not-known-safe', 'none'],
  ['on-request', 'danger-full-access', 'bwrap', true, PLAIN, 'auto-approve', undefined, 'none'],
  ['on-request', 'workspace-write', 'bwrap', true, PLAIN, 'ask', 'escalation', 'bwrap'],
  ['on-request', 'workspace-write', 'bwrap', false, PLAIN, 'auto-approve', undefined, 'bwrap'],
  ['on-request', 'read-only', 'none', false, PLAIN, 'ask', 'no-sandbox', 'none'],
  ['on-failure', 'read-only', 'bwrap', true, PLAIN, 'auto-approve', undefined, 'bwrap'],
  ['on-failure', 'workspace-write', 'none', false, PLAIN, 'ask', 'no-sandbox', 'none'],
  ['never', 'read-only', 'bwrap', false, PLAIN, 'auto-approve', undefined, 'bwrap'],
  ['never', 'workspace-write', 'none', false, PLAIN, 'reject', undefined, 'none'],
  ['never', 'danger-full-access', 'none', false, PLAIN, 'auto-approve', undefined, 'none'],
];

test('the (approval, sandbox) matrix', () => {
  for (const [approval, sandbox, platform, esc, command, outcome, askReason, sb] of MATRIX) {
    const c = classify(command, { approval, sandbox, platform, esc });
    const label = `${approval}/${sandbox}/${platform}/esc=${esc} ${command.join(' ')}`;
    assert.equal(c.outcome, outcome, label);
    assert.equal(c.askReason, askReason, label);
    assert.equal(c.sandbox, sb, label);
    assert.ok(c.reason.length > 0, label);
    if (outcome === 'auto-approve') assert.equal(c.decisionSource, 'policy', label);
  }
});

test('approved for session auto-approves, even a dangerous command', () => {
  const c = classify(DANGER, { approval: 'untrusted', session: true });
  assert.equal(c.outcome, 'auto-approve');
  assert.equal(c.decisionSource, 'session-cache');
  assert.equal(classify(DANGER, { approval: 'untrusted' }).outcome, 'ask');
});

test('commands: [argv] for a plain argv, parsed commands for a script, null when it does not parse', () => {
  assert.deepEqual(classify(['git', 'status']).commands, [['git', 'status']]);
  assert.deepEqual(classify(['bash', '-lc', 'ls && pwd']).commands, [['ls'], ['pwd']]);
  assert.equal(classify(['bash', '-lc', 'ls > x']).commands, null);
});

const RULES = parseRules(
  `
[[rule]]
pattern = ["git", "push"]
decision = "prompt"
justification = "pushing publishes work"

[[rule]]
pattern = ["cargo", ["build", "test"]]
decision = "allow"
justification = "local builds"

[[rule]]
pattern = ["curl"]
decision = "forbidden"
justification = "no network fetches"

[[rule]]
pattern = ["ls"]
decision = "prompt"
justification = "even ls asks here"
`,
  'test.toml',
);

test('user rules decide first: forbidden rejects, prompt asks (never rejects), allow approves', () => {
  const forbidden = classify(['curl', 'https://x'], { approval: 'on-request', sandbox: 'danger-full-access', rules: RULES });
  assert.equal(forbidden.outcome, 'reject');
  assert.match(forbidden.reason, /no network fetches/);
  const prompt = classify(['git', 'push', 'origin'], { rules: RULES });
  assert.equal(prompt.outcome, 'ask');
  assert.equal(prompt.askReason, 'rule');
  assert.match(prompt.reason, /pushing publishes work/);
  assert.equal(classify(['git', 'push'], { approval: 'never', rules: RULES }).outcome, 'reject');
  // a prompt rule outranks known-safe
  assert.equal(classify(['ls'], { rules: RULES }).outcome, 'ask');
  const allow = classify(['cargo', 'test'], { approval: 'untrusted', rules: RULES });
  assert.equal(allow.outcome, 'auto-approve');
  assert.equal(allow.decisionSource, 'rule');
  assert.equal(classify(['cargo', 'publish'], { approval: 'untrusted', rules: RULES }).outcome, 'ask');
});

test('an allow rule does not cover a dangerous variant of its prefix', () => {
  const rules = parseRules('[[rule]]\npattern = ["git", "push"]\ndecision = "allow"\njustification = "approved always"\n', 't');
  assert.equal(classify(['git', 'push', 'origin', 'main'], { approval: 'untrusted', rules }).outcome, 'auto-approve');
  const force = classify(['git', 'push', '--force', 'origin', 'main'], { approval: 'untrusted', rules });
  assert.equal(force.outcome, 'ask');
  assert.equal(force.askReason, 'dangerous');
  assert.equal(classify(['git', 'push', '-f'], { approval: 'never', rules }).outcome, 'reject');
});

test('rules check every sub-command; allow needs every sub-command covered', () => {
  assert.equal(classify(['bash', '-lc', 'cargo build && curl x'], { rules: RULES }).outcome, 'reject');
  assert.equal(classify(['bash', '-lc', 'cat f | git push'], { rules: RULES }).askReason, 'rule');
  // cargo build allowed, pwd known-safe: covered
  assert.equal(classify(['bash', '-lc', 'cargo build && pwd'], { approval: 'untrusted', rules: RULES }).decisionSource, 'rule');
  // cargo build allowed but make is not: no rule decision, the heuristics ask
  const partial = classify(['bash', '-lc', 'cargo build && make'], { approval: 'untrusted', rules: RULES });
  assert.equal(partial.outcome, 'ask');
  assert.equal(partial.askReason, 'not-known-safe');
  // an unparsed script is matched as its whole argv: the cargo rule does not apply
  assert.equal(classify(['bash', '-lc', 'cargo build > log'], { approval: 'untrusted', rules: RULES }).outcome, 'ask');
  // a prompt/forbidden rule also holds the program by basename
  assert.equal(classify(['/usr/bin/curl', 'x'], { rules: RULES }).outcome, 'reject');
});

test('proposed rule: what was approved, no more (issue #12)', () => {
  const proposed = (argv: string[]) => classify(argv, { approval: 'untrusted' }).proposedPrefix;
  // a subcommand tool with options: the literal argv, never the two-word prefix that would cover every option
  assert.deepEqual(proposed(['cargo', 'build', '--release']), ['cargo', 'build', '--release']);
  // without options after the subcommand: the two words (operands only are covered later)
  assert.deepEqual(proposed(['git', 'push', 'origin', 'main']), ['git', 'push']);
  assert.deepEqual(proposed(['bash', '-lc', 'npm test']), ['npm', 'test']);
  // make runs whatever the (agent-writable) Makefile says: treated as an interpreter
  assert.equal(proposed(['make', 'all']), undefined);
  // not a subcommand tool: the literal argv, never the bare program
  assert.deepEqual(proposed(['touch', 'x']), ['touch', 'x']);
  assert.equal(proposed(['touch']), undefined);
  for (const argv of [
    ['bash', '-lc', 'echo hi > x'],
    ['bash'],
    ['python3', '-c', 'print(1)'],
    ['node', '-e', '1'],
    ['sudo', 'make'],
    ['env', 'X=1', 'make'],
    ['xargs', 'touch'],
    ['rm', '-rf', 'x'],
    ['bash', '-lc', 'touch a && touch b'],
    // exec/write options: no rule is offered at all
    ['git', '-c', 'core.pager=cat', 'log'],
    ['find', '.', '-exec', 'touch', '{}', ';'],
    ['sed', '-i', 's/a/b/', 'f'],
    ['rg', '--pre', './x', 'y'],
    ['sort', '-o', 'out', 'in'],
    ['npm', 'test', '--script-shell=./evil.sh'],
    ['git', 'fetch', 'ext::sh -c evil'],
  ]) {
    assert.equal(proposed(argv), undefined, JSON.stringify(argv));
  }
  assert.equal(proposedPrefix(['x'], null, false), null);
  // a subcommand that is itself a group of verbs: the two words would cover its siblings
  // (redclass: "always allow" on `git stash list` stored `git stash`, then `git stash clear` ran;
  // `gh pr view 1` stored `gh pr`, covering `gh pr merge 1`), so the literal argv, stored exact
  for (const argv of [
    ['git', 'stash', 'list'], ['git', 'worktree', 'list'], ['git', 'remote', 'show', 'origin'], ['git', 'config', 'user.name', 'x'],
    ['git', 'submodule', 'status'], ['git', 'reflog', 'show'], ['git', 'notes', 'list'], ['gh', 'pr', 'view', '1'], ['gh', 'repo', 'view'],
    ['docker', 'compose', 'ps'], ['docker', 'volume', 'ls'], ['helm', 'repo', 'list'], ['npm', 'cache', 'ls'],
    ['terraform', 'state', 'list'], ['kubectl', 'config', 'view'], ['go', 'mod', 'graph'], ['gh', 'pr'],
  ]) {
    const p = proposed(argv);
    assert.deepEqual(p, argv, JSON.stringify(argv));
    assert.equal(isSubcommandPrefix(p!), false, `${JSON.stringify(argv)} is stored exact`);
  }
});

test('an allow rule covers no option it does not list, and never an exec/write option (issue #12)', () => {
  const rules = parseRules(
    [
      '[[rule]]\npattern = ["npm", "test"]\ndecision = "allow"\njustification = "t"',
      '[[rule]]\npattern = ["npm", "run", "lint"]\ndecision = "allow"\njustification = "t"\noptions = ["--fix"]',
      '[[rule]]\npattern = ["cargo", "build"]\ndecision = "allow"\njustification = "t"\nany_options = true',
      '[[rule]]\npattern = ["git", "fetch"]\ndecision = "allow"\njustification = "t"\nany_options = true',
      '[[rule]]\npattern = ["git", "log"]\ndecision = "allow"\njustification = "t"\nany_options = true',
    ].join('\n'),
    'test',
  );
  const c = (argv: string[]) => classify(argv, { approval: 'untrusted', sandbox: 'workspace-write', rules });
  assert.equal(c(['npm', 'test']).decisionSource, 'rule');
  assert.equal(c(['npm', 'test', 'unit']).decisionSource, 'rule');
  assert.match(c(['npm', 'test']).reason, /not known-safe; runs inside the workspace-write sandbox/);
  for (const argv of [
    ['npm', 'test', '--script-shell=./evil.sh'],
    ['npm', 'test', '--prefix', '/tmp/x'],
    ['npm', 'test', '--node-options=--require=./evil.js'],
    ['npm', 'test', '--userconfig', './npmrc'],
    ['npm', 'test', '--watch'],
    ['npm', 'run', 'lint', '--fix', '--script-shell', 'x'],
    ['cargo', 'build', '--config', 'build.rustc-wrapper="./x"'],
    ['cargo', 'build', '--manifest-path', '../other/Cargo.toml'],
    ['git', 'fetch', '--upload-pack=./evil', 'origin'],
    ['git', 'fetch', 'ext::sh -c evil'],
    ['git', 'log', '--output=/tmp/x'],
    ['git', 'log', '--ext-diff'],
  ]) {
    const v = c(argv);
    assert.notEqual(v.decisionSource, 'rule', JSON.stringify(argv));
    assert.equal(v.outcome, 'ask', JSON.stringify(argv));
    assert.match(v.reason, /does not cover it/, JSON.stringify(argv));
  }
  assert.equal(c(['npm', 'run', 'lint', '--fix']).decisionSource, 'rule');
  assert.equal(c(['cargo', 'build', '--release', '-j', '2']).decisionSource, 'rule');
  assert.equal(c(['git', 'fetch', '--prune-tags', 'origin']).decisionSource, 'rule');
});

test('never throws: malformed input fails closed', () => {
  const nul = classify(['ls', 'a\0b']);
  assert.equal(nul.outcome, 'ask');
  assert.equal(nul.knownSafe, false);
  assert.equal(classify(['ls', 'a\0b'], { approval: 'never' }).outcome, 'reject');
  assert.equal(classify([]).outcome, 'ask');
  // a broken input object still yields a verdict
  const broken = classifyExec({ command: null } as never, EMPTY_RULE_SET);
  assert.equal(broken.outcome, 'ask');
});

test("redclass: a glob the shell expands into a person's own hidden path, or a relative word after cd, is asked about when the client's tool runs it", () => {
  const run = (command: string[]) =>
    classifyExec(
      {
        command,
        cwd: '/work',
        withEscalatedPermissions: false,
        policy: { approval: 'on-request', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: true, hidden: ['/data/vault'] },
        platformSandbox: 'none',
        approvedForSession: false,
        programs: systemPrograms,
        clientRuns: true,
      },
      EMPTY_RULE_SET,
    );
  // (`v*` and `va*` are no longer known-safe at all: either could be a vault_pass file, rt-classifier)
  for (const script of ['head /data/v*/key.txt', 'cat /data/va*']) assert.equal(run(['bash', '-c', script]).outcome, 'ask', script);
  for (const script of ['cat /data/vaul?/key.txt', 'head /data/*ault/key.txt', 'cat /d[a]ta/vault/key.txt', 'cat /data/?ault', 'cd /data/x && cat ../vault/key.txt', 'cd /data/x && cd y && cat ../../vault/key.txt']) {
    const c = run(['bash', '-c', script]);
    assert.equal(c.outcome, 'ask', `${script}: ${c.reason}`);
    assert.match(c.reason, /hidden path/);
  }
  assert.equal(run(['bash', '-c', 'cat /data/other/*.md']).outcome, 'auto-approve', 'a glob beside the hidden path');
});

test("known-safe run by the client's own tool (no warden sandbox) auto-approves unless it may reach a hidden path", () => {
  const run = (command: string[], cwd = '/work') =>
    classifyExec(
      {
        command,
        cwd,
        withEscalatedPermissions: false,
        policy: { approval: 'on-request', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: true, hidden: ['/home/u/.ssh', '/home/u/.aws'] },
        platformSandbox: 'none',
        approvedForSession: false,
        programs: systemPrograms,
        clientRuns: true,
      },
      EMPTY_RULE_SET,
    );
  assert.equal(run(['ls', '-la']).outcome, 'auto-approve');
  assert.equal(run(['bash', '-c', 'cat README.md && wc -l README.md']).outcome, 'auto-approve');
  // git run by the client gets none of warden's hardening environment: the repository's
  // core.fsmonitor, pager, textconv ... would run (redclass), so it is asked about
  for (const command of [['git', 'status'], ['git', 'log', '--oneline'], ['bash', '-c', 'cat README.md && git status'], ['bash', '-lc', 'ls | git diff --stat --no-ext-diff']]) {
    const c = run(command);
    assert.equal(c.outcome, 'ask', `${JSON.stringify(command)}: ${c.reason}`);
    assert.ok(c.knownSafe, 'still known-safe: it is who runs it that changes');
    assert.match(c.reason, /repository's config/);
  }
  for (const [command, cwd] of [
    [['cat', '/home/u/.ssh/id_rsa'], '/work'],
    [['cat', '../u/.aws/credentials'], '/home/x'],
    [['grep', '-r', 'token', '/home/u'], '/work'],
    [['bash', '-c', 'cat ~/.ssh/id_ed25519'], '/work'],
    [['ls', '/'], '/work'],
    [['grep', '-r', 'token'], '/home/u'],
    [['grep', '--file=/home/u/.ssh/k', 'x'], '/work'],
    [['grep', '-f/home/u/.ssh/k', 'x'], '/work'],
  ] as Array<[string[], string]>) {
    const c = run(command, cwd);
    assert.equal(c.outcome, 'ask', `${JSON.stringify(command)} in ${cwd}: ${c.reason}`);
    // words naming a secret are not known-safe at all (programs/secretPaths.ts); the rest ask for the hidden path
    if (c.knownSafe) assert.match(c.reason, /hidden path/);
    else assert.match(c.reason, /names a secret|reads credentials stored there/);
  }
  // the same command without clientRuns on a host with no sandbox: never auto-run bare
  assert.equal(classify(['ls', '-la'], { platform: 'none' }).outcome, 'ask');
});

test('prompt and forbidden rules see through wrappers, git global options and unparsed scripts (redclass)', () => {
  const rules = parseRules(
    '[[rule]]\npattern = ["git", "push"]\ndecision = "forbidden"\njustification = "no pushes"\n\n[[rule]]\npattern = ["curl"]\ndecision = "prompt"\njustification = "ask for curl"\n',
    't',
  );
  const run = (argv: string[]) => classify(argv, { approval: 'on-request', sandbox: 'danger-full-access', rules });
  // each of these ran `git push` under a rule forbidding it
  for (const argv of [
    ['git', '--no-pager', 'push'], ['git', '-C', '.', 'push'], ['git', '-P', 'push', 'origin'], ['env', 'git', 'push'], ['nice', 'git', 'push'],
    ['command', 'git', 'push'], ['timeout', '5', 'git', 'push'], ['bash', '-lc', 'git push 2>/dev/null'], ['bash', '-c', '-e', 'git push'],
    ['bash', '-lc', 'echo $(git push)'], ['sudo', '-u', 'root', 'git', 'push'],
  ]) {
    const c = run(argv);
    assert.equal(c.outcome, 'reject', `${JSON.stringify(argv)}: ${c.reason}`);
    assert.match(c.reason, /forbidden by rule #1/);
  }
  for (const argv of [['timeout', '5', 'curl', 'http://x'], ['bash', '-lc', 'curl x > y'], ['xargs', 'curl'], ['env', 'A=1', 'curl', 'x']]) {
    const c = run(argv);
    assert.equal(c.outcome, 'ask', `${JSON.stringify(argv)}: ${c.reason}`);
    assert.equal(c.askReason, 'rule');
  }
  // what the rules do not name stays as it was
  assert.equal(run(['git', 'status']).outcome, 'auto-approve');
  assert.equal(run(['env', 'ls']).outcome, 'auto-approve');
  assert.equal(run(['git', 'log', '--grep', 'push']).outcome, 'auto-approve');
});

test('a bare name the command\'s PATH finds outside a system directory (a planted ./ls) is not known-safe', () => {
  const planted = programsAt({ ls: '/work/ls', zsh: '/work/node_modules/.bin/zsh' });
  // untrusted: what is not known-safe is asked about, never auto-run as "known-safe `ls`"
  const asked = classify(['ls', '-la'], { approval: 'untrusted', programs: planted });
  assert.equal(asked.knownSafe, false);
  assert.equal(asked.outcome, 'ask');
  assert.match(asked.reason, /`ls` runs as `\/work\/ls` on the command's PATH/);
  // a script's sub-command, the login shell itself, and zsh read as bash are held the same way
  assert.equal(classify(['bash', '-lc', 'pwd && ls'], { approval: 'untrusted', programs: planted }).knownSafe, false);
  assert.equal(classify(['bash', '-lc', 'pwd'], { approval: 'untrusted', programs: programsAt({ bash: '/tmp/bash' }) }).knownSafe, false);
  assert.equal(classify(['zsh', '-lc', 'pwd'], { approval: 'untrusted', programs: planted }).knownSafe, false);
  // a name the edge did not find (or did not look up) is not known-safe either
  assert.equal(classify(['ls'], { approval: 'untrusted', programs: () => null }).outcome, 'ask');
  // never, no sandbox: rejected (known-safe would have asked nobody either, but it is not known-safe)
  assert.equal(classify(['ls'], { approval: 'never', platform: 'none', programs: planted }).outcome, 'reject');
  // the client's own tool runs it bare: not auto-approved as known-safe
  const client = classify(['ls'], { approval: 'on-request', platform: 'none', clientRuns: true, programs: planted });
  assert.notEqual(client.outcome, 'auto-approve');
  // a rule-allowed script is covered only where each uncovered sub-command is known-safe
  const rules = parseRules('[[rule]]\npattern = ["cargo", "build"]\ndecision = "allow"\njustification = "t"\n', 'r.toml');
  assert.equal(classify(['bash', '-lc', 'cargo build && ls'], { approval: 'untrusted', rules }).outcome, 'auto-approve');
  assert.equal(classify(['bash', '-lc', 'cargo build && ls'], { approval: 'untrusted', rules, programs: planted }).outcome, 'ask');
  // the same argv with the system's ls stays known-safe
  assert.equal(classify(['ls', '-la'], { approval: 'untrusted' }).knownSafe, true);
  assert.equal(classify(['zsh', '-lc', 'ls'], { approval: 'untrusted' }).knownSafe, true);
});
