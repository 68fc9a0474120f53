/**
 * A decision another process stored is adopted by the process waiting for it only while the
 * request is still open. Red team: recovery in another process (one that took the owner for gone,
 * as a host did for a request made in another pid namespace) closed a waiting request with its
 * decision and an ending event in one append; the waiting process adopted that decision and went
 * on, appending a second ending event after the first (or, for an approval, starting the run of a
 * request the record had closed as not run). Now it stops: nothing runs, nothing is appended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRequest } from '../../src/requests/runRequest.ts';
import { askForDecision } from '../../src/requests/askForDecision.ts';
import { isEndingEvent } from '../../src/events/lifecycle.ts';
import { classification, execRequest, runs, tempSqliteStore } from '../support/fixtures.ts';
import { runResultOf } from '../support/scripted.ts';
import { eventually } from '../support/eventually.ts';

for (const [decision, ending] of [
  ['approved', 'Interrupted'],
  ['denied', 'Rejected'],
] as const) {
  test(`a stored ${decision} followed by ${ending} in the same append is not adopted: the waiting request stops and appends nothing`, async () => {
    const tmp = tempSqliteStore();
    try {
      let ran = false;
      const running = runRequest({
        store: tmp.store,
        sessionId: 's',
        request: execRequest(),
        effects: {
          classify: async () => classification.ask(),
          runSandboxed: async () => {
            ran = true;
            return runResultOf(runs.ok());
          },
          decide: askForDecision({ store: tmp.store, channel: null, timeoutMs: null }),
          execute: async () => {
            ran = true;
            return runResultOf(runs.ok());
          },
        },
      });
      const asked = await eventually(async () => (await tmp.store.readAll(1)).find((e) => e.type === 'DecisionRequested'), 5_000, 'the question');
      const before = await tmp.store.read(asked.stream);
      // another process closes it: its decision and the stream's end, at the version where the question stands
      await tmp.store.append(asked.stream, before.length, [
        { type: 'DecisionRecorded', sessionId: 's', data: { decision, source: decision === 'approved' ? 'user' : 'restart', user: 'elsewhere', reason: 'closed elsewhere' } },
        { type: ending, sessionId: 's', data: { reason: 'restart: closed by another process' } },
      ]);
      const result = await running;
      assert.equal(ran, false, 'nothing ran');
      assert.notEqual(result.storeError, null, 'the request ends as one whose record was taken over');
      const events = await tmp.store.read(asked.stream);
      assert.equal(events.filter(isEndingEvent).length, 1, events.map((e) => e.type).join(', '));
      assert.equal(events.at(-1)?.type, ending, events.map((e) => e.type).join(', '));
    } finally {
      await tmp.cleanup();
    }
  });
}
