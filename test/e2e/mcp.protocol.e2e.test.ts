/**
 * What a raw stdio client sees of the protocol: honest annotations and an outputSchema in
 * tools/list (openWorldHint follows the policy's network), results whose structuredContent leads
 * with the outcome sentence and matches that schema, no `notifications/cancelled` for a question
 * the client has answered (exactly one for a question that timed out), and the client's own call
 * id from `_meta` recorded in ApprovalRequested and shown by `warden audit --json`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseDomainEvent } from '../../src/events/types.ts';
import { ToolOutput } from '../../src/mcp/tools.ts';
import { auditRows } from '../support/cli.ts';
import { eventually, makeWorkspace, readEvents, startServer, outputOf } from './mcp.harness.ts';

test('tools/list: both tools carry a title, destructive non-read-only annotations and an outputSchema; openWorldHint follows --network', async () => {
  for (const network of [false, true]) {
    const w = makeWorkspace();
    const client = await startServer(w, { args: network ? ['--network'] : [] });
    try {
      const { result } = await client.request('tools/list', {});
      const names = result.tools.map((t: any) => t.name);
      assert.deepEqual(names, ['shell', 'apply_patch']);
      for (const tool of result.tools) {
        assert.equal(typeof tool.annotations.title, 'string');
        assert.equal(tool.annotations.readOnlyHint, false);
        assert.equal(tool.annotations.destructiveHint, true);
        assert.equal(tool.annotations.openWorldHint, tool.name === 'shell' && network);
        assert.equal(tool.outputSchema.type, 'object');
        assert.deepEqual([...tool.outputSchema.required].sort(), ['state', 'summary']);
      }
    } finally {
      assert.equal(await client.close(), 0);
    }
  }
});

test('results: structuredContent starts with the summary sentence, matches the outputSchema, and leaves out what the model does not need', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'untrusted', '--decision-timeout', '5'] });
  try {
    const ok = await client.call('shell', { command: ['echo', 'hello'] });
    const denied = await client.call('shell', { command: ['touch', 'no.txt'] });
    for (const r of [ok, denied]) {
      assert.equal(Object.keys(r.structuredContent)[0], 'summary');
      assert.equal(r.structuredContent.summary, r.content[0].text.split('\n')[0]);
      ToolOutput.strict().parse(r.structuredContent);
      for (const gone of ['path', 'sessionId', 'classification', 'ran']) assert.equal(gone in r.structuredContent, false, gone);
    }
    assert.equal(outputOf(ok), 'hello\n');
    assert.equal('stderr' in ok.structuredContent, false, 'empty output is left out');
    assert.equal(denied.structuredContent.state, 'rejected');
  } finally {
    assert.equal(await client.close(), 0);
  }
});

test('answered questions get no notifications/cancelled; a timed-out one gets exactly one', async () => {
  const w = makeWorkspace();
  const answers: unknown[] = [
    { action: 'accept', content: { decision: 'approved' } },
    { action: 'decline' },
    { action: 'accept', content: { decision: 'denied' } },
  ];
  const client = await startServer(w, {
    args: ['--approval', 'untrusted', '--decision-timeout', '2'],
    onElicit: () => {
      const next = answers.shift();
      return next === undefined ? 'later' : { result: next };
    },
  });
  try {
    const approved = await client.call('shell', { command: ['touch', 'a.txt'] });
    assert.equal(approved.isError, false);
    assert.ok(existsSync(join(w.ws, 'a.txt')));
    await client.call('shell', { command: ['touch', 'b.txt'] });
    await client.call('shell', { command: ['touch', 'c.txt'] });
    const timedOut = await client.call('shell', { command: ['touch', 'd.txt'] });
    assert.equal(timedOut.structuredContent.decision.source, 'timeout');
    const lastAsked = client.elicitations[3]!;
    await eventually(() => (client.notifications.some((n) => n.method === 'notifications/cancelled') ? true : undefined), 5000, 'the timeout cancel');
    // A ping round trip: anything the server sent before its answer has arrived by now.
    await client.request('ping', {});
    const cancels = client.notifications.filter((n) => n.method === 'notifications/cancelled');
    assert.deepEqual(
      cancels.map((n) => n.params.requestId),
      [lastAsked.id],
      `cancellations: ${JSON.stringify(cancels)}`,
    );
  } finally {
    assert.equal(await client.close(), 0);
  }
});

test("the client's call id from _meta (Codex callId, Claude Code claudecode/toolUseId) is recorded and shown by audit --json", async () => {
  const w = makeWorkspace();
  const client = await startServer(w);
  try {
    const calls = [
      { _meta: { callId: 'call_4', progressToken: 7 }, expect: 'call_4' },
      { _meta: { 'claudecode/toolUseId': 'toolu_01ABC', progressToken: 8 }, expect: 'toolu_01ABC' },
      { _meta: { 'vendor.example/toolCallId': 'tc-9' }, expect: 'tc-9' },
      { _meta: { progressToken: 9 }, expect: null },
    ];
    const ids: string[] = [];
    for (const c of calls) {
      const res = await client.request('tools/call', { name: 'shell', arguments: { command: ['true'] }, _meta: c._meta });
      assert.equal(res.result.isError, false, JSON.stringify(res));
      ids.push(res.result.structuredContent.requestId);
    }
    for (const [i, c] of calls.entries()) {
      const [requested] = await readEvents(w.storePath, ids[i]);
      assert.ok(requested?.type === 'ApprovalRequested');
      assert.equal(requested.data.origin.clientCallId ?? null, c.expect);
    }
    const rows = auditRows(w.storePath);
    assert.deepEqual(
      ids.map((id) => rows.find((r) => r.request_id === id)?.client_call_id),
      calls.map((c) => c.expect),
    );
    assert.ok(rows.every((r) => r.surface === 'mcp'));
  } finally {
    assert.equal(await client.close(), 0);
  }
});

test('an ApprovalRequested written before client call ids existed still parses; a non-string id does not', () => {
  const data = {
    kind: 'exec',
    command: ['ls'],
    cwd: '/',
    withEscalatedPermissions: false,
    policy: { approval: 'on-request', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: true },
    origin: { surface: 'mcp', pid: 1, host: 'h', callId: '3' },
  };
  assert.doesNotThrow(() => parseDomainEvent({ type: 'ApprovalRequested', data }));
  assert.throws(() => parseDomainEvent({ type: 'ApprovalRequested', data: { ...data, origin: { ...data.origin, clientCallId: 5 } } }));
});
