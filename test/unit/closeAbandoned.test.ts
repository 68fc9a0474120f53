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
import { toOutcome } from '../support/scripted.ts';

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
        runSandboxed: async () => toOutcome(runs.ok()),
        decide: async (_input, journal) => {
          state.down = true; // the database goes away while the person decides
          return journal.recordDecision(decisions.approved!());
        },
        execute: async () => {
          ran = true;
          return toOutcome(runs.ok());
        },
      },
    });
    assert.equal(ran, false);
    assert.notEqual(result.storeError, null);
    let events = await tmp.store.read(result.requestId);
    assert.notEqual(openQuestion(events), null, 'while the store is down the record still shows the question');
    state.down = false;
    for (let i = 0; i < 100 && openQuestion(events) !== null; i++) {
      await new Promise((r) => setTimeout(r, 20));
      events = await tmp.store.read(result.requestId);
    }
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
        runSandboxed: async () => toOutcome(runs.ok()),
        decide: async () => assert.fail('not asked'),
        execute: async () => {
          runsStarted += 1;
          state.down = true;
          return toOutcome(runs.ok());
        },
      },
    });
    assert.equal(runsStarted, 1);
    assert.notEqual(result.storeError, null);
    state.down = false;
    let events = await tmp.store.read(result.requestId);
    for (let i = 0; i < 100 && events.at(-1)?.type !== 'Interrupted'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      events = await tmp.store.read(result.requestId);
    }
    const last = events.at(-1);
    assert.ok(last?.type === 'Interrupted');
    assert.match(last.data.reason, /store failure/);
    assert.equal(events.filter((e) => e.type === 'ExecutionStarted').length, 1);
    assert.deepEqual(replayStream(events).problems, []);
  } finally {
    await tmp.cleanup();
  }
});
