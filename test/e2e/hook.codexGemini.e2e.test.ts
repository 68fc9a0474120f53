/**
 * `warden hook codex` and `warden hook gemini` fed the hook inputs the real clients sent
 * (test/fixtures/hooks), as real processes against a SQLite store. Codex: a known-safe command is
 * allowed with its input rewritten to `warden exec --request` (Codex honours `allow` only with a
 * rewrite); with `--runner client` it is judged as unsandboxed; a rejected one is a deny in Codex's words; a patch waits for the person at
 * `warden approve`; `--ask client`, an unknown tool, an unknown Pre event and garbage block with
 * exit 2 (Codex runs the call after any other failure). Gemini: a command is rewritten to
 * `warden exec --request` in its dir_path; an edit asked through Gemini's own prompt (`ask`) is
 * recorded, once AfterTool reports it ran, as the client's decision and not as a person's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'shell-quote';
import { REPO, auditRows, warden } from '../support/cli.ts';
import { jsonLines, wardenAsync } from '../support/cliAsync.ts';
import { keepsStreamRules } from '../support/streamRules.ts';

function scratch() {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-hooks-')));
  const ws = join(dir, 'ws');
  mkdirSync(ws);
  writeFileSync(join(ws, 'seed.txt'), 'seed\n');
  const store = join(dir, 'events.db');
  keepsStreamRules(store);
  return { dir, ws, store };
}

/** The recorded inputs of one client, with the scratch workspace in place of the recorded one. */
function recorded(file: string, ws: string, home: string): Array<Record<string, unknown>> {
  const text = readFileSync(join(REPO, 'test', 'fixtures', 'hooks', file), 'utf8').replaceAll('{{CWD}}', ws).replaceAll('{{HOME}}', home);
  return jsonLines(text);
}

test('codex: known-safe runs in Codex (empty answer) and its result is recorded; rejected is a deny; the patch waits for warden approve', async () => {
  const s = scratch();
  const [pre, post, mcpPre, patchPre] = recorded('codex-0.171.0.jsonl', s.ws, s.dir);
  const ok = warden(['hook', 'codex', '--store', s.store], { cwd: s.ws, input: JSON.stringify(pre) });
  assert.equal(ok.code, 0, ok.stderr);
  // `allow` counts in Codex only with a rewrite: the command runs through warden exec --request.
  const allow = JSON.parse(ok.stdout).hookSpecificOutput;
  assert.equal(allow.permissionDecision, 'allow');
  const argv = parse(allow.updatedInput.command) as string[];
  assert.deepEqual(argv.slice(argv.indexOf('--') + 1), ['bash', '-c', 'ls']);
  const ran = warden(argv.slice(argv.indexOf('exec')), { cwd: s.ws });
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, 'seed.txt\n');
  assert.equal(warden(['hook', 'codex', '--store', s.store], { cwd: s.ws, input: JSON.stringify(post) }).code, 0);
  // --runner client: Codex's own tool runs it (in Codex's sandbox). A known-safe `ls` that reaches no
  // hidden path is still allowed (docs/rules.md): no answer, so Codex runs it, and nothing is rewritten.
  // (under a stand-in client process, as Codex would run it: the request's owner is that client, not this test)
  const bare = await wardenAsync(['hook', 'codex', '--store', s.store, '--runner', 'client', '--decision-timeout', '1'], { cwd: s.ws, input: JSON.stringify({ ...pre, tool_use_id: 'call_bare' }), asClient: true });
  assert.equal(bare.code, 0, bare.stderr);
  assert.equal(bare.stdout.trim(), '');
  // the same runner on a read of a secret is not known-safe: asked, nobody answers, denied
  const secret = warden(['hook', 'codex', '--store', s.store, '--runner', 'client', '--decision-timeout', '1'], {
    cwd: s.ws,
    input: JSON.stringify({ ...pre, tool_use_id: 'call_secret', tool_input: { ...(pre!.tool_input as object), command: 'cat ~/.ssh/id_rsa' } }),
  });
  assert.equal(JSON.parse(secret.stdout).hookSpecificOutput.permissionDecision, 'deny');
  // nor is a known-safe git command the client would run itself: it reads the repository's config
  // (core.fsmonitor, pager ...) without warden's hardening environment (redclass)
  const git = warden(['hook', 'codex', '--store', s.store, '--runner', 'client', '--decision-timeout', '1'], {
    cwd: s.ws,
    input: JSON.stringify({ ...pre, tool_use_id: 'call_git', tool_input: { ...(pre!.tool_input as object), command: 'git status' } }),
  });
  assert.equal(git.code, 0, git.stderr);
  assert.equal(JSON.parse(git.stdout).hookSpecificOutput.permissionDecision, 'deny', git.stdout);

  const rm = { ...pre, tool_use_id: 'call_rm', tool_input: { command: 'rm -rf ~' } };
  const rejected = warden(['hook', 'codex', '--store', s.store, '--approval', 'never'], { cwd: s.ws, input: JSON.stringify(rm) });
  assert.equal(rejected.code, 0, rejected.stderr);
  const deny = JSON.parse(rejected.stdout).hookSpecificOutput;
  assert.deepEqual([deny.hookEventName, deny.permissionDecision], ['PreToolUse', 'deny']);
  assert.match(deny.permissionDecisionReason, /not run/);

  // The patch is the client's to apply (no rewrite in Codex): it waits for the person at warden approve.
  const waiting = wardenAsync(['hook', 'codex', '--store', s.store, '--decision-timeout', '60'], { cwd: s.ws, input: JSON.stringify(patchPre), timeoutMs: 90_000, asClient: true });
  let decided = false;
  for (let i = 0; i < 200 && !decided; i++) {
    const list = jsonLines((await wardenAsync(['approve', '--list', '--json', '--store', s.store])).stdout);
    const row = list.find((r) => JSON.stringify(r.files ?? '').includes('notes.txt'));
    if (row) decided = (await wardenAsync(['approve', '--store', s.store, '--decide', String(row.request_id), '--decision', 'approved'])).code === 0;
    else await new Promise((r) => setTimeout(r, 150));
  }
  const answered = await waiting;
  assert.equal(decided, true);
  assert.equal(answered.code, 0, answered.stderr);
  assert.equal(answered.stdout, '');

  // Fail closed where Codex would fail open: every refusal is exit 2 with the reason on stderr.
  const blocked = [
    ['--ask', 'client', JSON.stringify(pre)],
    [JSON.stringify({ ...pre, tool_name: 'exec_command_v2' })],
    [JSON.stringify({ ...pre, hook_event_name: 'PermissionRequest' })],
    [JSON.stringify({ ...pre, tool_input: { cmd: 'ls' } })],
    [JSON.stringify({ ...pre, tool_use_id: undefined })],
    ['{"not": "codex"}'],
    ['not json'],
  ];
  for (const args of blocked) {
    const input = args.at(-1)!;
    const r = warden(['hook', 'codex', '--store', s.store, ...args.slice(0, -1)], { cwd: s.ws, input });
    assert.equal(r.code, 2, input);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /blocked \(fail closed\)/);
  }
  void mcpPre; // warden's own MCP tool is not routed to the hook (init's matcher): see the gemini test for a refusal of it.

  const rows = new Map(auditRows(s.store).map((r) => [String(r.client_call_id), r]));
  assert.deepEqual([rows.get('call_warden_0')!.surface, rows.get('call_warden_0')!.decision_source, rows.get('call_warden_0')!.session_id], ['hook:codex', 'policy', 'codex:01a23779-4d7c-7811-94d9-971be0bff225']);
  assert.deepEqual([rows.get('call_warden_0')!.outcome, rows.get('call_warden_0')!.exit_code, rows.get('call_warden_0')!.sandbox_used], ['completed', 0, 'bwrap']);
  // handed to Codex's own tool, which never reported back in this test: still executing, by policy
  assert.deepEqual([rows.get('call_bare')!.outcome, rows.get('call_bare')!.decision_source], ['executing', 'policy']);
  assert.deepEqual([rows.get('call_secret')!.outcome, rows.get('call_secret')!.decision_source], ['rejected', 'timeout']);
  assert.equal(rows.get('call_rm')!.outcome, 'rejected');
  assert.deepEqual([rows.get('call_warden_3')!.kind, rows.get('call_warden_3')!.decision_source], ['patch', 'user']);
  assert.equal(warden(['verify', '--store', s.store]).code, 0);
});

test('gemini: a command is rewritten to warden exec --request in its dir_path; an edit asked through Gemini\'s prompt is recorded as the client\'s decision', () => {
  const s = scratch();
  mkdirSync(join(s.ws, 'sub'));
  writeFileSync(join(s.ws, 'sub', 'inner.txt'), 'inner\n');
  const [pre, , writePre, writePost, replacePre, mcpPre] = recorded('gemini-0.61.0.jsonl', s.ws, s.dir);
  const inSub = { ...pre, tool_input: { command: 'ls', dir_path: 'sub' } };
  const r = warden(['hook', 'gemini', '--store', s.store], { cwd: s.ws, input: JSON.stringify(inSub) });
  assert.equal(r.code, 0, r.stderr);
  const answer = JSON.parse(r.stdout);
  assert.equal(answer.decision, 'allow');
  const argv = parse(answer.hookSpecificOutput.tool_input.command) as string[];
  assert.deepEqual(argv.slice(argv.indexOf('--') + 1), ['bash', '-c', 'ls']);
  // Gemini runs the rewritten command in dir_path: so must the check of the recorded cwd.
  const run = warden(argv.slice(argv.indexOf('exec')), { cwd: join(s.ws, 'sub') });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'inner.txt\n');
  assert.equal(warden(argv.slice(argv.indexOf('exec')), { cwd: s.ws }).code, 126, 'not from another directory');

  // --ask client: Gemini's own prompt asks; AfterTool says it ran, so the client approved it.
  const asked = warden(['hook', 'gemini', '--store', s.store, '--ask', 'client', '--approval', 'untrusted'], { cwd: s.ws, input: JSON.stringify(writePre) });
  assert.equal(asked.code, 0, asked.stderr);
  assert.equal(JSON.parse(asked.stdout).decision, 'ask');
  writeFileSync(join(s.ws, 'w.txt'), 'hello\n'); // Gemini's write_file ran
  assert.equal(warden(['hook', 'gemini', '--store', s.store], { cwd: s.ws, input: JSON.stringify(writePost) }).code, 0);

  // Gemini reports no refusal: a call asked and never run is closed when the turn ends (AfterAgent), never blocking it.
  const other = { ...writePre, tool_input: { file_path: join(s.ws, 'never.txt'), content: 'x\n' } };
  assert.equal(JSON.parse(warden(['hook', 'gemini', '--store', s.store, '--ask', 'client', '--approval', 'untrusted'], { cwd: s.ws, input: JSON.stringify(other) }).stdout).decision, 'ask');
  const turnEnd = { session_id: writePre!.session_id, transcript_path: '/x', cwd: s.ws, hook_event_name: 'AfterAgent', timestamp: 't', prompt: 'p', prompt_response: 'r', stop_hook_active: false };
  const ended = warden(['hook', 'gemini', '--store', s.store], { cwd: s.ws, input: JSON.stringify(turnEnd) });
  assert.deepEqual([ended.code, ended.stdout], [0, '']);

  const denied = warden(['hook', 'gemini', '--store', s.store, '--approval', 'untrusted', '--decision-timeout', '1'], { cwd: s.ws, input: JSON.stringify(replacePre) });
  assert.equal(JSON.parse(denied.stdout).decision, 'deny');
  for (const input of [JSON.stringify(mcpPre), JSON.stringify({ ...pre, hook_event_name: 'BeforeModel' }), JSON.stringify({ ...writePre, tool_input: { path: 'x' } }), '[]']) {
    const b = warden(['hook', 'gemini', '--store', s.store], { cwd: s.ws, input });
    assert.equal(b.code, 2, input);
    assert.match(b.stderr, /blocked \(fail closed\)/);
  }

  const rows = auditRows(s.store);
  const shell = rows.find((x) => x.kind === 'exec')!;
  assert.deepEqual([shell.surface, shell.outcome, shell.cwd, shell.client_call_id], ['hook:gemini', 'completed', join(s.ws, 'sub'), null]);
  const write = rows.find((x) => JSON.stringify(x.files).includes('w.txt'))!;
  assert.deepEqual([write.outcome, write.decision, write.decision_source, write.decided_by], ['completed', 'approved', 'client', 'hook:gemini']);
  const never = rows.find((x) => JSON.stringify(x.files).includes('never.txt'))!;
  assert.deepEqual([never.outcome, never.decision, never.decision_source], ['rejected', 'denied', 'client']);
  const replace = rows.find((x) => JSON.stringify(x.files).includes('seed.txt'))!;
  assert.deepEqual([replace.outcome, replace.decision_source], ['rejected', 'timeout']);
  assert.equal(warden(['verify', '--store', s.store]).code, 0);
});

test("gemini: a dir_path outside the workspace is blocked under workspace-write (it would become the run's writable root)", () => {
  const s = scratch();
  mkdirSync(join(s.dir, 'outside'));
  const [pre] = recorded('gemini-0.61.0.jsonl', s.ws, s.dir);
  for (const dir_path of ['../outside', join(s.dir, 'outside'), '..']) {
    const escaped = { ...pre, tool_input: { command: 'touch planted', dir_path } };
    const b = warden(['hook', 'gemini', '--store', s.store], { cwd: s.ws, input: JSON.stringify(escaped) });
    assert.equal(b.code, 2, `${dir_path}: ${b.stdout}`);
    assert.match(b.stderr, /outside the workspace/);
  }
  // read-only: the run directory grants no write, so the call is judged as usual
  const ro = warden(['hook', 'gemini', '--store', s.store, '--sandbox', 'read-only'], { cwd: s.ws, input: JSON.stringify({ ...pre, tool_input: { command: 'ls', dir_path: '../outside' } }) });
  assert.equal(ro.code, 0, ro.stderr);
});

test('gemini: a dir_path that is a symlink is judged where it leads (rt-classifier: `cat hosts.yml` in a link to ~/.config/gh was a known-safe read)', () => {
  const s = scratch();
  const gh = join(s.dir, 'home', 'u', '.config', 'gh');
  mkdirSync(gh, { recursive: true });
  writeFileSync(join(gh, 'hosts.yml'), 'oauth_token: gho_x\n');
  symlinkSync(gh, join(s.ws, 'cfg'));
  const [pre] = recorded('gemini-0.61.0.jsonl', s.ws, s.dir);
  const call = (dir_path: string) =>
    warden(['hook', 'gemini', '--store', s.store, '--sandbox', 'read-only', '--approval', 'untrusted', '--decision-timeout', '1'], {
      cwd: s.ws,
      input: JSON.stringify({ ...pre, tool_input: { command: 'cat hosts.yml', dir_path } }),
    });
  // the link and the directory it leads to get the same answer: not a known-safe read, asked, nobody answers
  for (const dir_path of ['cfg', gh]) {
    const b = call(dir_path);
    assert.doesNotMatch(b.stdout, /known-safe read-only command/, `${dir_path}: ${b.stdout}`);
    assert.notEqual(JSON.parse(b.stdout || '{}').decision, 'allow', `${dir_path}: ${b.stdout}`);
  }
});
