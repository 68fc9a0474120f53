/**
 * Replay steps the pure machine over a stored stream: a live run replays to the same states and
 * events; an edited machine-derived event is a divergence at its index; broken records are named
 * by the rule they break; recovery's Interrupted ends only a run in progress.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRequest } from '../../src/requests/runRequest.ts';
import { replayStream } from '../../src/machines/replay.ts';
import { streamRuleViolations } from '../../src/machines/streamRules.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { classification, decisions, execRequest, runs, tempSqliteStore } from '../support/fixtures.ts';
import { scenarioEffects, stateRecorder, type Scenario } from '../support/scripted.ts';

const base = (overrides: Partial<Scenario> = {}): Scenario => ({
  classify: { value: classification.ask() },
  runSandboxed: { value: runs.ok() },
  decide: { value: decisions.approved!() },
  execute: { value: runs.ok() },
  ...overrides,
});

async function live(s: Scenario, approval: 'on-request' | 'never' = 'on-request') {
  const tmp = tempSqliteStore();
  try {
    const rec = stateRecorder();
    const r = await runRequest({ store: tmp.store, sessionId: 's', request: execRequest({}, approval), effects: scenarioEffects(s), inspect: rec.inspect });
    return { events: await tmp.store.read(r.requestId), states: ['received', ...rec.states], finalState: r.finalState };
  } finally {
    await tmp.cleanup();
  }
}

const CASES: Array<[string, Scenario, string]> = [
  ['asked and approved', base(), 'completed'],
  ['rejected by classification', base({ classify: { value: classification.reject() } }), 'rejected'],
  ['known safe', base({ classify: { value: classification.knownSafe() } }), 'completed'],
  ['sandbox denial escalates then approved', base({ classify: { value: classification.sandboxed() }, runSandboxed: { value: runs.denied() } }), 'completed'],
  ['sandboxed timeout', base({ classify: { value: classification.sandboxed() }, runSandboxed: { value: runs.timeout() } }), 'failed'],
  ['sandboxed effect error', base({ classify: { value: classification.sandboxed() }, runSandboxed: { error: 'spawn EACCES' } }), 'failed'],
  ['classify error', base({ classify: { error: 'parser exploded' } }), 'rejected'],
  ['decide error', base({ decide: { error: 'store gone' } }), 'rejected'],
  ['malformed answer', base({ decide: { value: decisions.malformed!() } }), 'rejected'],
  ['abort', base({ decide: { value: decisions.abort!() } }), 'aborted'],
  ['execution error', base({ execute: { error: 'ENOENT' } }), 'failed'],
  ['execution exit 1', base({ execute: { value: runs.exit1() } }), 'completed'],
  // a person's approval that the sandbox then blocked asks again, and the retry runs bare
  ['approved run blocked by the sandbox escalates then approved', base({ execute: { value: runs.denied() } }), 'completed'],
];

for (const [name, scenario, final] of CASES) {
  test(`replaying the log reproduces every state and event: ${name}`, async () => {
    const { events, states, finalState } = await live(scenario);
    assert.equal(finalState, final);
    const r = replayStream(events);
    assert.deepEqual(r.problems, []);
    assert.equal(r.ok, true);
    assert.equal(r.final, true);
    assert.equal(r.state, final);
    assert.deepEqual(r.states, states);
    assert.deepEqual(r.steps.map((s) => s.index), events.map((_, i) => i));
  });
}

const tamper = (events: StoredEvent[], index: number, edit: (data: Record<string, unknown>) => void): StoredEvent[] =>
  events.map((e, i) => {
    if (i !== index) return e;
    const data = structuredClone(e.data) as Record<string, unknown>;
    edit(data);
    return { ...e, data } as StoredEvent;
  });

test('an edited question is reported at its index with expected and found', async () => {
  const { events } = await live(base());
  const i = events.findIndex((e) => e.type === 'DecisionRequested');
  const r = replayStream(tamper(events, i, (d) => (d.message = 'Allow? (edited)')));
  assert.equal(r.ok, false);
  assert.equal(r.problems[0]!.kind, 'divergence');
  assert.equal(r.problems[0]!.index, i);
  assert.equal((r.problems[0]!.found!.data as { message: string }).message, 'Allow? (edited)');
  assert.match((r.problems[0]!.expected!.data as { message: string }).message, /^Allow the agent to run/);
});

test('an edited policy decision or execution plan is a divergence at that event', async () => {
  const { events } = await live(base({ classify: { value: classification.knownSafe() } }));
  const d = events.findIndex((e) => e.type === 'DecisionRecorded');
  assert.equal(replayStream(tamper(events, d, (x) => (x.source = 'user'))).problems[0]!.index, d);
  const s = events.findIndex((e) => e.type === 'ExecutionStarted');
  const r = replayStream(tamper(events, s, (x) => (x.sandbox = 'none')));
  assert.equal(r.problems[0]!.index, s);
  assert.equal(r.problems[0]!.kind, 'divergence');
});

test('a decision that was not offered, or an asked decision claiming the policy, diverges', async () => {
  const { events } = await live(base({ classify: { value: { ...classification.ask(), proposedPrefix: undefined } } }));
  const d = events.findIndex((e) => e.type === 'DecisionRecorded');
  const notOffered = replayStream(tamper(events, d, (x) => (x.decision = 'approved_always')));
  assert.equal(notOffered.problems[0]!.index, d);
  assert.match(notOffered.problems[0]!.message, /not offered/);
  const policy = replayStream(tamper(events, d, (x) => (x.source = 'policy')));
  assert.match(policy.problems[0]!.message, /cannot come from 'policy'/);
});

test('an event after the final state is reported', async () => {
  const { events } = await live(base({ classify: { value: classification.reject() } }));
  const extra = { ...events[1]!, version: events.length + 1, position: events.at(-1)!.position + 1 } as StoredEvent;
  const r = replayStream([...events, extra]);
  assert.equal(r.ok, false);
  assert.ok(r.problems.some((p) => p.index === events.length && /after/.test(p.message)));
});

test('a truncated stream is open and names the events the machine still owes', async () => {
  const { events } = await live(base());
  const upToDecision = events.slice(0, events.findIndex((e) => e.type === 'DecisionRecorded') + 1);
  const r = replayStream(upToDecision);
  assert.equal(r.ok, true);
  assert.equal(r.final, false);
  assert.equal(r.state, 'executing');
  assert.deepEqual(r.pending.map((e) => e.type), ['ExecutionStarted']);
});

test('Interrupted ends a run in progress, and only that', async () => {
  const { events } = await live(base());
  const started = events.findIndex((e) => e.type === 'ExecutionStarted');
  const interrupted = { ...events[started]!, type: 'Interrupted', data: { reason: 'restart: gone' }, version: started + 2, position: events[started]!.position + 1 } as StoredEvent;
  const ok = replayStream([...events.slice(0, started + 1), interrupted]);
  assert.equal(ok.ok, true);
  assert.equal(ok.final, true);
  assert.equal(ok.interrupted, true);
  assert.equal(ok.state, 'failed');
  const asked = events.findIndex((e) => e.type === 'DecisionRequested');
  const bad = replayStream([...events.slice(0, asked + 1), { ...interrupted, version: asked + 2 }]);
  assert.equal(bad.ok, false);
  assert.match(bad.problems[0]!.message, /Interrupted in state awaitingDecision/);
});

test('stream rules: each broken rule is named', async () => {
  const { events } = await live(base());
  const at = (t: string) => events.findIndex((e) => e.type === t);
  const rules = (evs: StoredEvent[]) => streamRuleViolations(evs).map((v) => v.rule);
  assert.deepEqual(rules(events), []);
  // ExecutionStarted without an approving decision before it (the decision removed, versions kept honest)
  const noDecision = events.filter((e) => e.type !== 'DecisionRecorded').map((e, i) => ({ ...e, version: i + 1 }));
  assert.ok(rules(noDecision).includes('approved-before-run'));
  const denied = tamper(events, at('DecisionRecorded'), (d) => (d.decision = 'denied'));
  assert.ok(rules(denied).includes('approved-before-run'));
  assert.ok(rules(events.slice(1).map((e, i) => ({ ...e, version: i + 1 }))).includes('starts-with-request'));
  assert.ok(rules(tamper(events, at('DecisionRecorded'), (d) => (d.source = 'timeout'))).includes('fail-closed-denies'));
  const twice = [...events, { ...events[at('ExecutionStarted')]!, version: events.length + 1 }];
  assert.ok(rules(twice).includes('nothing-after-end'));
  assert.ok(rules(twice).includes('runs-once'));
  assert.ok(rules(events.map((e) => ({ ...e, version: 1 }))).includes('versions'));
  // a blocked approved run may be retried once, and only under a new approval
  const blocked = (await live(base({ execute: { value: runs.denied() } }))).events;
  assert.deepEqual(rules(blocked), []);
  assert.equal(blocked.filter((e) => e.type === 'ExecutionStarted').length, 2);
  const lastDecision = blocked.map((e) => e.type).lastIndexOf('DecisionRecorded');
  const reused = blocked.filter((_, i) => i !== lastDecision).map((e, i) => ({ ...e, version: i + 1 }));
  assert.ok(rules(reused).includes('approval-used-once'));
  const unblocked = blocked.filter((e) => e.type !== 'ExecutionBlocked').map((e, i) => ({ ...e, version: i + 1 }));
  assert.ok(rules(unblocked).includes('runs-once'));
  // replay reports a rule break as such, first
  const r = replayStream(noDecision);
  assert.equal(r.ok, false);
  assert.equal(r.problems.find((p) => p.kind === 'rule')!.rule, 'approved-before-run');
});

test('the reused replay scope steps exactly as XState getMicrosteps does', async () => {
  const { initialStep, initialStepReference, nextStep, nextStepReference, effectEventFor } = await import('../../src/machines/replay.ts');
  for (const [, scenario] of CASES) {
    const { events } = await live(scenario);
    const first = events[0]!;
    if (first.type !== 'ApprovalRequested') assert.fail('no request');
    const input = { requestId: first.stream, sessionId: first.sessionId, request: first.data };
    let fast = initialStep(input);
    let ref = initialStepReference(input);
    const same = () => {
      assert.deepEqual(fast.states, ref.states);
      assert.deepEqual(fast.emitted, ref.emitted);
      assert.deepEqual(fast.snapshot.value, ref.snapshot.value);
      assert.deepEqual(fast.snapshot.context, ref.snapshot.context);
      assert.equal(fast.snapshot.status, ref.snapshot.status);
    };
    same();
    for (const e of events) {
      const ev = effectEventFor(String(fast.snapshot.value), e);
      if (!ev) continue;
      fast = nextStep(fast.snapshot, ev);
      ref = nextStepReference(ref.snapshot, ev);
      same();
    }
  }
});

// Failures are recorded as data: replay reads Rejected's `failedEffect`, never the reason's words;
// records made before the field existed still replay through the words the machine used then.
for (const [name, scenario, effect] of [
  ['classify error', base({ classify: { error: 'parser exploded' } }), 'classify'],
  ['decide error', base({ decide: { error: 'store gone' } }), 'decide'],
] as const) {
  test(`a failed effect is recorded by kind and replayed from it: ${name}`, async () => {
    const { events } = await live(scenario);
    const rejected = events.at(-1)!;
    assert.ok(rejected.type === 'Rejected');
    assert.equal(rejected.data.failedEffect, effect);
    // the words may change (a translation, a reworded message): the kind still tells replay what failed
    const reworded = events.map((e) => (e === rejected ? { ...e, data: { ...rejected.data, reason: 'something else entirely' } } : e)) as StoredEvent[];
    assert.equal(replayStream(reworded).state, 'rejected');
    // the failure is still read as that effect's: the only difference found is the reworded text itself
    const problems = replayStream(reworded).problems;
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.equal(problems[0]!.index, events.length - 1);
    assert.match(problems[0]!.message, /expected Rejected, found Rejected with different data/);
    // an old record: no kind, the machine's prefix in the words
    const { failedEffect: _kind, ...legacyData } = rejected.data;
    const legacy = events.map((e) => (e === rejected ? { ...e, data: legacyData } : e)) as StoredEvent[];
    const r = replayStream(legacy);
    assert.deepEqual(r.problems, []);
    assert.equal(r.state, 'rejected');
  });
}
