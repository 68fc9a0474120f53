/**
 * Recovery closes requests whose owner died: a run in progress is Interrupted, an open question is
 * denied with source restart, a stored decision stands (a denial ends as the machine would, an
 * approval is recorded as not run), a request stuck classifying is rejected. Every recovered stream
 * replays and is final; requests of live processes or other hosts are left alone; concurrent
 * recoveries close each request once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { runRequest } from '../../src/requests/runRequest.ts';
import { closingEvents, localProbe, ownerIsGone, recoverRequests, runLeftWords, type ProcessProbe } from '../../src/requests/recovery.ts';
import { replayStream } from '../../src/machines/replay.ts';
import type { EventStore } from '../../src/events/eventStore.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { classification, decisions, execRequest, runs, tempSqliteStore } from '../support/fixtures.ts';
import { scenarioEffects, type Scenario } from '../support/scripted.ts';
import { recoverStore } from '../../src/cli/recovery.ts';

const DEAD_PID = 999_999_99;
/** A probe for a host where exactly the pids in `alive` run. */
const probe = (alive: number[] = []): ProcessProbe => ({ hostname: 'test', selfPid: 1, isAlive: (pid) => alive.includes(pid) });

const base = (overrides: Partial<Scenario> = {}): Scenario => ({
  classify: { value: classification.ask() },
  runSandboxed: { value: runs.ok() },
  decide: { value: decisions.approved!() },
  execute: { value: runs.ok() },
  ...overrides,
});

/** A full live run's events, for cutting at a crash point. */
async function liveEvents(s: Scenario): Promise<StoredEvent[]> {
  const tmp = tempSqliteStore();
  try {
    const r = await runRequest({ store: tmp.store, sessionId: 's', request: execRequest(), effects: scenarioEffects(s) });
    return tmp.store.read(r.requestId);
  } finally {
    await tmp.cleanup();
  }
}

/** Writes the first `n` events of a stream into `store` as if a process `pid` on `host` made them and then died. */
async function crashed(store: EventStore, events: StoredEvent[], n: number, pid = DEAD_PID, host = 'test', stream = `r-${Math.random()}`) {
  const cut = events.slice(0, n).map((e) =>
    e.type === 'ApprovalRequested' ? { type: e.type, data: { ...e.data, origin: { ...e.data.origin, pid, host } }, sessionId: 's' } : { type: e.type, data: e.data, sessionId: 's' },
  );
  await store.append(stream, 0, cut as never);
  return stream;
}

const upTo = (events: StoredEvent[], type: string) => events.findIndex((e) => e.type === type) + 1;

async function recoverOne(events: StoredEvent[], n: number) {
  const tmp = tempSqliteStore();
  try {
    const id = await crashed(tmp.store, events, n);
    const report = await recoverRequests(tmp.store, probe());
    const after = await tmp.store.read(id);
    const replay = replayStream(after);
    assert.deepEqual(replay.problems, [], 'a recovered stream replays');
    assert.equal(replay.final, true, 'a recovered stream is final');
    assert.equal((await tmp.store.verify()).ok, true);
    return { report, added: after.slice(n), replay };
  } finally {
    await tmp.cleanup();
  }
}

test('a run in progress is Interrupted', async () => {
  const events = await liveEvents(base());
  const { added, replay } = await recoverOne(events, upTo(events, 'ExecutionStarted'));
  assert.deepEqual(added.map((e) => e.type), ['Interrupted']);
  assert.match((added[0]!.data as { reason: string }).reason, /^restart: its process \(pid 99999999 on test\) died while it ran/);
  assert.equal(replay.interrupted, true);
});

test('a sandboxed attempt in progress is Interrupted', async () => {
  const events = await liveEvents(base({ classify: { value: classification.sandboxed() } }));
  const { added } = await recoverOne(events, upTo(events, 'SandboxRunStarted'));
  assert.deepEqual(added.map((e) => e.type), ['Interrupted']);
});

test('an open question is denied with source restart, then rejected', async () => {
  const events = await liveEvents(base());
  const { added, replay } = await recoverOne(events, upTo(events, 'DecisionRequested'));
  assert.deepEqual(added.map((e) => e.type), ['DecisionRecorded', 'Rejected']);
  assert.equal((added[0]!.data as { source: string }).source, 'restart');
  assert.equal((added[0]!.data as { decision: string }).decision, 'denied');
  assert.match((added[1]!.data as { reason: string }).reason, /^denied \(restart: its process/);
  assert.equal(replay.state, 'rejected');
});

test('a stored approval that nobody acted on is recorded as not run, naming the decision', async () => {
  const events = await liveEvents(base());
  const { added } = await recoverOne(events, upTo(events, 'DecisionRecorded'));
  assert.deepEqual(added.map((e) => e.type), ['Interrupted']);
  assert.match((added[0]!.data as { reason: string }).reason, /not run: approved by tester, but its process .* died before starting it/);
});

test('a stored denial or abort stands: the request ends as the machine would have ended it', async () => {
  for (const [d, end, reason] of [
    [decisions.denied!(), 'Rejected', 'denied by tester'],
    [decisions.abort!(), 'Aborted', 'aborted by tester'],
  ] as const) {
    const events = await liveEvents(base({ decide: { value: d } }));
    const { added } = await recoverOne(events, upTo(events, 'DecisionRecorded'));
    assert.deepEqual(added.map((e) => e.type), [end]);
    assert.equal((added[0]!.data as { reason: string }).reason, reason);
  }
});

test('a request that never got past classifying is rejected with reason restart', async () => {
  const events = await liveEvents(base());
  const { added } = await recoverOne(events, 1);
  assert.deepEqual(added.map((e) => e.type), ['Rejected']);
  assert.match((added[0]!.data as { reason: string }).reason, /^classification failed: restart: its process/);
});

test('every crash point of every path recovers to a final stream that replays', async () => {
  const scenarios = [
    base(),
    base({ classify: { value: classification.knownSafe() } }),
    base({ classify: { value: classification.sandboxed() }, runSandboxed: { value: runs.denied() } }),
    base({ classify: { value: classification.sandboxed() }, runSandboxed: { value: runs.denied() }, decide: { value: decisions.abort!() } }),
    base({ decide: { value: decisions.timeout!() } }),
  ];
  for (const s of scenarios) {
    const events = await liveEvents(s);
    for (let n = 1; n <= events.length; n++) {
      const { added } = await recoverOne(events, n);
      // nothing recovery writes ever starts a run
      assert.ok(!added.some((e) => e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted'));
      if (n === events.length) assert.deepEqual(added, [], 'a finished request is left as it is');
    }
  }
});

test('requests of a live process, of this process or of another host are left alone', async () => {
  const events = await liveEvents(base());
  const tmp = tempSqliteStore();
  try {
    const n = upTo(events, 'DecisionRequested');
    await crashed(tmp.store, events, n, 4242, 'test');
    await crashed(tmp.store, events, n, 1, 'test');
    await crashed(tmp.store, events, n, DEAD_PID, 'other-host');
    const head = await tmp.store.headPosition();
    const report = await recoverRequests(tmp.store, probe([4242]));
    assert.equal(report.open, 3);
    assert.equal(report.leftAlone, 3);
    assert.equal(await tmp.store.headPosition(), head, 'nothing was written');
  } finally {
    await tmp.cleanup();
  }
});

test('concurrent recoveries close each request exactly once', async () => {
  const events = await liveEvents(base());
  const tmp = tempSqliteStore();
  try {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await crashed(tmp.store, events, upTo(events, 'DecisionRequested')));
    const reports = await Promise.all([recoverRequests(tmp.store, probe()), recoverRequests(tmp.store, probe()), recoverRequests(tmp.store, probe())]);
    assert.equal(reports.reduce((n, r) => n + r.closed.length, 0), 20);
    for (const id of ids) {
      const after = await tmp.store.read(id);
      assert.equal(after.filter((e) => e.type === 'DecisionRecorded').length, 1);
      assert.equal(replayStream(after).final, true);
    }
  } finally {
    await tmp.cleanup();
  }
});

test('recoverStore uses the real process probe: a dead child is gone, this process is not', async () => {
  const child = spawnSync('true');
  assert.equal(child.status, 0);
  const events = await liveEvents(base());
  const tmp = tempSqliteStore();
  try {
    const host = localProbe().hostname;
    const dead = await crashed(tmp.store, events, upTo(events, 'DecisionRequested'), child.pid!, host);
    const mine = await crashed(tmp.store, events, upTo(events, 'DecisionRequested'), process.pid, host);
    const report = await recoverStore(tmp.store);
    assert.deepEqual(report.closed.map((c) => c.requestId), [dead]);
    assert.equal(replayStream(await tmp.store.read(mine)).final, false);
  } finally {
    await tmp.cleanup();
  }
});

test('ownerIsGone: a pid younger than the request was reused, so the owner is gone', () => {
  const p = localProbe();
  const self = { surface: 't', pid: process.pid, host: p.hostname };
  // the parent of this test process is alive and older than "now"
  const parent = { ...self, pid: process.ppid };
  assert.equal(ownerIsGone(parent, new Date().toISOString(), p), false);
  // the same parent "made" a request in 1990: it started after that, so it cannot be the owner
  assert.equal(ownerIsGone(parent, '1990-01-01T00:00:00.000Z', p), true);
  assert.equal(ownerIsGone(self, '1990-01-01T00:00:00.000Z', p), false, 'never this process');
  assert.equal(ownerIsGone(undefined, new Date().toISOString(), p), false, 'unknown owner: left alone');
});

test('a stream that does not replay is closed without running anything', async () => {
  const events = await liveEvents(base());
  const n = upTo(events, 'DecisionRequested');
  const edited = events.slice(0, n).map((e) => (e.type === 'DecisionRequested' ? ({ ...e, data: { ...e.data, offered: ['approved'] } } as StoredEvent) : e));
  const replay = replayStream(edited);
  assert.equal(replay.ok, false);
  const closing = closingEvents(replay, edited, 'its process');
  assert.deepEqual(closing.map((e) => e.type), ['Interrupted']);
  assert.match((closing[0]!.data as { reason: string }).reason, /does not replay .*closed without running/);
  // a broken stream that already ended is not written to
  assert.deepEqual(closingEvents(replayStream(events.map((e, i) => (i === 2 ? ({ ...e, data: { ...e.data, message: 'x' } } as StoredEvent) : e))), events, 'p'), []);
});

test('recovery looks in /proc for a dead owner\'s run: a leftover process is killed and the record says so', async () => {
  const { spawn } = await import('node:child_process');
  const events = await liveEvents(base());
  const tmp = tempSqliteStore();
  const dead = spawnSync('true').pid!;
  const host = localProbe().hostname;
  try {
    const cut = upTo(events, 'ExecutionStarted');
    const id = await crashed(tmp.store, events, cut, dead, host);
    // What a run that escaped its containment leaves behind: a detached process carrying the run id.
    const leftover = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore', env: { ...process.env, WARDEN_RUN_ID: id } });
    await new Promise((r) => leftover.once('spawn', r));
    const other = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore', env: { ...process.env, WARDEN_RUN_ID: 'someone-else' } });
    await new Promise((r) => other.once('spawn', r));
    const quiet = await crashed(tmp.store, events, cut, dead, host);
    try {
      const report = await recoverRequests(tmp.store, localProbe());
      assert.equal(report.closed.length, 2);
      const reason = (s: StoredEvent[]) => (s.at(-1)!.data as { reason: string }).reason;
      const after = await tmp.store.read(id);
      assert.match(reason(after), new RegExp(`1 of its processes were still running and were killed at recovery \\(pids ${leftover.pid}\\)`));
      await new Promise((r) => (leftover.exitCode !== null || leftover.signalCode !== null ? r(null) : leftover.once('exit', r)));
      assert.equal(leftover.signalCode, 'SIGKILL');
      assert.equal(other.exitCode, null, 'another run\'s process is left alone');
      assert.equal(other.signalCode, null);
      assert.match(reason(await tmp.store.read(quiet)), /no process of the run was still running/);
      assert.equal(replayStream(after).final, true);
    } finally {
      other.kill('SIGKILL');
      leftover.kill('SIGKILL');
    }
  } finally {
    await tmp.cleanup();
  }
});

test('recovery says what it could not check or stop', () => {
  assert.match(runLeftWords('p', { checked: false }), /could not be checked \(no \/proc here\)/);
  assert.match(
    runLeftWords('p', { checked: true, killed: [5], survived: [{ pid: 7, why: 'EPERM' }] }),
    /1 of its processes could not be stopped \(7: EPERM\); 1 were killed at recovery \(pids 5\)/,
  );
});
