/**
 * Replay's memoised fast path (src/machines/fastStep.ts) against XState's plain `transition()`
 * (issue #14), on generated request streams run live and on mutations of them (cut short, an
 * event dropped, doubled, moved or tampered with, an Interrupted appended, an effect's error):
 * - every step: the same states, the same announced events, the same next state and context;
 * - the whole replay: the same result, problems and pending events included, and the same
 *   XState snapshot where it stopped (what recovery steps on from).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runRequest } from '../../src/requests/runRequest.ts';
import { askForDecision } from '../../src/requests/askForDecision.ts';
import type { PersonAnswer } from '../../src/requests/personChannel.ts';
import { effectEventFor, initialStepReference, nextStepReference, replayStream, type ReplayResult } from '../../src/machines/replay.ts';
import { fastInitialStep, fastNextStep } from '../../src/machines/fastStep.ts';
import { APPROVAL_POLICIES, ASK_REASONS, DECISIONS, SANDBOX_MODES } from '../../src/policy.ts';
import type { RunRecord, StoredEvent } from '../../src/events/types.ts';
import type { Classification } from '../../src/safety/types.ts';
import { execRequest, tempSqliteStore } from '../support/fixtures.ts';
import { scenarioEffects, type Scripted } from '../support/scripted.ts';

const text = fc.string({ maxLength: 8 });
const maybeError = <T>(value: fc.Arbitrary<T>): fc.Arbitrary<Scripted<T>> =>
  fc.oneof({ weight: 8, arbitrary: value.map((v) => ({ value: v })) }, { weight: 1, arbitrary: text.map((e) => ({ error: `boom ${e}` })) });

const classificationArb: fc.Arbitrary<Classification> = fc
  .record({
    outcome: fc.constantFrom('auto-approve', 'ask', 'reject' as const),
    sandbox: fc.constantFrom('none', 'bwrap' as const),
    knownSafe: fc.boolean(),
    reason: text,
    askReason: fc.option(fc.constantFrom(...ASK_REASONS), { nil: undefined }),
    decisionSource: fc.option(fc.constantFrom('policy', 'rule', 'session-cache' as const), { nil: undefined }),
    proposedPrefix: fc.option(fc.constantFrom(['touch'], ['git', 'push']), { nil: undefined }),
  })
  .map((c) => {
    const out: Classification = { outcome: c.outcome, sandbox: c.sandbox, knownSafe: c.knownSafe, dangerous: false, commands: [['touch', 'x']], reason: c.reason };
    if (c.askReason) out.askReason = c.askReason;
    if (c.decisionSource) out.decisionSource = c.decisionSource;
    if (c.proposedPrefix) out.proposedPrefix = [...c.proposedPrefix];
    return out;
  });

const runArb: fc.Arbitrary<RunRecord> = fc
  .record({
    exitCode: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
    signal: fc.option(fc.constant('SIGKILL'), { nil: null }),
    timedOut: fc.boolean(),
    denied: fc.boolean(),
    error: fc.option(text, { nil: undefined }),
  })
  .map((r) => ({
    exitCode: r.exitCode,
    signal: r.signal,
    timedOut: r.timedOut,
    durationMs: 1,
    stdoutExcerpt: '',
    stderrExcerpt: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    truncated: false,
    denial: r.denied ? { denied: true, what: 'write to /etc/x' } : { denied: false },
    ...(r.error === undefined ? {} : { error: r.error }),
  }));

const scenarioArb = fc.record({
  approval: fc.constantFrom(...APPROVAL_POLICIES),
  sandbox: fc.constantFrom(...SANDBOX_MODES),
  escalated: fc.boolean(),
  classify: maybeError(classificationArb),
  runSandboxed: maybeError(runArb),
  execute: maybeError(runArb),
  decision: fc.constantFrom(...DECISIONS),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

type Mutation =
  | { kind: 'none' }
  | { kind: 'cut' | 'drop' | 'double' | 'tamper'; at: number }
  | { kind: 'move'; from: number; to: number }
  | { kind: 'interrupt' };
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.record({ kind: fc.constantFrom('cut', 'drop', 'double', 'tamper' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('move' as const), from: fc.nat(), to: fc.nat() }),
  fc.constant({ kind: 'interrupt' as const }),
);

function mutate(events: StoredEvent[], m: Mutation): StoredEvent[] {
  const n = events.length;
  const copy = [...events];
  switch (m.kind) {
    case 'none':
      return copy;
    case 'cut':
      return copy.slice(0, m.at % (n + 1));
    case 'drop':
      copy.splice(m.at % n, 1);
      return copy;
    case 'double':
      copy.splice(m.at % n, 0, copy[m.at % n]!);
      return copy;
    case 'tamper': {
      const i = m.at % n;
      copy[i] = { ...copy[i]!, data: { ...(copy[i]!.data as object), tampered: true } } as unknown as StoredEvent;
      return copy;
    }
    case 'move': {
      const [e] = copy.splice(m.from % n, 1);
      copy.splice(m.to % n, 0, e!);
      return copy;
    }
    case 'interrupt': {
      const last = copy[n - 1]!;
      copy.push({ ...last, type: 'Interrupted', version: last.version + 1, position: last.position + 1, data: { reason: 'warden stopped' } } as StoredEvent);
      return copy;
    }
  }
}

async function live(store: ReturnType<typeof tempSqliteStore>['store'], s: Scenario) {
  const decider = askForDecision({
    store,
    timeoutMs: null,
    channel: { ask: async (): Promise<PersonAnswer> => ({ decision: s.decision, source: 'user', user: 'prop' }) },
  });
  const effects = scenarioEffects({ classify: s.classify, runSandboxed: s.runSandboxed, execute: s.execute, decide: { error: 'unused' } }, decider);
  const request = execRequest({ withEscalatedPermissions: s.escalated }, s.approval);
  request.policy.sandbox = s.sandbox;
  const result = await runRequest({ store, sessionId: 'fast', request, effects });
  return store.read(result.requestId);
}

function comparable(r: ReplayResult) {
  const { snapshot, ...rest } = r;
  return { rest, snapshot: snapshot ? { value: snapshot.value, status: snapshot.status, context: snapshot.context } : undefined };
}

test('the fast path steps exactly as transition() does, step by step and over whole replays', async () => {
  const tmp = tempSqliteStore();
  let fastSteps = 0;
  try {
    await fc.assert(
      fc.asyncProperty(scenarioArb, mutationArb, async (s, m) => {
        const events = await live(tmp.store, s);
        // step by step along the stored stream
        const first = events[0]!;
        const input = { requestId: first.stream, sessionId: first.sessionId, request: first.data as never };
        let ref = initialStepReference(input);
        const fastStart = fastInitialStep(input);
        assert.ok(fastStart, 'the start compiles');
        assert.deepEqual(fastStart.states, ref.states);
        assert.deepEqual(fastStart.emitted, ref.emitted);
        assert.deepEqual(fastStart.snapshot.context, ref.snapshot.context);
        for (const e of events.slice(1)) {
          const event = effectEventFor(String(ref.snapshot.value), e);
          if (!event) continue;
          const fast = fastNextStep({ value: String(ref.snapshot.value), context: ref.snapshot.context }, event);
          const next = nextStepReference(ref.snapshot, event);
          if (fast) {
            fastSteps++;
            assert.deepEqual(fast.states, next.states, `${e.type}: states`);
            assert.deepEqual(fast.emitted, next.emitted, `${e.type}: announced events`);
            assert.equal(fast.snapshot.value, String(next.snapshot.value));
            assert.deepEqual(fast.snapshot.context, next.snapshot.context, `${e.type}: context`);
          }
          ref = next;
        }
        // the whole replay, on the stream and on a mutation of it
        const stream = mutate(events, m);
        assert.deepEqual(comparable(replayStream(stream)), comparable(replayStream(stream, { plain: true })));
      }),
      { numRuns: 300, seed: Number(process.env.FC_SEED ?? 20261202) },
    );
    assert.ok(fastSteps > 300, `the fast path took only ${fastSteps} steps: it is not being exercised`);
  } finally {
    await tmp.cleanup();
  }
});
