/**
 * The real Codex CLI (pinned, installed from npm into a cache outside the repository; about 400 MB)
 * configured by `warden init codex --user` in a scratch CODEX_HOME, driven by `codex exec` against a
 * fake OpenAI Responses API (SSE) on 127.0.0.1. One session calls Codex's own exec_command and
 * warden's MCP `shell`: a known-safe command (the hook rewrites it to `warden exec --request`, so
 * it runs in warden's sandbox), one that
 * needs a person (the hook waits for `warden approve`), one a rule forbids (the hook denies, in
 * Codex's words), a known-safe MCP call, and an MCP question that `codex exec` declines by itself.
 *
 * Two settings are the test's, not init's: `--dangerously-bypass-hook-trust` (Codex 0.171 runs a
 * new hook only after the person reviewed it in its TUI, which a headless test cannot do) and
 * Codex's `danger-full-access` sandbox (warden's sandbox is the one: inside Codex's own,
 * `warden exec` could not write its store; and Codex's bwrap cannot start its helper on this machine). An install that fails fails the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approver } from '../support/approver.ts';
import { auditRows, warden } from '../support/cli.ts';
import { fakeResponses, responsesToolResults, type FakeModel } from '../support/fakeModels.ts';
import { clientScratch, installClient, runClient, type ClientRun } from '../support/realClients.ts';

function scratch() {
  const s = clientScratch('codex');
  const codexHome = join(s.home, '.codex');
  mkdirSync(codexHome, { recursive: true });
  return { ...s, codexHome };
}

/** The person's own Codex settings (model provider, trust): init merges warden's block after them. */
function userConfig(s: ReturnType<typeof scratch>, model: FakeModel): void {
  writeFileSync(
    join(s.codexHome, 'config.toml'),
    `# the person's settings
model = "gpt-5-codex"
model_provider = "fake"
approval_policy = "never"
sandbox_mode = "danger-full-access"

[model_providers.fake]
name = "fake"
base_url = "${model.url}/v1"
wire_api = "responses"
env_key = "FAKE_OPENAI_KEY"
request_max_retries = 0
stream_max_retries = 0

[projects."${s.proj}"]
trust_level = "trusted"
`,
  );
}

function runCodex(codex: string, s: ReturnType<typeof scratch>): Promise<ClientRun> {
  return runClient(codex, ['exec', '--skip-git-repo-check', '--dangerously-bypass-hook-trust', 'do the scripted steps'], {
    cwd: s.proj,
    env: { PATH: process.env.PATH, HOME: s.home, CODEX_HOME: s.codexHome, FAKE_OPENAI_KEY: 'fake-key', WARDEN_LOG: 'warn', RUST_LOG: 'error' },
  }, 300_000);
}

test('Codex 0.171.0 exec, set up by warden init: exec_command and MCP calls go through warden, and the record says who decided', async () => {
  const codex = installClient('codex');
  const s = scratch();
  const model = await fakeResponses([
    /* 0 */ { tool: 'exec_command', input: { cmd: 'ls' } },
    /* 1 */ { tool: 'exec_command', input: { cmd: 'touch by-person.txt' } },
    /* 2 */ { tool: 'exec_command', input: { cmd: 'curl -s http://127.0.0.1:9/x' } },
    /* 3 */ { tool: 'mcp__warden__shell', input: { command: ['ls'] } },
    /* 4 */ { tool: 'mcp__warden__shell', input: { command: ['touch', 'mcp-asked.txt'] } },
    /* 5 */ { text: 'done' },
  ]);
  userConfig(s, model);
  const init = warden(['init', 'codex', '--user', '--store', s.store, '--approval', 'untrusted'], { cwd: s.proj, env: { HOME: s.home, CODEX_HOME: s.codexHome } });
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /review/, 'init tells the person that Codex must trust the new hooks');

  const person = approver(s.store, (row) => JSON.stringify(row.command ?? '').includes('by-person.txt'));
  let run;
  try {
    run = await runCodex(codex, s);
  } finally {
    await model.close();
  }
  const decided = await person.stop();
  assert.equal(run.code, 0, `codex exec failed:\n${run.stdout}\n${run.stderr}`);
  assert.equal(decided.length, 1);

  assert.equal(existsSync(join(s.proj, 'by-person.txt')), true);
  assert.equal(existsSync(join(s.proj, 'mcp-asked.txt')), false);

  const told = responsesToolResults(model);
  assert.match(told.get('call_warden_0')!, /seed\.txt/);
  assert.match(told.get('call_warden_2')!, /no downloads in this project/);
  assert.doesNotMatch(told.get('call_warden_2')!, /Process exited/);
  assert.match(told.get('call_warden_3')!, /ran and exited with code 0/);
  assert.doesNotMatch(told.get('call_warden_4')!, /The person said no/);

  const rows = new Map(auditRows(s.store).map((r) => [String(r.client_call_id), r]));
  const row = (n: number) => rows.get(`call_warden_${n}`)!;
  // Approved commands are rewritten to warden exec --request: they ran in warden's sandbox.
  assert.deepEqual([row(0).surface, row(0).decision_source, row(0).command, row(0).outcome, row(0).exit_code, row(0).sandbox_used], ['hook:codex', 'policy', ['bash', '-c', 'ls'], 'completed', 0, 'bwrap']);
  assert.match(String(row(0).session_id), /^codex:/);
  assert.deepEqual([row(1).decision, row(1).decision_source], ['approved', 'user']);
  assert.deepEqual([row(2).outcome, row(2).decision_source], ['rejected', null]);
  assert.deepEqual([row(3).surface, row(3).outcome, row(3).decision_source], ['mcp', 'completed', 'policy']);
  // `codex exec` declines warden's question by itself: the client's answer, never the person's.
  assert.deepEqual([row(4).outcome, row(4).decision, row(4).decision_source], ['rejected', 'denied', 'client-auto']);
  assert.equal(warden(['verify', '--store', s.store]).code, 0);
});
