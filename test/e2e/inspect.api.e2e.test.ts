/**
 * The inspector's HTTP API against a real server and a real SQLite store: the decide endpoint
 * refuses what `warden approve` would refuse (unknown request, answer not offered, not pending,
 * already decided) and anything malformed, and records exactly one decision with source `user`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startInspectServer, type InspectServer } from '../../src/inspect/server.ts';
import { classification, execRequest, tempSqliteStore, type TempStore } from '../support/fixtures.ts';

interface Res {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

describe('inspector API', () => {
  let tmp: TempStore;
  let server: InspectServer;
  let base: string;

  const call = (path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Res> =>
    new Promise((resolveP, reject) => {
      const req = request(`${base}${path}`, { method: opts.method ?? 'GET', headers: { 'x-warden-token': server.token, ...opts.headers } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolveP({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(opts.body);
    });
  const decide = (id: string, body: string, headers: Record<string, string> = {}) =>
    call(`/api/requests/${encodeURIComponent(id)}/decide`, {
      method: 'POST',
      headers: { origin: base, 'content-type': 'application/json', ...headers },
      body,
    });

  before(async () => {
    tmp = tempSqliteStore();
    await tmp.store.append('pending-1', 0, [
      { type: 'ApprovalRequested', data: execRequest(), sessionId: 's' },
      { type: 'Classified', data: classification.ask(), sessionId: 's' },
      { type: 'DecisionRequested', data: { reason: 'not-known-safe', message: 'Allow `touch x`?', offered: ['approved', 'denied', 'abort'] }, sessionId: 's' },
    ]);
    await tmp.store.append('finished-1', 0, [
      { type: 'ApprovalRequested', data: execRequest(), sessionId: 's' },
      { type: 'Classified', data: classification.reject(), sessionId: 's' },
      { type: 'Rejected', data: { reason: 'rejected by policy' }, sessionId: 's' },
    ]);
    server = await startInspectServer({ store: tmp.store, port: 0, user: 'inspector-test' });
    base = new URL(server.url).origin;
  });

  after(async () => {
    await server.close();
    await tmp.cleanup();
  });

  test('the page sets an HttpOnly cookie and strict headers', async () => {
    const page = await call(`/?token=${server.token}`, { headers: { 'x-warden-token': '' } });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['set-cookie']), /^warden_inspect=[A-Za-z0-9_-]{32}; HttpOnly; SameSite=Strict; Path=\//);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.ok(!page.body.match(/https?:\/\//), 'the page names no external URL');
  });

  test('a request detail carries its open question and timeline', async () => {
    const res = await call('/api/requests/pending-1');
    const body = JSON.parse(res.body);
    assert.equal(body.row.state, 'awaitingDecision');
    assert.deepEqual(body.question.offered, ['approved', 'denied', 'abort']);
    assert.deepEqual(body.states, ['received', 'classifying', 'awaitingDecision']);
    assert.equal(body.timeline.length, 3);
    assert.equal((await call('/api/requests/nope')).status, 404);
    assert.equal((await call('/api/requests/%E0%A4%A')).status, 400);
  });

  test('malformed decisions are refused and record nothing', async () => {
    assert.equal((await decide('pending-1', '{"decision":"approved"}', { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await decide('pending-1', 'not json')).status, 400);
    assert.equal((await decide('pending-1', '{"decision":"yes"}')).status, 400);
    assert.equal((await decide('pending-1', 'null')).status, 400);
    assert.equal((await decide('pending-1', JSON.stringify({ decision: 'x'.repeat(10_000) }))).status, 413); // body over the cap
    const notOffered = await decide('pending-1', '{"decision":"approved_for_session"}');
    assert.equal(notOffered.status, 400);
    assert.equal(JSON.parse(notOffered.body).reason, 'not-offered');
    assert.equal((await decide('nope', '{"decision":"approved"}')).status, 404);
    const finished = await decide('finished-1', '{"decision":"approved"}');
    assert.equal(finished.status, 409);
    assert.equal(JSON.parse(finished.body).error, 'already decided');
    assert.equal((await tmp.store.read('pending-1')).length, 3, 'nothing was appended');
  });

  test('a decision is recorded once, as the user, via the inspector; the second is a conflict', async () => {
    const ok = await decide('pending-1', '{"decision":"denied"}');
    assert.equal(ok.status, 200, ok.body);
    const events = await tmp.store.read('pending-1');
    const recorded = events.at(-1)!;
    assert.equal(recorded.type, 'DecisionRecorded');
    assert.ok(recorded.type === 'DecisionRecorded');
    const { decider, ...rest } = recorded.data;
    assert.deepEqual(rest, { decision: 'denied', source: 'user', user: 'inspector-test', reason: 'decided via warden inspect' });
    // the peer of the connection: this test process sent the request
    assert.equal(decider?.found, 'socket');
    assert.equal(decider?.pid, process.pid);
    const again = await decide('pending-1', '{"decision":"approved"}');
    assert.equal(again.status, 409);
    assert.equal(JSON.parse(again.body).error, 'already decided');
    assert.equal((await tmp.store.read('pending-1')).length, 4);
  });
});
