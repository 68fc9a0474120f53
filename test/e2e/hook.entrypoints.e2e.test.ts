/**
 * The same shell corpus through all three hook formats, as laws (issue #15: the hooks are entry
 * points like any other). Each script goes in as Claude Code's Bash, Codex's Bash and Gemini's
 * run_shell_command, under `--approval untrusted` with nobody to decide (`--decision-timeout 1`):
 * - the hooks' verdict on known-safe / dangerous equals `warden classify` of `bash -c <script>`;
 * - no hook lets a call run (allow, or Codex's empty answer) unless its request is recorded as
 *   approved, and every call it lets run is recorded approved: answer and record never disagree;
 * - the three formats, all rewriting approved commands into warden's sandbox, give the same outcome.
 * Real processes, one store per client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quote } from 'shell-quote';
import { warden } from '../support/cli.ts';
import { wardenAsync } from '../support/cliAsync.ts';
import { readEvents } from './mcp.harness.ts';

const SCRIPTS: string[] = [
  'ls -la',
  'ls && pwd',
  'git status',
  "find . -exec sh -c 'rm -rf x' ';'",
  'rm -rf x',
  'sudo git reset --hard',
  'git --shallow-file x clean -fdx',
  'sort -o out in',
  'git diff HEAD~3 -- src/',
  'rg -n foo src/*.ts',
  'env -S"rm -rf x"',
  'echo hi > out.txt',
  'cat /etc/hostname | wc -l',
  quote(['bash', '-c', 'rm -rf /']),
];

type Client = 'claude-code' | 'codex' | 'gemini';

function inputFor(client: Client, ws: string, n: number, script: string): string {
  if (client === 'gemini') return JSON.stringify({ session_id: 'g', cwd: ws, hook_event_name: 'BeforeTool', timestamp: '2026-12-02T00:00:00Z', tool_name: 'run_shell_command', tool_input: { command: script, description: `line ${n}` } });
  if (client === 'codex') return JSON.stringify({ session_id: 'c', turn_id: 't', cwd: ws, hook_event_name: 'PreToolUse', model: 'm', permission_mode: 'default', tool_name: 'Bash', tool_input: { command: script }, tool_use_id: `call_${n}`, transcript_path: null });
  return JSON.stringify({ session_id: 'k', cwd: ws, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: script }, tool_use_id: `toolu_${n}` });
}

/** Whether the client will run the call after this answer. */
function letsRun(client: Client, code: number | null, stdout: string): boolean {
  if (code !== 0) return false;
  if (client === 'codex' && stdout.trim() === '') return true;
  const a = JSON.parse(stdout) as { decision?: string; hookSpecificOutput?: { permissionDecision?: string } };
  return client === 'gemini' ? a.decision === 'allow' : a.hookSpecificOutput?.permissionDecision === 'allow';
}

test('one corpus through the three hook formats: the same verdict as classify, and no call runs without a recorded approval', async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-hook-entry-')));
  const env = { XDG_CONFIG_HOME: dir }; // no user rules
  const classify = warden(['classify', '--approval', 'untrusted'], { cwd: dir, env, input: SCRIPTS.map((s) => JSON.stringify({ command: ['bash', '-c', s], cwd: dir })).join('\n') + '\n' });
  assert.equal(classify.code, 0, classify.stderr);
  const expected = classify.stdout.trim().split('\n').map((l) => JSON.parse(l) as { known_safe: boolean; dangerous: boolean });

  const outcomes: Record<Client, string[]> = { 'claude-code': [], codex: [], gemini: [] };
  for (const client of ['claude-code', 'codex', 'gemini'] as const) {
    const store = join(dir, `${client}.db`);
    const answers: Array<{ code: number | null; stdout: string; stderr: string }> = [];
    // Three at a time: each is a cold process; the store takes concurrent appends. The first call
    // runs alone: it creates the store, and this test is about verdicts, not a creation race.
    for (let i = 0, size = 1; i < SCRIPTS.length; i += size, size = 3) {
      const batch = SCRIPTS.slice(i, i + size).map((script, k) =>
        wardenAsync(['hook', client, '--store', store, '--approval', 'untrusted', '--decision-timeout', '1'], { cwd: dir, env, input: inputFor(client, dir, i + k, script), timeoutMs: 90_000 }),
      );
      answers.push(...(await Promise.all(batch)));
    }
    const events = await readEvents(store);
    const streams = [...new Set(events.map((e) => e.stream))];
    assert.equal(streams.length, SCRIPTS.length, `${client}: one request per call`);
    for (const [i, script] of SCRIPTS.entries()) {
      const a = answers[i]!;
      assert.equal(a.code, 0, `${client} ${script}: ${a.stderr}`);
      const asked = events.find((e) => e.type === 'ApprovalRequested' && e.data.kind === 'exec' && e.data.command?.[2] === script)!;
      assert.ok(asked, `${client} ${script}: no request`);
      const own = events.filter((e) => e.stream === asked.stream);
      const classified = own.find((e) => e.type === 'Classified')!;
      if (classified.type !== 'Classified') throw new Error('no Classified');
      assert.deepEqual({ known_safe: classified.data.knownSafe, dangerous: classified.data.dangerous }, { known_safe: expected[i]!.known_safe, dangerous: expected[i]!.dangerous }, `${client} ${script}`);
      const decision = own.find((e) => e.type === 'DecisionRecorded');
      const approved = decision?.type === 'DecisionRecorded' && ['approved', 'approved_for_session', 'approved_always'].includes(decision.data.decision);
      // The safety law: the client runs the call exactly when the record says it was approved.
      assert.equal(letsRun(client, a.code, a.stdout), approved, `${client} ${script}: answer ${a.stdout.trim()} vs decision ${JSON.stringify(decision?.data)}`);
      if (approved) assert.match(a.stdout, /exec.*--request/, `${client} ${script}: an approved command runs through warden`);
      outcomes[client].push(classified.data.outcome);
    }
  }
  assert.deepEqual(outcomes.gemini, outcomes['claude-code'], 'the rewriting formats agree');
  assert.deepEqual(outcomes.codex, outcomes['claude-code'], 'the rewriting formats agree');
});
