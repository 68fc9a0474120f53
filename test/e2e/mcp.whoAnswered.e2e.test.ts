/**
 * Issue 13, "a client's answer is not a person's answer", over real stdio with a raw client: an
 * answer 5 ms after the question (as Claude Code `-p` and `codex exec` answer) is `client-auto`,
 * a denial, never run, and the model is told nobody approved; a fast approval stays open for a
 * person out of band until the decision timeout. The same answers after 1 s are the client's
 * (`client`, decided_by `mcp:<clientInfo.name>`) and behave as a person's answer in the client did
 * before. Nothing here is ever recorded as `user`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, makeWorkspace, readEvents, startServer, type ElicitReply, type RawClient, type Workspace } from './mcp.harness.ts';
import { jsonLines, wardenAsync } from '../support/cliAsync.ts';

const ANSWERS: Array<[string, unknown]> = [
  ['cancel', { action: 'cancel' }],
  ['decline', { action: 'decline' }],
  ['accept approved', { action: 'accept', content: { decision: 'approved' } }],
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function decisionOf(events: Awaited<ReturnType<typeof readEvents>>) {
  const d = events.find((e) => e.type === 'DecisionRecorded');
  return d && d.type === 'DecisionRecorded' ? d.data : undefined;
}

describe('who answered: a client answering in 5 ms, and after 1 s', () => {
  let w: Workspace;
  let client: RawClient;
  const state: { answer: unknown; delayMs: number } = { answer: null, delayMs: 5 };
  before(async () => {
    w = makeWorkspace();
    client = await startServer(w, {
      // The default --min-decision-ms (500) is what is under test: the harness's 0 is overridden.
      args: ['--approval', 'untrusted', '--decision-timeout', '6', '--min-decision-ms', '500'],
      onElicit: async (): Promise<ElicitReply> => {
        await sleep(state.delayMs);
        return { result: state.answer };
      },
    });
  });
  after(async () => {
    assert.equal(await client.close(), 0, client.stderr.slice(-2000));
    assert.deepEqual(client.nonProtocolLines, []);
  });

  for (const [label, answer] of ANSWERS) {
    test(`${label} in 5 ms: client-auto, a denial, nothing runs, the model is told nobody approved`, async () => {
      state.answer = answer;
      state.delayMs = 5;
      const file = `fast-${label.replace(/ /g, '-')}.txt`;
      const r = await client.call('shell', { command: ['touch', file] });
      assert.equal(r.isError, true);
      assert.equal(existsSync(join(w.ws, file)), false, 'nothing ran');
      const text: string = r.content[0].text;
      assert.match(text, /^Nobody approved this: the client (dismissed the question without showing it|answered the question by itself)/);
      assert.match(text, /may not be able to show questions in this mode/);
      assert.doesNotMatch(text, /person said no|person (declined|cancelled)/);
      const events = await readEvents(w.storePath, r.structuredContent.requestId);
      const d = decisionOf(events)!;
      assert.deepEqual([d.decision, d.source, d.user], ['denied', 'client-auto', 'mcp:raw-test-client']);
      assert.equal(d.raw, JSON.stringify(answer), 'what the client sent is kept');
      assert.ok(!events.some((e) => e.type === 'ExecutionStarted'));
      if (label === 'cancel') assert.match(d.reason ?? '', /dismissed the question without showing it/);
      if (label === 'accept approved') assert.match(d.reason ?? '', /no decision within 6 s out of band/);
    });
  }

  test('accept approved in 5 ms waits for a person out of band: warden approve decides it, as the person', async () => {
    state.answer = { action: 'accept', content: { decision: 'approved' } };
    state.delayMs = 5;
    const pending = client.call('shell', { command: ['touch', 'fast-then-person.txt'] });
    const waiting = await eventually(async () => {
      const list = await wardenAsync(['approve', '--store', w.storePath, '--list', '--json']);
      return jsonLines(list.stdout).find((p) => JSON.stringify(p.command) === JSON.stringify(['touch', 'fast-then-person.txt']));
    }, 10_000, 'the request to be listed as waiting');
    assert.ok(client.stderr.includes('faster than a person can read it'), 'the person is told in the log');
    const decided = await wardenAsync(['approve', '--store', w.storePath, '--decide', String(waiting.request_id), '--decision', 'approved'], { outside: true });
    assert.equal(decided.code, 0, decided.stderr);
    const r = await pending;
    assert.equal(r.isError, false, r.content[0].text);
    assert.ok(existsSync(join(w.ws, 'fast-then-person.txt')));
    const d = decisionOf(await readEvents(w.storePath, r.structuredContent.requestId))!;
    assert.deepEqual([d.decision, d.source], ['approved', 'user']);
  });

  for (const [label, answer] of ANSWERS) {
    test(`${label} after 1 s: as before, but recorded as the client's (source client, decided_by mcp:<name>)`, async () => {
      state.answer = answer;
      state.delayMs = 1000;
      const file = `slow-${label.replace(/ /g, '-')}.txt`;
      const r = await client.call('shell', { command: ['touch', file] });
      const d = decisionOf(await readEvents(w.storePath, r.structuredContent.requestId))!;
      assert.equal(d.source, 'client');
      assert.equal(d.user, 'mcp:raw-test-client');
      if (label === 'accept approved') {
        assert.equal(r.isError, false, r.content[0].text);
        assert.ok(existsSync(join(w.ws, file)));
        assert.equal(d.decision, 'approved');
      } else {
        assert.equal(r.isError, true);
        assert.equal(existsSync(join(w.ws, file)), false);
        assert.equal(d.decision, 'denied');
        assert.doesNotMatch(r.content[0].text, /person said no/);
        if (label === 'cancel') {
          assert.match(r.content[0].text, /^Nobody approved this: the MCP client dismissed the question/);
          assert.equal(d.reason, 'the MCP client dismissed the question');
        }
      }
    });
  }

  test('the audit never names a person for any of these answers', async () => {
    const rows = jsonLines((await wardenAsync(['audit', '--store', w.storePath, '--json'])).stdout);
    const byClient = rows.filter((row) => row.decided_by === 'mcp:raw-test-client');
    assert.equal(byClient.length, 6);
    assert.ok(byClient.every((row) => row.decision_source !== 'user'));
    const verify = await wardenAsync(['verify', '--store', w.storePath]);
    assert.equal(verify.code, 0, verify.stderr);
    const replay = await wardenAsync(['replay', '--store', w.storePath, '--all']);
    assert.equal(replay.code, 0, replay.stderr + replay.stdout.slice(-2000));
  });
});
