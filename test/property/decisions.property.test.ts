/**
 * Laws of the approval flow over arbitrary answers, run live against a real SQLite store:
 * anything that is not exactly one offered decision ends rejected with no ExecutionStarted; any
 * sequence of valid answers folds back, through the projection, to the actor's final state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runRequest, type RequestEffects } from '../../src/requests/runRequest.ts';
import { askForDecision } from '../../src/requests/askForDecision.ts';
import { interpretAnswer } from '../../src/mcp/answer.ts';
import { fold } from '../../src/projections/projection.ts';
import { requestsProjection } from '../../src/projections/requests.projection.ts';
import { DECISIONS } from '../../src/policy.ts';
import type { RunResult } from '../../src/sandbox/types.ts';
import { classification, execRequest, tempSqliteStore } from '../support/fixtures.ts';

const okRun: RunResult = {
  sandboxType: 'bwrap', exitCode: 0, signal: null, timedOut: false, durationMs: 1,
  stdout: '', stderr: '', stdoutBytes: 0, stderrBytes: 0, truncated: false, denial: { denied: false },
};

function effectsAnswering(answer: unknown, store: ReturnType<typeof tempSqliteStore>['store'], ran: { count: number }): RequestEffects {
  return {
    classify: async () => classification.ask(),
    runSandboxed: async () => okRun,
    execute: async () => {
      ran.count += 1;
      return okRun;
    },
    decide: askForDecision({
      store,
      timeoutMs: null,
      // The production reader of a client's answer: the one path by which an outside value becomes a decision.
      channel: { ask: async (input) => interpretAnswer(answer, input.offered, 'prop') },
    }),
  };
}

test('an answer that is not exactly one of the decisions is a recorded denial and nothing runs', async () => {
  // What a client may send back to elicitation/create: anything at all, or the MCP shape with a
  // look-alike decision, an extra key, or the decision in the wrong place.
  const lookAlike = fc.constantFrom('Approved', 'approved ', ' approved', 'APPROVED', 'аpproved', 'approved\u0000', 'approved_for_session\n', 'yes', 'y', '');
  const notAnAnswer = fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v) || !('action' in v));
  const misshapen = fc.oneof(
    lookAlike.map((decision) => ({ action: 'accept', content: { decision } })),
    fc.constantFrom(...DECISIONS).map((decision) => ({ action: 'accept', content: { decision, also: 'approved' } })),
    fc.constantFrom(...DECISIONS).map((decision) => ({ action: 'accept', decision })),
    fc.constantFrom(...DECISIONS).map((decision) => [{ action: 'accept', content: { decision } }]),
    fc.constantFrom(...DECISIONS).map((decision) => ({ action: 'Accept', content: { decision } })),
    fc.constant({ action: 'accept', content: { decision: ['approved'] } }),
  );
  await fc.assert(
    fc.asyncProperty(fc.oneof(notAnAnswer, misshapen), async (answer) => {
      const tmp = tempSqliteStore();
      const ran = { count: 0 };
      try {
        const result = await runRequest({ store: tmp.store, sessionId: 's', request: execRequest(), effects: effectsAnswering(answer, tmp.store, ran) });
        assert.equal(result.finalState, 'rejected');
        assert.equal(ran.count, 0);
        const events = await tmp.store.read(result.requestId);
        assert.equal(events.some((e) => e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted'), false);
        const decision = events.find((e) => e.type === 'DecisionRecorded');
        assert.ok(decision && decision.type === 'DecisionRecorded');
        assert.equal(decision.data.decision, 'denied');
        assert.equal(decision.data.source, 'malformed');
        assert.ok(decision.data.raw !== undefined && decision.data.raw.length <= 4200);
      } finally {
        await tmp.cleanup();
      }
    }),
    { numRuns: 60 },
  );
});

test('for any sequence of valid answers the stored events fold back to each actor\'s final state', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...DECISIONS.filter((d) => d !== 'approved_always')), { minLength: 1, maxLength: 6 }), async (answers) => {
      const tmp = tempSqliteStore();
      try {
        const finals = new Map<string, string>();
        for (const answer of answers) {
          const ran = { count: 0 };
          const result = await runRequest({ store: tmp.store, sessionId: 's', request: execRequest(), effects: effectsAnswering({ action: 'accept', content: { decision: answer } }, tmp.store, ran) });
          finals.set(result.requestId, result.finalState);
          assert.equal(ran.count, answer.startsWith('approved') ? 1 : 0);
        }
        const doc = fold(requestsProjection, await tmp.store.readAll(1));
        assert.equal(doc.byId.size, answers.length);
        for (const [id, state] of finals) {
          assert.equal(doc.byId.get(id)?.state, state);
          assert.equal(doc.byId.get(id)?.final, true);
        }
        assert.equal((await tmp.store.verify()).ok, true);
      } finally {
        await tmp.cleanup();
      }
    }),
    { numRuns: 30 },
  );
});
