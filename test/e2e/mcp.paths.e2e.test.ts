/**
 * Every path through `warden serve` with a raw client over real stdio: auto-approve, sandboxed run,
 * ask then each decision, session cache, always-allow, escalation, sandbox-denial escalation,
 * patches approved and denied, and protocol misuse. One server per policy, many cases each.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorkspace, readEvents, startServer, type ElicitReply, type Elicitation, type RawClient, type Workspace, outputOf } from './mcp.harness.ts';

const accept = (decision: string): ElicitReply => ({ result: { action: 'accept', content: { decision } } });

function decisionOf(events: Awaited<ReturnType<typeof readEvents>>) {
  const d = events.find((e) => e.type === 'DecisionRecorded');
  return d && d.type === 'DecisionRecorded' ? d.data : undefined;
}

function types(events: Awaited<ReturnType<typeof readEvents>>) {
  return events.map((e) => e.type);
}

/** A server whose elicitation answer each test sets before its call. */
async function serverWith(w: Workspace, args: string[]) {
  const state: { reply: (e: Elicitation) => ElicitReply } = { reply: () => ({ result: { action: 'decline' } }) };
  const client = await startServer(w, { args, onElicit: (e) => state.reply(e) });
  return { client, state };
}

async function finish(client: RawClient) {
  const code = await client.close();
  assert.equal(code, 0, client.stderr.slice(-2000));
  assert.deepEqual(client.nonProtocolLines, [], 'stdout carries only JSON-RPC');
}

describe('untrusted: ask, then each decision', () => {
  let w: Workspace;
  let s: Awaited<ReturnType<typeof serverWith>>;
  before(async () => {
    w = makeWorkspace();
    s = await serverWith(w, ['--approval', 'untrusted', '--sandbox', 'workspace-write']);
  });
  after(async () => finish(s.client));

  test('tools/list offers shell and apply_patch with described schemas', async () => {
    const res = await s.client.request('tools/list');
    const tools = res.result.tools as Array<{ name: string; inputSchema: any; description: string }>;
    assert.deepEqual(tools.map((t) => t.name), ['shell', 'apply_patch']);
    const shell = tools[0]!;
    assert.deepEqual(shell.inputSchema.required, ['command']);
    for (const key of ['command', 'workdir', 'timeout_ms', 'with_escalated_permissions', 'justification']) {
      assert.ok(shell.inputSchema.properties[key]?.description, `${key} is described`);
    }
  });

  test('known-safe: auto-approved, runs in the read-only sandbox, nobody asked', async () => {
    writeFileSync(join(w.ws, 'hello.txt'), 'hi there\n');
    const before = s.client.elicitations.length;
    const r = await s.client.call('shell', { command: ['cat', 'hello.txt'] });
    assert.equal(r.isError, false);
    assert.equal(outputOf(r), 'hi there\n');
    assert.equal(r.structuredContent.exitCode, 0);
    assert.deepEqual(r.structuredContent.decision, { decision: 'approved', source: 'policy', reason: 'known-safe read-only command' });
    assert.deepEqual(r.structuredContent.sandbox, { type: 'bwrap', mode: 'read-only' });
    assert.match(r.content[0].text, /--- stdout ---\nhi there/);
    assert.equal(r.structuredContent.stdout, undefined, 'the output is sent once');
    assert.equal(s.client.elicitations.length, before);
    const events = await readEvents(w.storePath, r.structuredContent.requestId);
    assert.deepEqual(types(events), ['ApprovalRequested', 'Classified', 'DecisionRecorded', 'ExecutionStarted', 'ExecutionFinished']);
  });

  test('approved: asked with the Codex fields, then runs', async () => {
    let asked: Elicitation | undefined;
    s.state.reply = (e) => ((asked = e), accept('approved'));
    const r = await s.client.call('shell', { command: ['touch', 'approved.txt'], justification: 'needed for the test' });
    assert.equal(r.isError, false, r.content[0].text);
    assert.ok(existsSync(join(w.ws, 'approved.txt')));
    assert.ok(asked);
    const p = asked.params as any;
    assert.equal(p.codex_elicitation, 'exec-approval');
    assert.deepEqual(p.codex_command, ['touch', 'approved.txt']);
    assert.equal(p.codex_cwd, w.ws);
    assert.equal(p.codex_reason, 'needed for the test');
    assert.equal(p.codex_event_id, r.structuredContent.requestId);
    assert.equal(typeof p.codex_mcp_tool_call_id, 'string');
    assert.ok(Array.isArray(p.codex_parsed_cmd));
    assert.match(p.message, /touch approved\.txt/);
    assert.match(p.message, /not a known-safe/);
    assert.match(p.message, /needed for the test/);
    assert.deepEqual(p.requestedSchema.required, ['decision']);
    assert.ok(p.requestedSchema.properties.decision.enum.includes('approved'));
    const events = await readEvents(w.storePath, r.structuredContent.requestId);
    assert.deepEqual(types(events), ['ApprovalRequested', 'Classified', 'DecisionRequested', 'DecisionRecorded', 'ExecutionStarted', 'ExecutionFinished']);
    const d = decisionOf(events)!;
    assert.deepEqual([d.decision, d.source, d.user], ['approved', 'client', 'mcp:raw-test-client']);
    assert.equal(d.raw, JSON.stringify({ action: 'accept', content: { decision: 'approved' } }));
  });

  test('approved_for_session: the identical repeat runs from the session cache without asking', async () => {
    s.state.reply = () => accept('approved_for_session');
    const first = await s.client.call('shell', { command: ['touch', 'session.txt'] });
    assert.equal(first.isError, false);
    const asked = s.client.elicitations.length;
    s.state.reply = () => accept('denied'); // would deny if it asked again
    const second = await s.client.call('shell', { command: ['touch', 'session.txt'] });
    assert.equal(second.isError, false, second.content[0].text);
    assert.equal(s.client.elicitations.length, asked, 'not asked again');
    assert.equal(second.structuredContent.decision.source, 'session-cache');
    const events = await readEvents(w.storePath, second.structuredContent.requestId);
    assert.equal(decisionOf(events)!.source, 'session-cache');
    // A different command is asked again.
    const other = await s.client.call('shell', { command: ['touch', 'session-other.txt'] });
    assert.equal(other.isError, true);
    assert.equal(s.client.elicitations.length, asked + 1);
  });

  test('denied: isError, the sentence says the answer in the client was no, nothing ran', async () => {
    s.state.reply = () => accept('denied');
    const r = await s.client.call('shell', { command: ['touch', 'denied.txt'] });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /^The answer in the MCP client was no/);
    assert.equal(r.structuredContent.state, 'rejected');
    assert.equal(existsSync(join(w.ws, 'denied.txt')), false);
    const events = await readEvents(w.storePath, r.structuredContent.requestId);
    assert.deepEqual([decisionOf(events)!.decision, decisionOf(events)!.source], ['denied', 'client']);
    assert.ok(!types(events).includes('ExecutionStarted'));
  });

  for (const action of ['decline', 'cancel']) {
    test(`${action}: a denial by the client, never called the person's`, async () => {
      s.state.reply = () => ({ result: { action } });
      const r = await s.client.call('shell', { command: ['touch', `${action}.txt`] });
      assert.equal(r.isError, true);
      assert.match(r.content[0].text, action === 'cancel' ? /^Nobody approved this: the MCP client dismissed the question/ : /^The answer in the MCP client was no/);
      assert.doesNotMatch(r.content[0].text, /person said no/);
      assert.equal(existsSync(join(w.ws, `${action}.txt`)), false);
      const d = decisionOf(await readEvents(w.storePath, r.structuredContent.requestId))!;
      assert.deepEqual([d.decision, d.source], ['denied', 'client']);
      assert.match(d.reason ?? '', action === 'decline' ? /declined/ : /dismissed/);
    });
  }

  test('abort: isError, aborted, tells the agent to stop', async () => {
    s.state.reply = () => accept('abort');
    const r = await s.client.call('shell', { command: ['touch', 'abort.txt'] });
    assert.equal(r.isError, true);
    assert.equal(r.structuredContent.state, 'aborted');
    assert.match(r.content[0].text, /aborted.*Stop/);
    assert.equal(existsSync(join(w.ws, 'abort.txt')), false);
    const events = await readEvents(w.storePath, r.structuredContent.requestId);
    assert.ok(types(events).includes('Aborted'));
    assert.ok(!types(events).includes('ExecutionStarted'));
  });

  test('a JSON-RPC error as the answer: denied with source error', async () => {
    s.state.reply = () => ({ error: { code: -32603, message: 'client blew up' } });
    const r = await s.client.call('shell', { command: ['touch', 'rpc-error.txt'] });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /^Asking the person failed/);
    assert.equal(existsSync(join(w.ws, 'rpc-error.txt')), false);
    const d = decisionOf(await readEvents(w.storePath, r.structuredContent.requestId))!;
    assert.deepEqual([d.decision, d.source], ['denied', 'error']);
    assert.match(d.reason ?? '', /client blew up/);
    assert.match(d.raw ?? '', /-32603/);
  });

  test('a decision that was not offered is malformed: approved_always for an interpreter', async () => {
    let offered: string[] = [];
    s.state.reply = (e) => {
      offered = (e.params as any).requestedSchema.properties.decision.enum;
      return accept('approved_always');
    };
    const r = await s.client.call('shell', { command: ['python3', '-c', "open('not-offered.txt', 'w')"] });
    assert.ok(!offered.includes('approved_always'), `offered: ${offered}`);
    assert.equal(r.isError, true);
    assert.equal(existsSync(join(w.ws, 'not-offered.txt')), false);
    const d = decisionOf(await readEvents(w.storePath, r.structuredContent.requestId))!;
    assert.deepEqual([d.decision, d.source], ['denied', 'malformed']);
  });

  test('patch: approve applies it, deny leaves the files alone', async () => {
    let asked: any;
    s.state.reply = (e) => ((asked = e.params), accept('approved'));
    const patch = (name: string) => `*** Begin Patch\n*** Add File: ${name}\n+patched\n*** End Patch\n`;
    const ok = await s.client.call('apply_patch', { patch: patch('p-ok.txt') });
    assert.equal(ok.isError, false, ok.content[0].text);
    assert.equal(readFileSync(join(w.ws, 'p-ok.txt'), 'utf8'), 'patched\n');
    assert.equal(asked.codex_elicitation, 'patch-approval');
    assert.deepEqual(asked.codex_changes, { 'p-ok.txt': { type: 'add', content: 'patched\n' } });
    assert.match(asked.message, /Files: add .*p-ok\.txt[\s\S]*\+\+\+ p-ok\.txt\nnew file\n@@ -0,0 \+1,1 @@\n\+patched/);
    s.state.reply = () => accept('denied');
    const no = await s.client.call('apply_patch', { patch: patch('p-no.txt') });
    assert.equal(no.isError, true);
    assert.match(no.content[0].text, /^The answer in the MCP client was no: the patch was not run/);
    assert.equal(existsSync(join(w.ws, 'p-no.txt')), false);
  });

  test('approved_always: stores an allow rule, and the next such command runs without asking', async () => {
    s.state.reply = () => accept('approved_always');
    const r = await s.client.call('shell', { command: ['mkdir', '-p', 'always-dir'] });
    assert.equal(r.isError, false, r.content[0].text);
    assert.ok(existsSync(join(w.ws, 'always-dir')));
    const d = decisionOf(await readEvents(w.storePath, r.structuredContent.requestId))!;
    assert.deepEqual([d.decision, d.source], ['approved_always', 'client']);
    assert.ok(d.rulePrefix && d.rulePrefix.length > 0);
    assert.match(readFileSync(w.rulesPath, 'utf8'), /mkdir/);
    const asked = s.client.elicitations.length;
    s.state.reply = () => accept('denied');
    // the stored rule is what was approved, no more (issue #12): the literal argv
    assert.match(readFileSync(w.rulesPath, 'utf8'), /pattern = \["mkdir", "-p", "always-dir"\]/);
    const again = await s.client.call('shell', { command: ['mkdir', '-p', 'always-dir'] });
    assert.equal(again.isError, false, again.content[0].text);
    assert.equal(s.client.elicitations.length, asked);
  });

  test('malformed arguments: a JSON-RPC error, nothing recorded', async () => {
    const before = (await readEvents(w.storePath)).length;
    const bad = [
      { command: [] },
      { command: 'ls' },
      { command: [1, 2] },
      {},
      { command: ['ls'], timeout_ms: -5 },
      { command: ['ls'], with_escalated_permissions: 'yes' },
      { command: ['ls'], surprise: true },
    ];
    for (const args of bad) {
      const res = await s.client.request('tools/call', { name: 'shell', arguments: args });
      assert.equal(res.error?.code, -32602, JSON.stringify(res));
    }
    const patch = await s.client.request('tools/call', { name: 'apply_patch', arguments: { patch: 5 } });
    assert.equal(patch.error?.code, -32602);
    const unknown = await s.client.request('tools/call', { name: 'rm_everything', arguments: {} });
    assert.equal(unknown.error?.code, -32602);
    assert.equal((await readEvents(w.storePath)).length, before);
  });

  test('a workdir that does not exist: an error result, nothing recorded', async () => {
    const before = (await readEvents(w.storePath)).length;
    const r = await s.client.call('shell', { command: ['ls'], workdir: join(w.dir, 'nope') });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /not an existing directory/);
    assert.equal((await readEvents(w.storePath)).length, before);
  });
});

describe('on-request: sandboxed runs and escalations', () => {
  let w: Workspace;
  let s: Awaited<ReturnType<typeof serverWith>>;
  before(async () => {
    w = makeWorkspace();
    s = await serverWith(w, ['--approval', 'on-request', '--sandbox', 'workspace-write', '--no-tmp-write']);
  });
  after(async () => finish(s.client));

  test('an ordinary command runs in the sandbox without asking', async () => {
    const asked = s.client.elicitations.length;
    const r = await s.client.call('shell', { command: ['touch', 'sandboxed.txt'] });
    assert.equal(r.isError, false, r.content[0].text);
    assert.ok(existsSync(join(w.ws, 'sandboxed.txt')));
    assert.equal(s.client.elicitations.length, asked);
    const events = await readEvents(w.storePath, r.structuredContent.requestId);
    assert.deepEqual(types(events), ['ApprovalRequested', 'Classified', 'DecisionRecorded', 'SandboxRunStarted', 'SandboxRunFinished']);
    assert.equal(r.structuredContent.decision.source, 'policy');
  });

  test('a failing command is the command failing, not a denial', async () => {
    const r = await s.client.call('shell', { command: ['bash', '-c', 'echo oops >&2; exit 3'] });
    assert.equal(r.structuredContent.exitCode, 3);
    assert.match(r.content[0].text, /exited with code 3 \(it ran; it was not denied\)/);
    assert.equal(outputOf(r, 'stderr'), 'oops\n');
  });

  test('with_escalated_permissions asks (reason escalation); approved, it runs without the sandbox', async () => {
    let msg = '';
    s.state.reply = (e) => ((msg = String((e.params as any).message)), accept('approved'));
    const outside = join(w.dir, 'escalated.txt');
    const r = await s.client.call('shell', { command: ['touch', outside], with_escalated_permissions: true, justification: 'write outside' });
    assert.equal(r.isError, false, r.content[0].text);
    assert.match(msg, /without the sandbox/);
    assert.ok(existsSync(outside));
    const events = await readEvents(w.storePath, r.structuredContent.requestId);
    const started = events.find((e) => e.type === 'ExecutionStarted');
    assert.deepEqual(started?.data, { sandbox: 'none', mode: null });
    assert.equal(r.structuredContent.askReason, 'escalation');
  });

  test('a sandbox denial escalates to the person; denied, nothing is written', async () => {
    let msg = '';
    s.state.reply = (e) => ((msg = String((e.params as any).message)), accept('denied'));
    const outside = join(w.dir, 'denied-escalation.txt');
    const r = await s.client.call('shell', { command: ['touch', outside] });
    assert.equal(r.isError, true);
    assert.match(msg, /sandbox blocked it/);
    assert.equal(existsSync(outside), false);
    const events = await readEvents(w.storePath, r.structuredContent.requestId);
    assert.ok(types(events).includes('Escalated'));
    assert.ok(!types(events).includes('ExecutionStarted'));
  });

  test('a sandbox denial escalates to the person; approved, it is retried without the sandbox', async () => {
    s.state.reply = () => accept('approved');
    const outside = join(w.dir, 'approved-escalation.txt');
    const r = await s.client.call('shell', { command: ['touch', outside] });
    assert.equal(r.isError, false, r.content[0].text);
    assert.ok(existsSync(outside));
    assert.equal(r.structuredContent.askReason, 'sandbox-denial');
  });

  test('a patch inside the workspace applies without asking; one outside asks and a denial leaves it', async () => {
    const asked = s.client.elicitations.length;
    const inside = await s.client.call('apply_patch', { patch: '*** Begin Patch\n*** Add File: in.txt\n+in\n*** End Patch\n' });
    assert.equal(inside.isError, false, inside.content[0].text);
    assert.equal(readFileSync(join(w.ws, 'in.txt'), 'utf8'), 'in\n');
    assert.equal(s.client.elicitations.length, asked);
    s.state.reply = () => accept('denied');
    const out = await s.client.call('apply_patch', { patch: '*** Begin Patch\n*** Add File: ../out.txt\n+out\n*** End Patch\n' });
    assert.equal(out.isError, true);
    assert.equal(s.client.elicitations.length, asked + 1);
    assert.equal(existsSync(join(w.dir, 'out.txt')), false);
  });
});

// Issue #13 point 7 over MCP: a client's approval that the sandbox then blocks is asked again,
// and an approved patch outside the roots is applied with only its own directory writable.
describe('untrusted without /tmp: what the client approves is what happens', () => {
  let w: Workspace;
  let s: Awaited<ReturnType<typeof serverWith>>;
  before(async () => {
    w = makeWorkspace();
    s = await serverWith(w, ['--approval', 'untrusted', '--sandbox', 'workspace-write', '--no-tmp-write']);
  });
  after(async () => finish(s.client));

  test('an approved write the sandbox blocks is asked again; approved again, it runs without the sandbox', async () => {
    const asked: Elicitation[] = [];
    s.state.reply = (e) => (asked.push(e), accept('approved'));
    const outside = join(w.dir, 'blocked-then-approved.txt');
    const r = await s.client.call('shell', { command: ['touch', outside] });
    assert.equal(r.isError, false, r.content[0].text);
    assert.ok(existsSync(outside));
    assert.equal(asked.length, 2);
    const second = (asked[1]!.params as { message: string }).message;
    assert.match(second, /you approved it, but the sandbox blocked it/);
    assert.ok(second.includes(outside));
    assert.doesNotMatch(second, /warden approve|--store/, 'the agent-facing question never says how to decide');
    const events = await readEvents(w.storePath, r.structuredContent.requestId);
    assert.deepEqual(types(events), [
      'ApprovalRequested', 'Classified', 'DecisionRequested', 'DecisionRecorded', 'ExecutionStarted', 'ExecutionBlocked',
      'Escalated', 'DecisionRequested', 'DecisionRecorded', 'ExecutionStarted', 'ExecutionFinished',
    ]);
  });

  test('an approved patch outside the roots is applied, asked once, with only its directory writable', async () => {
    const before = s.client.elicitations.length;
    s.state.reply = () => accept('approved');
    const r = await s.client.call('apply_patch', { patch: '*** Begin Patch\n*** Add File: ../patched-outside.txt\n+out\n*** End Patch\n' });
    assert.equal(r.isError, false, r.content[0].text);
    assert.equal(readFileSync(join(w.dir, 'patched-outside.txt'), 'utf8'), 'out\n');
    assert.equal(s.client.elicitations.length, before + 1);
    const events = await readEvents(w.storePath, r.structuredContent.requestId);
    const started = events.find((e) => e.type === 'ExecutionStarted');
    assert.ok(started && started.type === 'ExecutionStarted');
    assert.deepEqual(started.data.writable, [w.dir]);
  });
});

describe('never: a sandbox denial goes back to the agent', () => {
  test('isError names the sandbox, nobody is asked', async () => {
    const w = makeWorkspace();
    const s = await serverWith(w, ['--approval', 'never', '--sandbox', 'workspace-write', '--no-tmp-write']);
    try {
      const outside = join(w.dir, 'never.txt');
      const r = await s.client.call('shell', { command: ['touch', outside] });
      assert.equal(r.isError, true);
      assert.match(r.content[0].text, /sandbox denied/);
      assert.match(r.content[0].text, /nobody denied it/);
      assert.ok(r.structuredContent.sandboxDenial);
      assert.equal(s.client.elicitations.length, 0);
      assert.equal(existsSync(outside), false);
    } finally {
      await finish(s.client);
    }
  });
});
