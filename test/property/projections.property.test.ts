/**
 * The law of the projections, over generated histories run live against a real SQLite store:
 * folding the whole log equals folding a prefix and applying the rest one event at a time, equals
 * what the live follower (subscribe) holds once caught up; and each request's folded state and
 * states are exactly what replaying its stream through the machine gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runRequest } from '../../src/requests/runRequest.ts';
import { applyEvent, fold } from '../../src/projections/projection.ts';
import { followProjection } from '../../src/projections/liveProjection.ts';
import { requestsProjection } from '../../src/projections/requests.projection.ts';
import { sessionApprovalsProjection } from '../../src/projections/sessionApprovals.projection.ts';
import { pendingProjection } from '../../src/projections/pending.projection.ts';
import { replayStream } from '../../src/machines/replay.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { classification, decisions, execRequest, runs, tempSqliteStore } from '../support/fixtures.ts';
import { scenarioEffects, type Scenario } from '../support/scripted.ts';

const SCENARIOS: Scenario[] = [
  { classify: { value: classification.ask() }, runSandboxed: { value: runs.ok() }, decide: { value: decisions.approved!() }, execute: { value: runs.ok() } },
  { classify: { value: classification.ask() }, runSandboxed: { value: runs.ok() }, decide: { value: decisions.denied!() }, execute: { value: runs.ok() } },
  { classify: { value: classification.ask() }, runSandboxed: { value: runs.ok() }, decide: { value: decisions.approvedForSession!() }, execute: { value: runs.exit1() } },
  { classify: { value: classification.knownSafe() }, runSandboxed: { value: runs.ok() }, decide: { value: decisions.approved!() }, execute: { value: runs.ok() } },
  { classify: { value: classification.reject() }, runSandboxed: { value: runs.ok() }, decide: { value: decisions.approved!() }, execute: { value: runs.ok() } },
  { classify: { value: classification.sandboxed() }, runSandboxed: { value: runs.denied() }, decide: { value: decisions.approved!() }, execute: { value: runs.ok() } },
  { classify: { value: classification.sandboxed() }, runSandboxed: { value: runs.timeout() }, decide: { value: decisions.approved!() }, execute: { value: runs.ok() } },
  { classify: { error: 'parser exploded' }, runSandboxed: { value: runs.ok() }, decide: { value: decisions.approved!() }, execute: { value: runs.ok() } },
  { classify: { value: classification.ask() }, runSandboxed: { value: runs.ok() }, decide: { value: decisions.abort!() }, execute: { value: runs.ok() } },
  { classify: { value: classification.ask() }, runSandboxed: { value: runs.ok() }, decide: { value: decisions.malformed!() }, execute: { value: runs.ok() } },
  { classify: { value: classification.ask() }, runSandboxed: { value: runs.ok() }, decide: { value: decisions.approved!() }, execute: { value: runs.denied() } },
  { classify: { value: classification.ask() }, runSandboxed: { value: runs.ok() }, decide: { error: 'store gone' }, execute: { value: runs.ok() } },
];

const PROJECTIONS = [requestsProjection, sessionApprovalsProjection, pendingProjection] as const;

test('projections: rebuilt = incremental = live-followed, and the folded states are replay\'s', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ scenario: fc.nat(SCENARIOS.length - 1), session: fc.constantFrom('s1', 's2') }), { minLength: 1, maxLength: 8 }),
      fc.nat(),
      async (history, cutSeed) => {
        const tmp = tempSqliteStore();
        const followers = PROJECTIONS.map((p) => followProjection(tmp.store, p as never));
        try {
          for (const { scenario, session } of history) {
            await runRequest({ store: tmp.store, sessionId: session, request: execRequest(), effects: scenarioEffects(SCENARIOS[scenario]!) });
          }
          const all = await tmp.store.readAll(1);
          const cut = cutSeed % (all.length + 1);
          for (const [i, projection] of PROJECTIONS.entries()) {
            const rebuilt = fold(projection as never, all);
            let incremental = fold(projection as never, all.slice(0, cut));
            for (const e of all.slice(cut)) incremental = applyEvent(projection as never, incremental, e);
            assert.deepEqual(incremental, rebuilt, `${projection.name}: incremental from event ${cut}`);
            await followers[i]!.caughtUp();
            assert.deepEqual(followers[i]!.doc, rebuilt, `${projection.name}: live follower`);
          }
          const streams = new Map<string, StoredEvent[]>();
          for (const e of all) streams.set(e.stream, [...(streams.get(e.stream) ?? []), e]);
          const doc = fold(requestsProjection, all);
          assert.equal(doc.byId.size, history.length);
          for (const [id, events] of streams) {
            const replayed = replayStream(events);
            assert.deepEqual(replayed.problems, [], id);
            const summary = doc.byId.get(id)!;
            assert.equal(summary.state, replayed.state, `${id}: folded state`);
            assert.deepEqual(summary.states, replayed.states, `${id}: folded states`);
            assert.equal(summary.final, replayed.final, `${id}: final`);
          }
        } finally {
          for (const f of followers) f.close();
          await tmp.cleanup();
        }
      },
    ),
    { numRuns: 25 },
  );
});
