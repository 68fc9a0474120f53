/**
 * A store of 100,000 requests stays responsive in the inspector: the events are generated straight
 * into a real SQLite store file (stamped and hash-chained exactly as appends would be, in one
 * transaction, so generation takes seconds), then the real server folds them and answers pages cut
 * server-side: fast, and bounded in size whatever the store holds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '../../src/events/sqliteEventStore.ts';
import { stampEvents, type ChainHead } from '../../src/events/appendPlan.ts';
import { GENESIS_HASH } from '../../src/events/hashChain.ts';
import { encodeHead } from '../../src/events/migrations/sqlite.ts';
import type { NewEvent } from '../../src/events/types.ts';
import type { EventStore } from '../../src/events/eventStore.ts';
import { startInspectServer, type InspectServer } from '../../src/inspect/server.ts';
import { classification, execRequest, runs, tempDir } from '../support/fixtures.ts';

const REQUESTS = 100_000;

function eventsFor(i: number): NewEvent[] {
  const sessionId = `session-${i % 500}`;
  const requested: NewEvent = { type: 'ApprovalRequested', data: execRequest({ command: ['echo', `request-${i}`] }), sessionId };
  if (i % 1000 === 999) {
    return [
      requested,
      { type: 'Classified', data: classification.ask(), sessionId },
      { type: 'DecisionRequested', data: { reason: 'not-known-safe', message: 'Allow?', offered: ['approved', 'denied'] }, sessionId },
    ];
  }
  if (i % 10 === 0) {
    return [
      requested,
      { type: 'Classified', data: classification.knownSafe(), sessionId },
      { type: 'DecisionRecorded', data: { decision: 'approved', source: 'policy' }, sessionId },
      { type: 'ExecutionStarted', data: { sandbox: 'bwrap', mode: 'read-only' }, sessionId },
      { type: 'ExecutionFinished', data: runs.ok(), sessionId },
    ];
  }
  return [requested, { type: 'Classified', data: classification.reject(), sessionId }, { type: 'Rejected', data: { reason: 'rejected by policy' }, sessionId }];
}

/** Writes the requests in one transaction with the store's own stamping and hash chain. */
function generate(path: string): number {
  const db = new Database(path);
  const insert = db.prepare(
    `INSERT INTO events (position, stream, version, session_id, type, data, time, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  let head: ChainHead = { position: 0, hash: GENESIS_HASH };
  const start = Date.parse('2026-01-01T00:00:00Z');
  db.transaction(() => {
    for (let i = 0; i < REQUESTS; i++) {
      const stored = stampEvents(head, `req-${i}`, 0, eventsFor(i), new Date(start + i * 1000).toISOString());
      for (const e of stored) insert.run(e.position, e.stream, e.version, e.sessionId, e.type, JSON.stringify(e.data), e.time, e.prevHash, e.hash);
      const end = stored.at(-1)!;
      head = { position: end.position, hash: end.hash };
    }
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'head'`).run(encodeHead(head.position, head.hash));
  })();
  db.close();
  return head.position;
}

function get(url: string, token: string): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolveP, reject) => {
    const req = request(url, { headers: { 'x-warden-token': token } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolveP({ status: res.statusCode ?? 0, body, ms: performance.now() - t0 }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the inspector with 100,000 requests', () => {
  let dir: string;
  let store: EventStore;
  let server: InspectServer;
  let base: string;
  let events = 0;

  before(async () => {
    dir = tempDir('warden-inspect-large-');
    const path = join(dir, 'events.db');
    await createSqliteEventStore(path).close(); // schema by the store's own migrations
    const t0 = performance.now();
    events = generate(path);
    const t1 = performance.now();
    store = createSqliteEventStore(path);
    server = await startInspectServer({ store, port: 0 });
    const t2 = performance.now();
    base = new URL(server.url).origin;
    process.stderr.write(`# generated ${events} events in ${Math.round(t1 - t0)} ms; inspector ready (folded) in ${Math.round(t2 - t1)} ms\n`);
  });

  after(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the generated store is a valid, hash-chained warden store', async () => {
    assert.equal(await store.headPosition(), events);
    assert.equal(server.live.total, REQUESTS);
  });

  test('the first page answers fast and is bounded in size', async () => {
    await get(`${base}/api/requests`, server.token); // warm-up
    const first = await get(`${base}/api/requests?offset=0&limit=100`, server.token);
    assert.equal(first.status, 200);
    const page = JSON.parse(first.body);
    assert.equal(page.rows.length, 100);
    assert.equal(page.total, REQUESTS);
    assert.equal(page.rows[0].id, `req-${REQUESTS - 1}`, 'newest first');
    assert.ok(first.body.length < 64 * 1024, `page is ${first.body.length} bytes`);
    process.stderr.write(`# first page: ${first.ms.toFixed(1)} ms, ${first.body.length} bytes\n`);
    assert.ok(first.ms < 250, `first page took ${first.ms.toFixed(1)} ms`);
    // asking for everything still gets one bounded page
    const greedy = JSON.parse((await get(`${base}/api/requests?limit=100000000`, server.token)).body);
    assert.equal(greedy.rows.length, 200);
  });

  test('filtered pages scan on the server and stay fast', async () => {
    const pending = await get(`${base}/api/requests?outcome=awaitingDecision`, server.token);
    const p = JSON.parse(pending.body);
    assert.equal(p.total, REQUESTS / 1000);
    assert.ok(p.rows.every((r: { state: string }) => r.state === 'awaitingDecision'));
    const bySession = await get(`${base}/api/requests?session=session-10&source=policy&offset=10&limit=50`, server.token);
    const s = JSON.parse(bySession.body);
    assert.ok(s.rows.length > 0 && s.rows.every((r: { session: string; source: string }) => r.session === 'session-10' && r.source === 'policy'));
    const text = await get(`${base}/api/requests?text=request-4242`, server.token);
    // substring: request-4242 and request-42420..42429
    const ids = JSON.parse(text.body).rows.map((r: { id: string }) => r.id);
    assert.equal(ids.length, 11);
    assert.equal(ids.at(-1), 'req-4242');
    process.stderr.write(`# filtered pages: ${[pending, bySession, text].map((r) => r.ms.toFixed(1)).join(' / ')} ms\n`);
    for (const r of [pending, bySession, text]) assert.ok(r.ms < 500, `filtered page took ${r.ms.toFixed(1)} ms`);
  });

  test('the summary is bounded: counts and at most 500 sessions, never the log', async () => {
    const summary = await get(`${base}/api/summary`, server.token);
    const body = JSON.parse(summary.body);
    assert.equal(body.total, REQUESTS);
    assert.equal(body.counts.awaitingDecision, 100);
    assert.equal(body.counts.completed + body.counts.rejected + body.counts.awaitingDecision, REQUESTS);
    assert.ok(summary.body.length < 128 * 1024, `summary is ${summary.body.length} bytes`);
    assert.ok(summary.ms < 250, `summary took ${summary.ms.toFixed(1)} ms`);
  });

  test('a change is sent as a compact delta', async () => {
    const deltas: Array<{ changed: unknown[]; counts: Record<string, number> }> = [];
    const off = server.live.onDelta((d) => deltas.push(d));
    try {
      await store.append('req-999', 3, [
        { type: 'DecisionRecorded', data: { decision: 'denied', source: 'user', user: 'tester' }, sessionId: 'session-499' },
        { type: 'Rejected', data: { reason: 'denied by tester' }, sessionId: 'session-499' },
      ]);
      const deadline = Date.now() + 5000;
      while (deltas.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(deltas.length, 1);
      assert.equal(deltas[0]!.changed.length, 1);
      assert.equal(deltas[0]!.counts.awaitingDecision, 99);
      assert.ok(JSON.stringify(deltas[0]).length < 8 * 1024);
    } finally {
      off();
    }
  });
});
