/**
 * `warden hook claude-code` with recorded Claude Code hook inputs, run as real processes against a
 * SQLite store: a known-safe Bash call is allowed and rewritten to `warden exec --request`, which
 * runs it once (a second use, another command or a request that was never handed off runs
 * nothing); a rejected one is a deny with the reason for the model; input that does not parse
 * blocks with exit code 2; nobody deciding denies at the decision timeout; and the client's
 * tool_use_id is in the audit row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'shell-quote';
import { auditRows, warden } from '../support/cli.ts';
import { keepsStreamRules } from '../support/streamRules.ts';

function scratch() {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-hook-')));
  const ws = join(dir, 'ws');
  mkdirSync(ws);
  const store = join(dir, 'events.db');
  keepsStreamRules(store);
  return { ws, store };
}

function preToolUse(ws: string, toolUseId: string, command: string) {
  return JSON.stringify({ session_id: 'sess-1', cwd: ws, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command, description: 'd' }, tool_use_id: toolUseId });
}

test('a known-safe Bash call is allowed, rewritten to warden exec --request, and that request runs exactly once', () => {
  const s = scratch();
  const r = warden(['hook', 'claude-code', '--store', s.store], { cwd: s.ws, input: preToolUse(s.ws, 'toolu_A', 'echo hi') });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout).hookSpecificOutput;
  assert.equal(out.permissionDecision, 'allow');
  assert.equal(out.updatedInput.description, 'd');
  const argv = parse(out.updatedInput.command) as string[];
  const i = argv.indexOf('exec');
  const requestId = argv[argv.indexOf('--request') + 1]!;
  assert.deepEqual(argv.slice(argv.indexOf('--') + 1), ['bash', '-c', 'echo hi']);
  // Another command under the same id: refused, nothing recorded for it.
  const other = warden([...argv.slice(i, argv.indexOf('--')), '--', 'bash', '-c', 'echo bye'], { cwd: s.ws });
  assert.equal(other.code, 126);
  assert.match(other.stderr, /different command/);
  const run = warden(argv.slice(i), { cwd: s.ws });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'hi\n');
  const again = warden(argv.slice(i), { cwd: s.ws });
  assert.equal(again.code, 126);
  assert.equal(again.stdout, '');
  const [row] = auditRows(s.store);
  assert.equal(row!.request_id, requestId);
  assert.equal(row!.client_call_id, 'toolu_A');
  assert.equal(row!.surface, 'hook:claude-code');
  assert.equal(row!.session_id, 'claude-code:sess-1');
  assert.equal(row!.outcome, 'completed');
  assert.equal(row!.exit_code, 0);
  assert.equal(warden(['replay', '--all', '--store', s.store]).code, 0);
});

test('a request made elsewhere cannot be run with --request', () => {
  const s = scratch();
  assert.equal(warden(['exec', '--store', s.store, '--', 'true'], { cwd: s.ws }).code, 0);
  const [row] = auditRows(s.store);
  const forged = warden(['exec', '--store', s.store, '--request', String(row!.request_id), '--', 'true'], { cwd: s.ws });
  assert.equal(forged.code, 126);
  assert.match(forged.stderr, /not handed to warden exec/);
  const unknown = warden(['exec', '--store', s.store, '--request', 'no-such-id', '--', 'true'], { cwd: s.ws });
  assert.equal(unknown.code, 126);
});

test('rejected is a deny with the reason; nobody deciding is a deny at the timeout; garbage blocks with exit 2', () => {
  const s = scratch();
  const rejected = warden(['hook', 'claude-code', '--store', s.store, '--approval', 'never'], { cwd: s.ws, input: preToolUse(s.ws, 'toolu_B', 'rm -rf ~') });
  assert.equal(rejected.code, 0, rejected.stderr);
  const deny = JSON.parse(rejected.stdout).hookSpecificOutput;
  assert.equal(deny.permissionDecision, 'deny');
  assert.match(deny.permissionDecisionReason, /not run/);
  const waited = warden(['hook', 'claude-code', '--store', s.store, '--approval', 'untrusted', '--decision-timeout', '1'], {
    cwd: s.ws,
    input: preToolUse(s.ws, 'toolu_C', 'touch x'),
  });
  assert.equal(JSON.parse(waited.stdout).hookSpecificOutput.permissionDecision, 'deny');
  for (const input of ['not json', '{}', JSON.stringify({ session_id: 's', cwd: s.ws, hook_event_name: 'PreToolUse', tool_name: 'Unknown', tool_input: {} })]) {
    const r = warden(['hook', 'claude-code', '--store', s.store], { cwd: s.ws, input });
    assert.equal(r.code, 2, input);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /blocked \(fail closed\)/);
  }
  const rows = auditRows(s.store);
  assert.deepEqual(rows.map((r) => [r.client_call_id, r.outcome, r.decision_source]), [
    ['toolu_B', 'rejected', null],
    ['toolu_C', 'rejected', 'timeout'],
  ]);
});

test('--ask client: the question goes to Claude Code\'s prompt; the tool running is recorded as the client\'s approval, a PermissionDenied as its denial', () => {
  const s = scratch();
  const ask = ['hook', 'claude-code', '--store', s.store, '--approval', 'untrusted', '--ask', 'client'];
  const asked = warden(ask, { cwd: s.ws, input: preToolUse(s.ws, 'toolu_ASK', 'touch made.txt') });
  assert.equal(asked.code, 0, asked.stderr);
  const out = JSON.parse(asked.stdout).hookSpecificOutput;
  assert.equal(out.permissionDecision, 'ask');
  assert.equal(out.updatedInput, undefined, 'the client runs it as it is: nothing to rewrite');
  const post = { session_id: 'sess-1', cwd: s.ws, hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_input: { command: 'touch made.txt' }, tool_use_id: 'toolu_ASK', tool_response: { stdout: '', stderr: '', interrupted: false } };
  assert.equal(warden(['hook', 'claude-code', '--store', s.store], { cwd: s.ws, input: JSON.stringify(post) }).code, 0);

  assert.equal(warden(ask, { cwd: s.ws, input: preToolUse(s.ws, 'toolu_NO', 'touch refused.txt') }).code, 0);
  const refused = { session_id: 'sess-1', cwd: s.ws, hook_event_name: 'PermissionDenied', tool_name: 'Bash', tool_input: { command: 'touch refused.txt' }, tool_use_id: 'toolu_NO', reason: 'the user said no' };
  assert.equal(warden(['hook', 'claude-code', '--store', s.store], { cwd: s.ws, input: JSON.stringify(refused) }).code, 0);
  // A second report for a call already closed changes nothing.
  assert.equal(warden(['hook', 'claude-code', '--store', s.store], { cwd: s.ws, input: JSON.stringify(post) }).code, 0);
  // A call the client never ran and never reported (as in -p) is closed when the turn ends.
  assert.equal(warden(ask, { cwd: s.ws, input: preToolUse(s.ws, 'toolu_LEFT', 'touch left.txt') }).code, 0);
  const stop = warden(['hook', 'claude-code', '--store', s.store], { cwd: s.ws, input: JSON.stringify({ session_id: 'sess-1', cwd: s.ws, hook_event_name: 'Stop', stop_hook_active: false, transcript_path: '/x' }) });
  assert.deepEqual([stop.code, stop.stdout], [0, '']);
  // Stop never blocks, even when the store cannot be opened (exit 2 would keep the agent going).
  const noStore = warden(['hook', 'claude-code', '--store', join(s.ws, 'no', 'such', 'dir', 'x.db')], { cwd: s.ws, input: JSON.stringify({ session_id: 'sess-1', cwd: s.ws, hook_event_name: 'Stop' }) });
  assert.equal(noStore.code, 0, noStore.stderr);

  const rows = new Map(auditRows(s.store).map((r) => [r.client_call_id, r]));
  const ran = rows.get('toolu_ASK')!;
  assert.deepEqual([ran.outcome, ran.decision, ran.decision_source, ran.decided_by, ran.exit_code, ran.sandbox_used], ['completed', 'approved', 'client', 'hook:claude-code', 0, 'none']);
  const no = rows.get('toolu_NO')!;
  assert.deepEqual([no.outcome, no.decision, no.decision_source, no.decided_by], ['rejected', 'denied', 'client', 'hook:claude-code']);
  assert.match(String(no.reason), /the user said no/);
  const left = rows.get('toolu_LEFT')!;
  assert.deepEqual([left.outcome, left.decision, left.decision_source], ['rejected', 'denied', 'client']);
  assert.match(String(left.reason), /turn ended/);
  assert.equal(warden(['replay', '--all', '--store', s.store]).code, 0);
  assert.equal(warden(['verify', '--store', s.store]).code, 0);
});
