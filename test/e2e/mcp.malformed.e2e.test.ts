/**
 * Fail closed over the wire: every malformed elicitation answer in the table, and arbitrary JSON
 * answers from fast-check, sent by a raw client as the `result` of `elicitation/create`. Law: the
 * command never runs (its marker file never appears, no ExecutionStarted) and a denial is always
 * recorded with the right source and the raw answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { MALFORMED_ANSWERS } from '../../src/mcp/answer.cases.ts';
import { RAW_ANSWER_CAP } from '../../src/events/types.ts';
import { makeWorkspace, readEvents, startServer, type RawClient, type Workspace } from './mcp.harness.ts';

function plainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Independent of the code under test: what source a denial of this answer must carry, or null for a real approval. */
function expectedSource(answer: unknown): 'client' | 'malformed' | null {
  if (!plainObject(answer)) return 'malformed';
  const keys = Object.keys(answer).filter((k) => k !== '_meta');
  if ('_meta' in answer && !plainObject(answer._meta)) return 'malformed';
  if ((answer.action === 'decline' || answer.action === 'cancel') && keys.length === 1) return 'client';
  if (answer.action === 'accept' && keys.length === 2 && plainObject(answer.content)) {
    const c = answer.content;
    if (Object.keys(c).length === 1 && ['approved', 'approved_for_session', 'approved_always', 'denied', 'abort'].includes(c.decision as string)) return null;
  }
  return 'malformed';
}

describe('malformed answers over real stdio', () => {
  let w: Workspace;
  let client: RawClient;
  let answer: unknown = null;
  let n = 0;
  before(async () => {
    w = makeWorkspace();
    client = await startServer(w, { args: ['--approval', 'untrusted', '--decision-timeout', '20'], onElicit: () => ({ result: answer }) });
  });
  after(async () => {
    assert.equal(await client.close(), 0);
    assert.deepEqual(client.nonProtocolLines, []);
  });

  /** Asks to create a fresh marker file, answers with `value`, returns what happened. */
  async function attempt(value: unknown) {
    answer = value;
    const marker = `marker-${n++}`;
    const asked = client.elicitations.length;
    const r = await client.call('shell', { command: ['touch', marker] });
    assert.equal(client.elicitations.length, asked + 1, 'the person was asked once');
    const events = await readEvents(w.storePath, r.structuredContent.requestId);
    return { r, events, markerExists: existsSync(join(w.ws, marker)) };
  }

  for (const [label, value] of MALFORMED_ANSWERS) {
    test(`never runs, denied as malformed: ${label}`, async () => {
      const { r, events, markerExists } = await attempt(value);
      assert.equal(markerExists, false);
      assert.equal(r.isError, true);
      assert.match(r.content[0].text, /not a valid decision/);
      const types = events.map((e) => e.type);
      assert.ok(!types.includes('ExecutionStarted') && !types.includes('SandboxRunStarted'), types.join());
      const d = events.find((e) => e.type === 'DecisionRecorded');
      assert.ok(d && d.type === 'DecisionRecorded');
      assert.deepEqual([d.data.decision, d.data.source], ['denied', 'malformed']);
      assert.ok(d.data.raw !== undefined && d.data.raw.length <= RAW_ANSWER_CAP + 40, `raw is stored and capped (${d.data.raw?.length})`);
      assert.equal(d.data.raw.slice(0, 20), JSON.stringify(value).slice(0, 20));
    });
  }

  test('law: whatever JSON comes back, an approval needs the exact answer; anything else never runs and records a denial', async () => {
    const near = fc.record(
      {
        action: fc.oneof(fc.constantFrom('accept', 'decline', 'cancel'), fc.jsonValue()),
        content: fc.oneof(fc.record({ decision: fc.oneof(fc.string(), fc.jsonValue()) }), fc.jsonValue()),
        _meta: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), near), async (value) => {
        const expected = expectedSource(value);
        fc.pre(expected !== null);
        const { events, markerExists } = await attempt(value);
        assert.equal(markerExists, false, JSON.stringify(value));
        assert.ok(!events.some((e) => e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted'));
        const d = events.find((e) => e.type === 'DecisionRecorded');
        assert.ok(d && d.type === 'DecisionRecorded');
        assert.equal(d.data.decision, 'denied');
        assert.equal(d.data.source, expected, JSON.stringify(value));
      }),
      { numRuns: 60 },
    );
  });
});
