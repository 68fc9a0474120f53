/**
 * The real Gemini CLI (pinned, installed from npm into a cache outside the repository) configured
 * by `warden init gemini --user` in a scratch home, driven headless (`gemini -p`) by a fake Gemini
 * API (streamGenerateContent, SSE) on 127.0.0.1. One session calls warden's MCP `shell` and Gemini's
 * own run_shell_command and write_file: a known-safe command (rewritten to run in warden's sandbox),
 * one that needs a person (answered with `warden approve` from outside: Gemini declares no MCP
 * elicitation and its hooks cannot show warden's question), one a rule forbids, an edit the person
 * approves, and an MCP call the person approves out of band. It asserts what ran, what the model
 * was told and the audit rows. An install that fails fails the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approver } from '../support/approver.ts';
import { auditRows, warden } from '../support/cli.ts';
import { fakeGemini, geminiToolResults, type FakeModel } from '../support/fakeModels.ts';
import { clientScratch, installClient, runClient, type ClientRun } from '../support/realClients.ts';

const scratch = () => clientScratch('gemini');

function runGemini(gemini: string, s: ReturnType<typeof scratch>, model: FakeModel): Promise<ClientRun> {
  return runClient(gemini, ['-p', 'do the scripted steps', '-m', 'gemini-2.5-flash', '--yolo', '--output-format', 'json'], {
    cwd: s.proj,
    env: { PATH: process.env.PATH, HOME: s.home, GOOGLE_GEMINI_BASE_URL: model.url, GEMINI_API_KEY: 'fake-key', GEMINI_CLI_NO_RELAUNCH: 'true', WARDEN_LOG: 'warn' },
  }, 300_000);
}

test('Gemini CLI 0.61.0 -p, set up by warden init: MCP and built-in tools go through warden, and the record says who decided', async () => {
  const gemini = installClient('gemini');
  const s = scratch();
  const init = warden(['init', 'gemini', '--user', '--store', s.store, '--approval', 'untrusted'], { cwd: s.proj, env: { HOME: s.home } });
  assert.equal(init.code, 0, init.stderr);
  // What the person sets up for Gemini itself: an API key login and a trusted project folder.
  const settingsPath = join(s.home, '.gemini', 'settings.json');
  const settings = JSON.parse(readFileSync(settingsPath, 'utf8'));
  writeFileSync(settingsPath, JSON.stringify({ ...settings, security: { auth: { selectedType: 'gemini-api-key' } } }, null, 2));
  writeFileSync(join(s.home, '.gemini', 'trustedFolders.json'), JSON.stringify({ [s.proj]: 'TRUST_FOLDER' }));

  const written = join(s.proj, 'written.txt');
  const model = await fakeGemini([
    /* 0 */ { tool: 'mcp_warden_shell', input: { command: ['ls'] } },
    /* 1 */ { tool: 'run_shell_command', input: { command: 'ls', description: 'list the project' } },
    /* 2 */ { tool: 'run_shell_command', input: { command: 'touch by-person.txt', description: 'make a file' } },
    /* 3 */ { tool: 'run_shell_command', input: { command: 'curl -s http://127.0.0.1:9/x', description: 'download' } },
    /* 4 */ { tool: 'write_file', input: { file_path: written, content: 'hello from the model\n' } },
    /* 5 */ { tool: 'mcp_warden_shell', input: { command: ['touch', 'mcp-approved.txt'] } },
    /* 6 */ { text: 'done' },
  ]);
  const person = approver(s.store, (row) => /by-person\.txt|written\.txt|mcp-approved\.txt/.test(JSON.stringify([row.command, row.files])));
  let run;
  try {
    run = await runGemini(gemini, s, model);
  } finally {
    await model.close();
  }
  const decided = await person.stop();
  assert.equal(run.code, 0, `gemini -p failed:\n${run.stdout}\n${run.stderr}`);
  assert.equal(decided.length, 3, 'the person decided the touch, the write and the MCP touch');

  assert.equal(existsSync(join(s.proj, 'by-person.txt')), true);
  assert.equal(readFileSync(written, 'utf8'), 'hello from the model\n');
  assert.equal(existsSync(join(s.proj, 'mcp-approved.txt')), true);

  const told = geminiToolResults(model).map((r) => JSON.stringify(r.response));
  assert.equal(told.length, 6);
  assert.match(told[0]!, /ran and exited with code 0/);
  assert.match(told[1]!, /seed\.txt/);
  assert.match(told[3]!, /no downloads in this project/);
  assert.doesNotMatch(told[3]!, /Output:/);

  const rows = auditRows(s.store);
  const hook = rows.filter((r) => r.surface === 'hook:gemini');
  const mcp = rows.filter((r) => r.surface === 'mcp');
  assert.equal(hook.length, 4);
  assert.equal(mcp.length, 2);
  const by = (text: string) => rows.find((r) => JSON.stringify([r.command, r.files]).includes(text))!;
  const ls = hook.find((r) => JSON.stringify(r.command) === '["bash","-c","ls"]')!;
  assert.deepEqual([ls.outcome, ls.decision_source, ls.exit_code], ['completed', 'policy', 0]);
  assert.match(String(ls.session_id), /^gemini:[0-9a-f-]{36}$/);
  assert.deepEqual([mcp[0]!.command, mcp[0]!.outcome, mcp[0]!.decision_source], [['ls'], 'completed', 'policy']);
  assert.deepEqual([by('by-person.txt').outcome, by('by-person.txt').decision_source], ['completed', 'user']);
  assert.deepEqual([by('curl').outcome, by('curl').decision_source], ['rejected', null]);
  assert.deepEqual([by('written.txt').kind, by('written.txt').outcome, by('written.txt').decision_source], ['patch', 'completed', 'user']);
  assert.deepEqual([by('mcp-approved.txt').outcome, by('mcp-approved.txt').decision_source], ['completed', 'user']);
  assert.equal(warden(['verify', '--store', s.store]).code, 0);
});
