/**
 * The inspector's read model over a real SQLite store: pages newest first with filters applied on
 * the server, counts per state, sessions, and throttled deltas as new events arrive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DELTA_ROWS, LiveRequests, MAX_PAGE, type Delta } from '../../src/inspect/liveRequests.ts';
import { classification, decisions, execRequest, runs, tempSqliteStore } from '../support/fixtures.ts';
import type { EventStore } from '../../src/events/eventStore.ts';
import { buildTimeline } from '../../src/inspect/timeline.ts';
import { eventually } from '../support/eventually.ts';

async function completed(store: EventStore, id: string, session: string, cmd: string[]) {
  await store.append(id, 0, [
    { type: 'ApprovalRequested', data: execRequest({ command: cmd }), sessionId: session },
    { type: 'Classified', data: classification.knownSafe(), sessionId: session },
    { type: 'DecisionRecorded', data: { decision: 'approved', source: 'policy' }, sessionId: session },
    { type: 'ExecutionStarted', data: { sandbox: 'bwrap', mode: 'read-only' }, sessionId: session },
    { type: 'ExecutionFinished', data: runs.ok(), sessionId: session },
  ]);
}

async function pending(store: EventStore, id: string, session: string) {
  await store.append(id, 0, [
    { type: 'ApprovalRequested', data: execRequest(), sessionId: session },
    { type: 'Classified', data: classification.ask(), sessionId: session },
    { type: 'DecisionRequested', data: { reason: 'not-known-safe', message: 'Allow?', offered: ['approved', 'approved_for_session', 'denied', 'abort'] }, sessionId: session },
  ]);
}

test('pages are newest first, filtered server-side, with counts and sessions', async (t) => {
  const tmp = tempSqliteStore();
  const live = new LiveRequests(tmp.store, 20);
  t.after(async () => {
    live.close();
    await tmp.cleanup();
  });
  await completed(tmp.store, 'r1', 's1', ['ls']);
  await completed(tmp.store, 'r2', 's1', ['cat', 'README']);
  await pending(tmp.store, 'r3', 's2');
  await live.ready();

  const all = live.page({});
  assert.deepEqual(all.rows.map((r) => r.id), ['r3', 'r2', 'r1']);
  assert.equal(all.total, 3);
  assert.deepEqual(live.counts(), { completed: 2, awaitingDecision: 1 });
  assert.deepEqual(live.page({ session: 's1' }).rows.map((r) => r.id), ['r2', 'r1']);
  assert.deepEqual(live.page({ outcome: 'awaitingDecision' }).rows.map((r) => r.id), ['r3']);
  assert.deepEqual(live.page({ outcome: 'live' }).rows.map((r) => r.id), ['r3']);
  assert.deepEqual(live.page({ outcome: 'final' }).rows.map((r) => r.id), ['r2', 'r1']);
  assert.deepEqual(live.page({ source: 'policy' }).rows.map((r) => r.id), ['r2', 'r1']);
  assert.deepEqual(live.page({ source: 'none' }).rows.map((r) => r.id), ['r3']);
  assert.deepEqual(live.page({ text: 'readme' }).rows.map((r) => r.id), ['r2']);
  assert.deepEqual(live.page({}, 1, 1).rows.map((r) => r.id), ['r2']);
  assert.equal(live.page({}, 0, 10_000).limit, MAX_PAGE);
  const sessions = live.sessions();
  assert.deepEqual(sessions.map((s) => [s.id, s.requests, s.pending]).sort(), [['s1', 2, 0], ['s2', 1, 1]]);
  assert.equal(all.rows[1]!.what, 'cat README');
});

test('a decision arrives as a throttled delta that moves the counts', async (t) => {
  const tmp = tempSqliteStore();
  const live = new LiveRequests(tmp.store, 200);
  t.after(async () => {
    live.close();
    await tmp.cleanup();
  });
  await pending(tmp.store, 'r1', 's1');
  await live.ready();
  const deltas: Delta[] = [];
  live.onDelta((d) => deltas.push(d));
  await tmp.store.append('r1', 3, [
    { type: 'DecisionRecorded', data: decisions.denied!(), sessionId: 's1' },
    { type: 'Rejected', data: { reason: 'denied by tester' }, sessionId: 's1' },
  ]);
  // another client's page request in between must not swallow the change from the live feed
  await live.caughtUp();
  assert.equal(live.page({}).rows[0]!.state, 'rejected');
  await eventually(() => deltas.some((d) => d.counts.rejected === 1), 3_000, 'a delta counting the rejection');
  const last = deltas.at(-1)!;
  assert.equal(last.counts.rejected, 1);
  assert.equal(last.counts.awaitingDecision, 0);
  assert.deepEqual(last.changed.map((r) => [r.id, r.state, r.source]), [['r1', 'rejected', 'user']]);
  assert.equal(last.more, false);
  // two events, one delta: changes are batched
  assert.equal(deltas.filter((d) => d.changed.some((r) => r.id === 'r1')).length, 1);
  assert.equal(live.sessions()[0]!.pending, 0);
});

test('a timeline carries times, reasons, the decision and its source, exit code and output', async (t) => {
  const tmp = tempSqliteStore();
  t.after(() => tmp.cleanup());
  await tmp.store.append('r1', 0, [
    { type: 'ApprovalRequested', data: execRequest(), sessionId: 's' },
    { type: 'Classified', data: classification.ask(), sessionId: 's' },
    { type: 'DecisionRequested', data: { reason: 'not-known-safe', message: 'Allow the agent to run `touch x`?', offered: ['approved', 'denied'] }, sessionId: 's' },
    { type: 'DecisionRecorded', data: decisions.approved!(), sessionId: 's' },
    { type: 'ExecutionStarted', data: { sandbox: 'bwrap', mode: 'workspace-write' }, sessionId: 's' },
    { type: 'ExecutionFinished', data: { ...runs.exit1(), stdoutExcerpt: 'made x', stderrExcerpt: 'warning' }, sessionId: 's' },
  ]);
  const lines = buildTimeline(await tmp.store.read('r1'));
  assert.deepEqual(lines.map((l) => l.title), [
    'requested (exec)',
    'checked: a person is asked (ask)',
    'waiting for a person',
    'decision: approved once (approved)',
    'execution started',
    'execution failed (exit 1)', // a non-zero exit is not shown as a plain success
  ]);
  assert.ok(lines.every((l) => /^\d{4}-\d\d-\d\dT/.test(l.time)));
  assert.ok(lines[1]!.details.includes('reason: not known safe'));
  assert.ok(lines[3]!.details.includes('source: user (tester): a person'));
  assert.ok(lines[5]!.details.includes('exit code 1'));
  assert.equal(lines[5]!.stdout, 'made x');
  assert.equal(lines[5]!.stderr, 'warning');
});

test('a burst larger than a delta carries is sent as the newest rows and a refetch hint', async (t) => {
  const tmp = tempSqliteStore();
  const live = new LiveRequests(tmp.store, 200);
  t.after(async () => {
    live.close();
    await tmp.cleanup();
  });
  await live.ready();
  const deltas: Delta[] = [];
  live.onDelta((d) => deltas.push(d));
  const n = DELTA_ROWS + 20;
  for (let i = 0; i < n; i++) await completed(tmp.store, `b${i}`, 'burst', ['true']);
  await eventually(() => deltas.reduce((a, d) => a + d.changed.length, 0) > 0 && live.page({}).total >= n, 5_000, `all ${n} requests on the page`);
  await eventually(() => deltas.at(-1)?.total === n && deltas.at(-1)?.counts.completed === n, 5_000, 'the last delta to count every request');
  assert.ok(deltas.length < n / 4, `changes were batched (${deltas.length} deltas for ${n} requests)`);
  for (const d of deltas) assert.ok(d.changed.length <= DELTA_ROWS);
  const total = deltas.at(-1)!;
  assert.equal(total.total, n);
  assert.equal(total.counts.completed, n);
  if (deltas.length === 1) {
    assert.equal(total.more, true);
    assert.equal(total.changed.at(-1)!.id, `b${n - 1}`, 'the newest changes are the ones sent');
  }
});
