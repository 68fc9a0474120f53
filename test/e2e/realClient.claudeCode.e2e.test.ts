/**
 * The real Claude Code (pinned, installed from npm into a cache outside the repository) configured
 * by `warden init claude-code` in a scratch project and home, driven in `-p` by a fake Anthropic
 * Messages API on 127.0.0.1 that plays the model. One session calls warden's MCP `shell` and
 * Claude Code's own Bash and Write tools: a known-safe command (runs in warden's sandbox), one that
 * needs a person (answered with `warden approve` from outside while the hook waits), one a rule
 * forbids (through both), an edit approved by the person, and an MCP question that `-p` dismisses by itself. It
 * asserts what ran (files on disk), what the model was told, and the audit rows: surface, session,
 * Claude Code's tool_use id, and who decided (the person, the policy, or the client by itself,
 * never the client's dismissal recorded as the person's). An install that fails fails the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditRows, warden } from '../support/cli.ts';
import { approver } from '../support/approver.ts';
import { anthropicToolResults, fakeAnthropic, type FakeModel } from '../support/fakeModels.ts';
import { clientScratch, installClient, runClient, type ClientRun } from '../support/realClients.ts';

const scratch = () => clientScratch('claude-code');

/** Runs `claude -p` to the end against the fake model; the client's own network is only the fake. */
function runClaude(claude: string, s: ReturnType<typeof scratch>, model: FakeModel): Promise<ClientRun> {
  return runClient(claude, ['-p', 'do the scripted steps', '--model', 'claude-sonnet-4-5', '--allowedTools', 'mcp__warden__shell', '--output-format', 'json'], {
    cwd: s.proj,
    env: {
      PATH: process.env.PATH,
      HOME: s.home,
      ANTHROPIC_BASE_URL: model.url,
      ANTHROPIC_API_KEY: 'sk-ant-fake',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      WARDEN_LOG: 'warn',
    },
  }, 240_000);
}

test('Claude Code 2.1.197 -p, set up by warden init: MCP and built-in tools go through warden, and the record says who decided', async () => {
  const claude = installClient('claude-code');
  const s = scratch();
  const init = warden(['init', 'claude-code', '--store', s.store, '--approval', 'untrusted'], { cwd: s.proj, env: { HOME: s.home } });
  assert.equal(init.code, 0, init.stderr);

  const written = join(s.proj, 'written.txt');
  const model = await fakeAnthropic([
    /* 0 */ { tool: 'mcp__warden__shell', input: { command: ['ls'] } },
    /* 1 */ { tool: 'Bash', input: { command: 'ls', description: 'list the project' } },
    /* 2 */ { tool: 'Bash', input: { command: 'touch by-person.txt', description: 'make a file' } },
    /* 3 */ { tool: 'Bash', input: { command: 'curl -s http://127.0.0.1:9/x', description: 'download' } },
    /* 4 */ { tool: 'Write', input: { file_path: written, content: 'hello from the model\n' } },
    /* 5 */ { tool: 'mcp__warden__shell', input: { command: ['touch', 'mcp-asked.txt'] } },
    /* 6 */ { tool: 'mcp__warden__shell', input: { command: ['curl', '-s', 'http://127.0.0.1:9/x'] } },
    /* 7 */ { text: 'done' },
  ]);
  const person = approver(s.store, (row) => JSON.stringify(row.command ?? '').includes('by-person.txt') || JSON.stringify(row.files ?? '').includes('written.txt'));
  let run;
  try {
    run = await runClaude(claude, s, model);
  } finally {
    await model.close();
  }
  const decided = await person.stop();
  assert.equal(run.code, 0, `claude -p failed:\n${run.stdout}\n${run.stderr}`);
  assert.equal(decided.length, 2, 'the person decided the Bash touch and the Write');

  // What ran.
  assert.equal(existsSync(join(s.proj, 'by-person.txt')), true);
  assert.equal(readFileSync(written, 'utf8'), 'hello from the model\n');
  assert.equal(existsSync(join(s.proj, 'mcp-asked.txt')), false);

  // What the model was told.
  const told = anthropicToolResults(model);
  assert.match(told.get('toolu_warden_0')!.text, /ran and exited with code 0/);
  assert.match(told.get('toolu_warden_1')!.text, /seed\.txt/);
  assert.equal(told.get('toolu_warden_2')!.isError, false);
  assert.equal(told.get('toolu_warden_3')!.isError, true);
  assert.match(told.get('toolu_warden_3')!.text, /no downloads in this project/);
  assert.equal(told.get('toolu_warden_4')!.isError, false);
  assert.match(told.get('toolu_warden_5')!.text, /not run/i);
  assert.doesNotMatch(told.get('toolu_warden_5')!.text, /The person said no/);
  assert.match(told.get('toolu_warden_6')!.text, /no downloads in this project/);

  // The record: one row per call, joined to Claude Code's transcript by its tool_use id.
  const rows = new Map(auditRows(s.store).map((r) => [String(r.client_call_id), r]));
  const row = (n: number) => rows.get(`toolu_warden_${n}`)!;
  assert.equal(rows.size, 7);
  assert.deepEqual([row(0).surface, row(0).outcome, row(0).decision_source], ['mcp', 'completed', 'policy']);
  assert.deepEqual([row(1).surface, row(1).outcome, row(1).decision_source, row(1).exit_code], ['hook:claude-code', 'completed', 'policy', 0]);
  assert.deepEqual(row(1).command, ['bash', '-c', 'ls']);
  assert.match(String(row(1).session_id), /^claude-code:[0-9a-f-]{36}$/);
  assert.deepEqual([row(2).outcome, row(2).decision, row(2).decision_source], ['completed', 'approved', 'user']);
  assert.deepEqual([row(3).outcome, row(3).decision_source], ['rejected', null]);
  assert.deepEqual([row(4).kind, row(4).outcome, row(4).decision_source, row(4).exit_code], ['patch', 'completed', 'user', 0]);
  // `-p` dismisses warden's question by itself: recorded as the client's, not as a person's decision.
  assert.deepEqual([row(5).outcome, row(5).decision, row(5).decision_source, row(5).decided_by], ['rejected', 'denied', 'client-auto', 'mcp:claude-code']);
  assert.deepEqual([row(6).surface, row(6).outcome, row(6).decision_source], ['mcp', 'rejected', null]);
  assert.equal(warden(['verify', '--store', s.store]).code, 0);
});
