/**
 * A request given up on because the store refused a write is closed in the record once the store
 * takes writes again, so nobody later "decides" a question nobody is waiting for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRequest } from '../../src/requests/runRequest.ts';
import { openQuestion } from '../../src/requests/outOfBandDecision.ts';
import { replayStream } from '../../src/machines/replay.ts';
import type { EventStore } from '../../src/events/eventStore.ts';
import { classification, decisions, execRequest, runs, tempSqliteStore } from '../support/fixtures.ts';
import { runResultOf } from '../support/scripted.ts';
import { eventually } from '../support/eventually.ts';

function flakyStore(inner: EventStore) {
  const state = { down: false };
  const store: EventStore = Object.create(inner);
  store.append = (...args) => (state.down ? Promise.reject(new Error('connection refused')) : inner.append(...args));
  store.read = (...args) => (state.down ? Promise.reject(new Error('connection refused')) : inner.read(...args));
  return { store, state };
}

test('a question left open by a store failure is denied in the record once the store is back, and nothing ran', async () => {
  const tmp = tempSqliteStore();
  try {
    const { store, state } = flakyStore(tmp.store);
    let ran = false;
    const result = await runRequest({
      store,
      sessionId: 's',
      request: execRequest(),
      closeAbandoned: { retryMs: 30 },
      effects: {
        classify: async () => classification.ask(),
        runSandboxed: async () => runResultOf(runs.ok()),
        decide: async (_input, journal) => {
          state.down = true; // the database goes away while the person decides
          return journal.recordDecision(decisions.approved!());
        },
        execute: async () => {
          ran = true;
          return runResultOf(runs.ok());
        },
      },
    });
    assert.equal(ran, false);
    assert.notEqual(result.storeError, null);
    const before = await tmp.store.read(result.requestId);
    assert.notEqual(openQuestion(before), null, 'while the store is down the record still shows the question');
    state.down = false;
    const events = await eventually(async () => {
      const now = await tmp.store.read(result.requestId);
      return openQuestion(now) === null ? now : undefined;
    }, 5_000, 'the abandoned question to be closed once the store is back');
    assert.equal(openQuestion(events), null);
    const decision = events.find((e) => e.type === 'DecisionRecorded');
    assert.ok(decision?.type === 'DecisionRecorded');
    assert.equal(decision.data.decision, 'denied');
    assert.equal(decision.data.source, 'error');
    assert.equal(events.at(-1)?.type, 'Rejected');
    assert.equal(events.some((e) => e.type === 'ExecutionStarted'), false);
    const replay = replayStream(events);
    assert.deepEqual(replay.problems, []);
    assert.equal(replay.final, true);
    assert.equal((await tmp.store.verify()).ok, true);
  } finally {
    await tmp.cleanup();
  }
});

test('a run whose end could not be recorded is closed as interrupted, never re-run', async () => {
  const tmp = tempSqliteStore();
  try {
    const { store, state } = flakyStore(tmp.store);
    let runsStarted = 0;
    const result = await runRequest({
      store,
      sessionId: 's',
      request: execRequest(),
      closeAbandoned: { retryMs: 30 },
      effects: {
        classify: async () => classification.knownSafe(),
        runSandboxed: async () => runResultOf(runs.ok()),
        decide: async () => assert.fail('not asked'),
        execute: async () => {
          runsStarted += 1;
          state.down = true;
          return runResultOf(runs.ok());
        },
      },
    });
    assert.equal(runsStarted, 1);
    assert.notEqual(result.storeError, null);
    state.down = false;
    const events = await eventually(async () => {
      const now = await tmp.store.read(result.requestId);
      return now.at(-1)?.type === 'Interrupted' ? now : undefined;
    }, 5_000, 'the interrupted run to be recorded once the store is back');
    const last = events.at(-1);
    assert.ok(last?.type === 'Interrupted');
    assert.match(last.data.reason, /store failure/);
    assert.equal(events.filter((e) => e.type === 'ExecutionStarted').length, 1);
    assert.deepEqual(replayStream(events).problems, []);
  } finally {
    await tmp.cleanup();
  }
});
