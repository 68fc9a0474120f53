/**
 * Laws of replay, over generated request scenarios run live (runRequest, a real SQLite store, the
 * real decider with a scripted person channel, scripted classify/sandbox/execute effects):
 * - replaying the log reproduces every state the live actor passed through, and every event;
 * - an edit to any event the machine derives is reported as a divergence at exactly that index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runRequest } from '../../src/requests/runRequest.ts';
import { askForDecision } from '../../src/requests/askForDecision.ts';
import type { PersonAnswer } from '../../src/requests/personChannel.ts';
import { replayStream } from '../../src/machines/replay.ts';
import { APPROVAL_POLICIES, ASK_REASONS, DECISIONS, SANDBOX_MODES } from '../../src/policy.ts';
import type { RunRecord, StoredEvent } from '../../src/events/types.ts';
import type { Classification } from '../../src/safety/types.ts';
import { execRequest, tempSqliteStore } from '../support/fixtures.ts';
import { scenarioEffects, stateRecorder, type Scripted } from '../support/scripted.ts';

const text = fc.string({ maxLength: 12 });
const maybeError = <T>(value: fc.Arbitrary<T>): fc.Arbitrary<Scripted<T>> =>
  fc.oneof({ weight: 9, arbitrary: value.map((v) => ({ value: v })) }, { weight: 1, arbitrary: text.map((e) => ({ error: `boom ${e}` })) });

const classificationArb: fc.Arbitrary<Classification> = fc
  .record({
    outcome: fc.constantFrom('auto-approve', 'ask', 'reject' as const),
    sandbox: fc.constantFrom('none', 'bwrap' as const),
    knownSafe: fc.boolean(),
    dangerous: fc.boolean(),
    reason: text,
    askReason: fc.option(fc.constantFrom(...ASK_REASONS), { nil: undefined }),
    decisionSource: fc.option(fc.constantFrom('policy', 'rule', 'session-cache' as const), { nil: undefined }),
    proposedPrefix: fc.option(fc.constantFrom(['touch'], ['git', 'push']), { nil: undefined }),
  })
  .map((c) => {
    const out: Classification = { outcome: c.outcome, sandbox: c.sandbox, knownSafe: c.knownSafe, dangerous: c.dangerous, commands: [['touch', 'x']], reason: c.reason };
    if (c.askReason) out.askReason = c.askReason;
    if (c.decisionSource) out.decisionSource = c.decisionSource;
    if (c.proposedPrefix) out.proposedPrefix = [...c.proposedPrefix];
    return out;
  });

const runArb: fc.Arbitrary<RunRecord> = fc
  .record({
    exitCode: fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }),
    signal: fc.option(fc.constantFrom('SIGKILL', 'SIGTERM'), { nil: null }),
    timedOut: fc.boolean(),
    durationMs: fc.integer({ min: 0, max: 100_000 }),
    stdoutExcerpt: text,
    denied: fc.boolean(),
    what: fc.option(fc.constantFrom('write to /etc/x', 'network'), { nil: undefined }),
    error: fc.option(text, { nil: undefined }),
  })
  .map((r) => ({
    exitCode: r.exitCode,
    signal: r.signal,
    timedOut: r.timedOut,
    durationMs: r.durationMs,
    stdoutExcerpt: r.stdoutExcerpt,
    stderrExcerpt: '',
    stdoutBytes: Buffer.byteLength(r.stdoutExcerpt),
    stderrBytes: 0,
    truncated: false,
    denial: r.denied ? (r.what ? { denied: true, what: r.what } : { denied: true }) : { denied: false },
    ...(r.error === undefined ? {} : { error: r.error }),
  }));

/** How the person answers: any decision (offered or not), a malformed reply, a broken channel, or silence until the timeout. */
type Answer = { kind: 'answer'; decision: (typeof DECISIONS)[number] } | { kind: 'malformed'; raw: string } | { kind: 'broken' } | { kind: 'silent' };
const answerArb: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...DECISIONS).map((decision) => ({ kind: 'answer' as const, decision })) },
  { weight: 1, arbitrary: text.map((raw) => ({ kind: 'malformed' as const, raw })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'broken' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'silent' as const }) },
);

const scenarioArb = fc.record({
  approval: fc.constantFrom(...APPROVAL_POLICIES),
  sandbox: fc.constantFrom(...SANDBOX_MODES),
  escalated: fc.boolean(),
  classify: maybeError(classificationArb),
  runSandboxed: maybeError(runArb),
  execute: maybeError(runArb),
  answer: answerArb,
  decideBreaks: fc.nat(9).map((n) => n === 0),
});

type Generated = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

async function runLive(store: ReturnType<typeof tempSqliteStore>['store'], s: Generated) {
  const decider = askForDecision({
    store,
    timeoutMs: s.answer.kind === 'silent' ? 5 : null,
    channel: {
      ask: (_input, signal) =>
        new Promise<PersonAnswer>((resolve, reject) => {
          const a = s.answer;
          if (a.kind === 'answer') resolve({ decision: a.decision, source: 'user', user: 'prop' });
          else if (a.kind === 'malformed') resolve({ decision: 'denied', source: 'malformed', raw: a.raw, reason: 'not a decision' });
          else if (a.kind === 'broken') reject(new Error('channel closed'));
          else signal.addEventListener('abort', () => reject(new Error('cancelled')));
        }),
    },
  });
  const effects = scenarioEffects(
    { classify: s.classify, runSandboxed: s.runSandboxed, execute: s.execute, decide: { error: 'unused' } },
    s.decideBreaks ? async () => Promise.reject(new Error('store unreachable')) : decider,
  );
  const request = execRequest({ withEscalatedPermissions: s.escalated }, s.approval);
  request.policy.sandbox = s.sandbox;
  const rec = stateRecorder();
  const result = await runRequest({ store, sessionId: 'prop', request, effects, inspect: rec.inspect });
  return { result, states: ['received', ...rec.states], events: await store.read(result.requestId) };
}

test('replaying the log reproduces every state and every event of a live run', async () => {
  const tmp = tempSqliteStore();
  const seen = new Set<string>();
  try {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const { result, states, events } = await runLive(tmp.store, s);
        for (const st of states) seen.add(st);
        const r = replayStream(events);
        assert.deepEqual(r.problems, []);
        assert.equal(r.final, true);
        assert.equal(r.state, result.finalState);
        assert.deepEqual(r.states, states);
        assert.equal(r.steps.length, events.length, 'every stored event is accounted for');
      }),
      // A pinned seed: the coverage check below must not depend on luck (set FC_SEED to explore).
      { numRuns: 150, seed: Number(process.env.FC_SEED ?? 20261125) },
    );
    assert.equal((await tmp.store.verify()).ok, true);
    // the generator reaches every state of the machine
    for (const st of ['received', 'classifying', 'autoApproved', 'sandboxedRun', 'escalating', 'awaitingDecision', 'executing', 'completed', 'rejected', 'aborted', 'failed']) {
      assert.ok(seen.has(st), `no scenario passed through ${st}`);
    }
  } finally {
    await tmp.cleanup();
  }
});

test('an edit to any event the machine derives is a divergence at exactly that index', async () => {
  const tmp = tempSqliteStore();
  try {
    await fc.assert(
      fc.asyncProperty(scenarioArb, fc.nat(), fc.constantFrom('add', 'change'), async (s, pick, how) => {
        const { events } = await runLive(tmp.store, s);
        const derived = replayStream(events).steps.filter((st) => st.by === 'machine' && st.index > 0);
        fc.pre(derived.length > 0);
        const target = derived[pick % derived.length]!.index;
        const copy: StoredEvent[] = events.map((e, i) => {
          if (i !== target) return e;
          const data = structuredClone(e.data) as Record<string, unknown>;
          const key = Object.keys(data)[0];
          if (how === 'change' && key !== undefined) data[key] = typeof data[key] === 'string' ? `${data[key]}!` : 'tampered';
          else data.tampered = true;
          return { ...e, data } as StoredEvent;
        });
        const r = replayStream(copy);
        assert.equal(r.ok, false);
        assert.equal(r.problems[0]!.index, target, JSON.stringify(r.problems[0]));
        assert.deepEqual(r.problems[0]!.found, { type: copy[target]!.type, data: copy[target]!.data });
        assert.deepEqual(events.slice(0, target).length, target);
      }),
      { numRuns: 100 },
    );
  } finally {
    await tmp.cleanup();
  }
});
