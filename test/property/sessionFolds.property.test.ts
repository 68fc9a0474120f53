/**
 * The session-wide approval folds read only the streams that recorded a session-wide decision
 * (EventStore.readSessionDecided with SESSION_WIDE_DECISIONS), not the whole session: over
 * generated sessions in a real SQLite store (every decision and source, domain questions or none,
 * streams ended or open, interleaved across sessions), what they answer from that read is what
 * they answer from readSession, so the narrower read can never grant or withhold an approval.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fold } from '../../src/projections/projection.ts';
import { SESSION_WIDE_DECISIONS, sessionApprovalsProjection } from '../../src/projections/sessionApprovals.projection.ts';
import { sessionDomains, sessionDomainsProjection } from '../../src/projections/sessionDomains.projection.ts';
import { DECISION_SOURCES, DECISIONS } from '../../src/policy.ts';
import type { NewEvent } from '../../src/events/types.ts';
import { lifecycleEvents } from '../contract/fixtures/events.ts';
import { tempSqliteStore } from '../support/fixtures.ts';

const SESSIONS = ['s1', 's2', 's3'];

/** One request's events: asked, maybe a domain question, maybe decided (any decision, any source), maybe ended. */
const requestArb = fc.record({
  session: fc.constantFrom(...SESSIONS),
  command: fc.constantFrom('a', 'b', 'c'),
  domains: fc.option(fc.subarray(['x.example', 'y.example', 'z.example'], { minLength: 1 }), { nil: undefined }),
  decisions: fc.array(fc.record({ decision: fc.constantFrom(...DECISIONS), source: fc.constantFrom(...DECISION_SOURCES) }), { maxLength: 2 }),
  ends: fc.boolean(),
});

function eventsOf(r: typeof requestArb extends fc.Arbitrary<infer T> ? T : never): NewEvent[] {
  const [requested, , , , finished] = lifecycleEvents(r.session);
  const asked = { ...requested!, data: { ...(requested!.data as object), command: ['run', r.command] } } as NewEvent;
  const out: NewEvent[] = [asked];
  if (r.domains !== undefined) out.push({ type: 'Escalated', sessionId: r.session, data: { denial: 'network', domains: r.domains } });
  for (const d of r.decisions) out.push({ type: 'DecisionRecorded', sessionId: r.session, data: d });
  if (r.ends) out.push(finished!);
  return out;
}

test('folding the streams with a session-wide decision answers as folding the whole session', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(requestArb, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 24 }), async (requests, order) => {
      const t = tempSqliteStore();
      try {
        // the requests' events interleaved in the log as `order` says, each stream in its own order
        const queues = requests.map(eventsOf);
        const versions = queues.map(() => 0);
        const pick = [...order, ...queues.flatMap((q, i) => q.map(() => i))];
        for (const n of pick) {
          const i = n % queues.length;
          const next = queues[i]!.shift();
          if (next === undefined) continue;
          await t.store.append(`req-${i}`, versions[i]!, [next]);
          versions[i]! += 1;
        }
        for (const s of SESSIONS) {
          const all = await t.store.readSession(s);
          const decided = await t.store.readSessionDecided(s, SESSION_WIDE_DECISIONS);
          assert.ok(decided.length <= all.length);
          assert.deepEqual(fold(sessionApprovalsProjection, decided).approved.get(s), fold(sessionApprovalsProjection, all).approved.get(s));
          assert.deepEqual(sessionDomains(fold(sessionDomainsProjection, decided), s), sessionDomains(fold(sessionDomainsProjection, all), s));
        }
      } finally {
        await t.cleanup();
      }
    }),
    { numRuns: 60 },
  );
});
