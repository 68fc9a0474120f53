/**
 * `warden hook <client>` against hostile or broken hook input, as real processes on a SQLite
 * store: whatever is malformed or unknown blocks the call (exit 2, a reason on stderr, nothing on
 * stdout) and records nothing, and what was recorded before stays intact (`warden verify`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditRows, warden, WARDEN } from '../support/cli.ts';
import { readEvents } from './mcp.harness.ts';
import { wardenAsync } from '../support/cliAsync.ts';
import { eventually } from '../support/eventually.ts';

function scratch() {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-hook-hostile-')));
  const ws = join(dir, 'ws');
  mkdirSync(ws);
  const store = join(dir, 'events.db');
  // One earlier record, which no hostile input may lose.
  assert.equal(warden(['exec', '--store', store, '--', 'true'], { cwd: ws }).code, 0);
  return { ws, store };
}

/** The hook run with raw bytes on stdin. */
function hook(client: string, s: { ws: string; store: string }, input: string | Buffer, extra: string[] = []) {
  const r = spawnSync(process.execPath, [WARDEN, 'hook', client, '--store', s.store, '--decision-timeout', '2', ...extra], {
    cwd: s.ws,
    input,
    env: { ...process.env, WARDEN_LOG: 'silent' },
    encoding: 'utf8',
    timeout: 120_000,
    // an allow echoes the tool input back (updatedInput), 10 MB of it for the big input
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertBlocked(r: { code: number | null; stdout: string; stderr: string }, reason: RegExp, s: { store: string }) {
  assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, reason);
  assert.match(r.stderr, /blocked \(fail closed\)/);
  assert.equal(auditRows(s.store).length, 1, 'nothing recorded for a blocked call, the earlier record kept');
  assert.equal(warden(['verify', '--store', s.store]).code, 0);
}

const claude = (ws: string, tool: string, input: Record<string, unknown>, event = 'PreToolUse') =>
  JSON.stringify({ session_id: 's', cwd: ws, hook_event_name: event, tool_name: tool, tool_input: input, tool_use_id: 'toolu_1' });
const codex = (ws: string, input: Record<string, unknown>, event = 'PreToolUse') =>
  JSON.stringify({ session_id: 's', cwd: ws, hook_event_name: event, tool_name: 'Bash', tool_input: input, tool_use_id: 'call_1' });
const gemini = (ws: string, tool: string, input: Record<string, unknown>, event = 'BeforeTool') =>
  JSON.stringify({ session_id: 's', cwd: ws, hook_event_name: event, tool_name: tool, tool_input: input });

test('a tool_input field warden does not read blocks, in every client (it would change what the client does and pass into the rewrite)', () => {
  const s = scratch();
  const cases: Array<[string, string]> = [
    ['claude-code', claude(s.ws, 'Bash', { command: 'ls', cwd: '/etc' })],
    ['claude-code', claude(s.ws, 'Bash', { command: 'ls', sandbox: false })],
    ['claude-code', claude(s.ws, 'Write', { file_path: join(s.ws, 'a'), content: 'x', mode: '0755' })],
    ['codex', codex(s.ws, { command: 'ls', workdir: '/' })],
    ['codex', codex(s.ws, { command: 'ls', sandbox_permissions: 'require_escalated' })],
    ['gemini', gemini(s.ws, 'run_shell_command', { command: 'ls', cwd: '/' })],
  ];
  for (const [client, input] of cases) assertBlocked(hook(client, s, input), /Unrecognized key/, s);
});

test("replacing every occurrence (Claude's replace_all, Gemini's allow_multiple) is judged and recorded as the whole change", async () => {
  const s = scratch();
  const file = join(s.ws, 'f.txt');
  writeFileSync(file, 'a\nkeep\na\n');
  for (const [client, input] of [
    ['claude-code', claude(s.ws, 'Edit', { file_path: file, old_string: 'a', new_string: 'b', replace_all: true })],
    ['gemini', gemini(s.ws, 'replace', { file_path: file, old_string: 'a', new_string: 'b', allow_multiple: true })],
  ] as const) {
    const r = hook(client, s, input, ['--approval', 'never']);
    assert.equal(r.code, 0, r.stderr);
  }
  const patches = (await readEvents(s.store)).flatMap((e) => (e.type === 'ApprovalRequested' && e.data.kind === 'patch' ? [String(e.data.patch)] : []));
  assert.equal(patches.length, 2);
  // Both occurrences change, the line between them stays.
  for (const p of patches) assert.match(p, /^-a\n-keep\n-a\n\+b\n\+keep\n\+b$/m, p);
  // A file that cannot be read cannot show the change: blocked.
  const gone = claude(s.ws, 'Edit', { file_path: join(s.ws, 'missing'), old_string: 'a', new_string: 'b', replace_all: true });
  const r = hook('claude-code', s, gone);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot read .*missing/);
});

test('a hook event warden does not know blocks in every client, whatever its name (a decision may be due for it)', () => {
  const s = scratch();
  const cases: Array<[string, string]> = [
    ['claude-code', claude(s.ws, 'Bash', { command: 'rm -rf ~' }, 'PermissionRequest')],
    ['claude-code', claude(s.ws, 'Bash', { command: 'rm -rf ~' }, 'pretooluse')],
    ['claude-code', claude(s.ws, 'Bash', { command: 'rm -rf ~' }, 'Notification')],
    ['codex', codex(s.ws, { command: 'rm -rf ~' }, 'UserPromptSubmit')],
    ['codex', codex(s.ws, { command: 'rm -rf ~' }, 'preToolUse')],
    ['gemini', gemini(s.ws, 'run_shell_command', { command: 'rm -rf ~' }, 'Notification')],
    ['gemini', gemini(s.ws, 'run_shell_command', { command: 'rm -rf ~' }, 'beforetool')],
  ];
  for (const [client, input] of cases) assertBlocked(hook(client, s, input), /does not handle the hook event/, s);
});

test('input that is not a hook event blocks: truncated JSON, not UTF-8, a command that is not a string, an unknown tool, a relative cwd, a timeout over 24 h, over 16 MiB', () => {
  const s = scratch();
  const bash = claude(s.ws, 'Bash', { command: 'echo hi' });
  assertBlocked(hook('claude-code', s, bash.slice(0, -7)), /not JSON/, s);
  const [head, tail] = bash.split('echo hi');
  assertBlocked(hook('claude-code', s, Buffer.concat([Buffer.from(`${head}echo `), Buffer.from([0xff, 0xfe]), Buffer.from(`${tail}`)])), /not valid UTF-8/, s);
  assertBlocked(hook('codex', s, codex(s.ws, { command: ['rm', '-rf', '~'] })), /expected string/, s);
  assertBlocked(hook('claude-code', s, claude(s.ws, 'Task', { prompt: 'x' })), /does not know Claude Code's tool 'Task'/, s);
  // Over Node's 32-bit timers a timeout fires after 1 ms: the command was killed at once as "timed out".
  assertBlocked(hook('claude-code', s, claude(s.ws, 'Bash', { command: 'echo hi', timeout: 99_999_999_999_999 })), /Bash tool's input \(Too big/, s);
  for (const cwd of ['.', 'ws', '']) {
    const relative = JSON.stringify({ ...JSON.parse(claude(s.ws, 'Bash', { command: 'echo hi' })), cwd });
    assertBlocked(hook('claude-code', s, relative, ['--runner', 'client']), cwd === '' ? /cwd/ : /cwd must be an absolute path/, s);
  }
  assertBlocked(hook('gemini', s, gemini(s.ws, 'run_shell_command', { command: 'echo hi', description: 'x'.repeat(17 * 1024 * 1024) })), /over 16777216 bytes/, s);
});

test('a 10 MB hook input is judged like a small one; duplicate keys are read as the clients read them (the last wins)', () => {
  const s = scratch();
  const big = hook('claude-code', s, claude(s.ws, 'Bash', { command: 'echo hi', description: 'x'.repeat(10 * 1024 * 1024) }));
  assert.equal(big.code, 0, big.stderr);
  assert.equal(JSON.parse(big.stdout).hookSpecificOutput.permissionDecision, 'allow');
  const dup = claude(s.ws, 'Bash', { command: 'echo hi' }).replace('"command":"echo hi"', '"command":"echo hi","command":"rm -rf ~"');
  const r = hook('claude-code', s, dup, ['--approval', 'never']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).hookSpecificOutput.permissionDecision, 'deny');
  assert.equal(warden(['verify', '--store', s.store]).code, 0);
});

test("a command the client runs in the background (Claude's run_in_background, Gemini's is_background): its after-tool event (the start) is not recorded as a completed run with exit 0", () => {
  const s = scratch();
  const pre = claude(s.ws, 'Bash', { command: 'echo hi', run_in_background: true });
  const allowed = hook('claude-code', s, pre, ['--runner', 'client', '--approval', 'never', '--sandbox', 'danger-full-access']);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(JSON.parse(allowed.stdout).hookSpecificOutput.permissionDecision, 'allow');
  const post = JSON.stringify({ ...JSON.parse(pre), hook_event_name: 'PostToolUse', tool_response: { stdout: '', stderr: '', interrupted: false, backgroundTaskId: 'bash_1' } });
  const r = hook('claude-code', s, post);
  assert.equal(r.code, 0, r.stderr);
  const row = auditRows(s.store).find((x) => x.client_call_id === 'toolu_1')!;
  assert.equal(row.exit_code, null, JSON.stringify(row));
  assert.notEqual(row.outcome, 'completed', JSON.stringify(row));
  const gPre = gemini(s.ws, 'run_shell_command', { command: 'echo hi', is_background: true });
  const gAllowed = hook('gemini', s, gPre, ['--runner', 'client', '--approval', 'never', '--sandbox', 'danger-full-access']);
  assert.equal(gAllowed.code, 0, gAllowed.stderr);
  assert.equal(JSON.parse(gAllowed.stdout).decision, 'allow');
  const gPost = JSON.stringify({ ...JSON.parse(gPre), hook_event_name: 'AfterTool', tool_response: { llmContent: 'Command moved to background (PID: 1).', returnDisplay: '' } });
  assert.equal(hook('gemini', s, gPost).code, 0);
  const gRow = auditRows(s.store).find((x) => x.surface === 'hook:gemini')!;
  assert.equal(gRow.exit_code, null, JSON.stringify(gRow));
  assert.notEqual(gRow.outcome, 'completed', JSON.stringify(gRow));
  assert.equal(warden(['verify', '--store', s.store]).code, 0);
});

test('warden exec --timeout over 24 h is refused before anything runs', () => {
  const s = scratch();
  const r = warden(['exec', '--store', s.store, '--timeout', '99999999999', '--', 'touch', 'ran'], { cwd: s.ws });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--timeout must be at most 86400 seconds/);
  assert.equal(existsSync(join(s.ws, 'ran')), false);
  assert.equal(auditRows(s.store).length, 1);
});

test('a PostToolUse for a call still waiting for warden approve is not an approval: nothing is recorded for it and the waiting hook denies', async () => {
  const s = scratch();
  const pre = claude(s.ws, 'Bash', { command: 'touch forged' });
  const waiting = wardenAsync(['hook', 'claude-code', '--store', s.store, '--approval', 'untrusted', '--runner', 'client', '--decision-timeout', '4'], { cwd: s.ws, input: pre, asClient: true, timeoutMs: 60_000 });
  await eventually(async () => ((await readEvents(s.store)).some((e) => e.type === 'DecisionRequested') ? true : undefined), 30_000, 'the call waiting for a person');
  const post = JSON.stringify({ ...JSON.parse(pre), hook_event_name: 'PostToolUse', tool_response: { stdout: '', stderr: '' } });
  assert.equal(hook('claude-code', s, post).code, 0);
  const answered = await waiting;
  assert.equal(answered.code, 0, answered.stderr);
  assert.equal(JSON.parse(answered.stdout).hookSpecificOutput.permissionDecision, 'deny', answered.stdout);
  const decisions = (await readEvents(s.store)).filter((e) => e.type === 'DecisionRecorded').map((e) => [e.data.decision, e.data.source]);
  assert.deepEqual(decisions.at(-1), ['denied', 'timeout']);
  assert.equal(warden(['verify', '--store', s.store]).code, 0);
});
