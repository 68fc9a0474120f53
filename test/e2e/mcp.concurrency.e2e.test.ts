/**
 * Twenty concurrent tool calls, each asked through its own elicitation, answered out of order:
 * each request gets exactly the decision given to its own question.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, makeWorkspace, readEvents, startServer, type Elicitation } from './mcp.harness.ts';

const DECISION_FOR = ['approved', 'denied', 'abort'] as const;

test('twenty concurrent calls answered out of order each get their own decision', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'untrusted'], onElicit: () => 'later' });
  try {
    const N = 20;
    const calls = Array.from({ length: N }, (_, i) => client.call('shell', { command: ['touch', `c-${i}`] }));
    await eventually(() => (client.elicitations.length === N ? true : undefined), 15_000, '20 questions');
    // Answer in a scrambled order: a fixed permutation, so a failure reproduces.
    const order: Elicitation[] = [...client.elicitations].sort((a, b) => ((Number(a.id) * 7) % 11) - ((Number(b.id) * 7) % 11) || Number(b.id) - Number(a.id));
    for (const e of order) {
      const i = Number(String((e.params as any).codex_command[1]).slice(2));
      client.respond(e.id, { result: { action: 'accept', content: { decision: DECISION_FOR[i % 3] } } });
      await new Promise((r) => setTimeout(r, 2));
    }
    const results = await Promise.all(calls);
    for (let i = 0; i < N; i++) {
      const expected = DECISION_FOR[i % 3]!;
      const r = results[i]!;
      assert.equal(r.structuredContent.decision.decision, expected, `call ${i}`);
      assert.equal(r.structuredContent.state, expected === 'approved' ? 'completed' : expected === 'abort' ? 'aborted' : 'rejected');
      assert.equal(existsSync(join(w.ws, `c-${i}`)), expected === 'approved', `marker c-${i}`);
      const events = await readEvents(w.storePath, r.structuredContent.requestId);
      const requested = events[0];
      assert.ok(requested?.type === 'ApprovalRequested');
      assert.deepEqual(requested.data.command, ['touch', `c-${i}`]);
      const d = events.filter((e) => e.type === 'DecisionRecorded');
      assert.equal(d.length, 1);
      assert.equal(d[0]!.type === 'DecisionRecorded' && d[0]!.data.decision, expected);
    }
    const ids = new Set(client.elicitations.map((e) => (e.params as any).codex_event_id));
    assert.equal(ids.size, N, 'one question per request');
  } finally {
    assert.equal(await client.close(), 0);
    assert.deepEqual(client.nonProtocolLines, []);
  }
});
