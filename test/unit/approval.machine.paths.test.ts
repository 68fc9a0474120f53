/**
 * Every path through the approval machine, generated from its definition with @xstate/graph, is run
 * for real (actor + SQLite store + scripted effects) and its recorded events are checked against the
 * events the pure transition function announces along that path, and against the rules every record
 * must obey: requested first, an approving decision durable before any run, exactly one terminal event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getSimplePaths } from '@xstate/graph';
import { getInitialMicrosteps, getMicrosteps, initialTransition, transition, type AnyEventObject } from 'xstate';
import { approvalMachine, type ApprovalInput, type RecordedDecision } from '../../src/machines/approval.machine.ts';
import { runRequest, type RequestEffects } from '../../src/requests/runRequest.ts';
import type { RunRecord, DomainEvent } from '../../src/events/types.ts';
import type { Classification } from '../../src/safety/types.ts';
import type { ApprovalPolicy } from '../../src/policy.ts';
import { classification, decisions, execRequest, runs, tempSqliteStore } from '../support/fixtures.ts';
import { runResultOf } from '../support/scripted.ts';
import { replayStream } from '../../src/machines/replay.ts';

const done = (id: string, output: unknown) => ({ type: `xstate.done.actor.${id}`, output }) as AnyEventObject;
const error = (id: string) => ({ type: `xstate.error.actor.${id}`, error: new Error(`${id} broke`) }) as AnyEventObject;

function eventsFor(stateValue: unknown): AnyEventObject[] {
  switch (stateValue) {
    case 'classifying':
      return [...Object.values(classification).map((c) => done('classify', c())), error('classify')];
    case 'sandboxedRun':
      return [...Object.values(runs).map((r) => done('runSandboxed', r())), error('runSandboxed')];
    case 'awaitingDecision':
      return [...Object.values(decisions).map((d) => done('decide', d())), error('decide')];
    case 'executing':
      // denied: a person-approved run the sandbox blocked asks again (ExecutionBlocked, issue #13)
      return [done('execute', runs.ok()), done('execute', runs.exit1()), done('execute', runs.denied()), done('execute', runs.timeout()), error('execute')];
    default:
      return [];
  }
}

function pathsFor(approval: ApprovalPolicy) {
  const input: ApprovalInput = { requestId: 'r', sessionId: 's', request: execRequest({}, approval) };
  const paths = getSimplePaths(approvalMachine, {
    input,
    events: (snapshot) => eventsFor(snapshot.value),
    // whether an approved run was already blocked tells two otherwise equal questions apart
    serializeState: (snapshot) =>
      JSON.stringify([snapshot.value, snapshot.context.escalation, snapshot.context.decision?.decision, snapshot.context.decision?.source, snapshot.context.execution !== null]),
    serializeEvent: (event) => JSON.stringify(event),
  });
  return { input, paths };
}

/** The events the pure machine announces along a path, plus the decisions the decide effect records. */
function expectedEvents(input: ApprovalInput, steps: AnyEventObject[]): string[] {
  const types: string[] = [];
  const collect = (actions: Array<{ type: string; params?: unknown }>) => {
    for (const a of actions) if (a.type === 'xstate.emit') types.push((a.params as { event: DomainEvent }).event.type);
  };
  let [snapshot, actions] = initialTransition(approvalMachine, input);
  collect(actions as never);
  for (const event of steps) {
    if (event.type === 'xstate.done.actor.decide') types.push('DecisionRecorded');
    [snapshot, actions] = transition(approvalMachine, snapshot, event as never);
    collect(actions as never);
  }
  return types;
}

/** Effects that answer each invoked actor with the next scripted event of the path. */
function scriptedEffects(steps: AnyEventObject[]): RequestEffects {
  const queue = [...steps];
  const next = (id: string) => {
    const step = queue.shift();
    assert.ok(step, `no scripted step left for ${id}`);
    assert.ok(step.type.endsWith(`.${id}`), `expected a step for ${id}, got ${step.type}`);
    if (step.type.startsWith('xstate.error')) throw (step as unknown as { error: Error }).error;
    return (step as unknown as { output: unknown }).output;
  };
  return {
    classify: async () => next('classify') as Classification,
    runSandboxed: async () => runResultOf(next('runSandboxed') as RunRecord),
    decide: async (_input, journal) => journal.recordDecision(next('decide') as RecordedDecision),
    execute: async () => runResultOf(next('execute') as RunRecord),
  };
}

const TERMINAL: Record<string, string | null> = { completed: null, failed: null, rejected: 'Rejected', aborted: 'Aborted' };

for (const approval of (process.env.ONLY ? [process.env.ONLY] : ["on-request", "never"]) as ApprovalPolicy[]) {
  const { input, paths } = pathsFor(approval);

  test(`the graph covers every state of the machine (${approval})`, () => {
    const reached = new Set(paths.map((p) => String(p.state.value)));
    for (const s of ['completed', 'rejected', 'aborted', 'failed']) assert.ok(reached.has(s), `no path ends in ${s}`);
    // Transient states (received, autoApproved, escalating) show only as microsteps.
    const visited = new Set<string>();
    for (const p of paths) {
      let [snapshot] = initialTransition(approvalMachine, input);
      for (const [s] of getInitialMicrosteps(approvalMachine, input)) visited.add(String(s.value));
      for (const step of p.steps.filter((s) => s.event.type !== 'xstate.init')) {
        for (const [s] of getMicrosteps(approvalMachine, snapshot, step.event as never)) visited.add(String(s.value));
        [snapshot] = transition(approvalMachine, snapshot, step.event as never);
      }
    }
    const all = Object.keys(approvalMachine.root.states);
    const unreachedUnderNever = approval === 'never' ? ['escalating'] : [];
    for (const s of all) if (!unreachedUnderNever.includes(s)) assert.ok(visited.has(s) || reached.has(s), `state ${s} never visited`);
    assert.ok(paths.length >= 40, `only ${paths.length} paths`);
  });

  test(`every path records exactly the announced events, write-ahead (${approval})`, async () => {
    const finals = paths.filter((p) => p.state.status === 'done');
    for (const path of finals) {
      const steps = path.steps.map((s) => s.event).filter((e) => e.type.startsWith('xstate.'));
      const scripted = steps.filter((e) => e.type !== 'xstate.init');
      const tmp = tempSqliteStore();
      try {
        const result = await runRequest({
          store: tmp.store,
          sessionId: 's',
          request: input.request,
          effects: scriptedEffects(scripted),
        });
        const label = `${approval}: ${scripted.map((e) => e.type.replace('xstate.', '') + ('output' in e ? JSON.stringify((e as unknown as { output: { outcome?: string; decision?: string; exitCode?: number } }).output).slice(0, 40) : '')).join(' > ')}`;
        assert.equal(result.finalState, path.state.value, label);
        const stored = (await tmp.store.read(result.requestId)).map((e) => e.type);
        assert.deepEqual(stored, expectedEvents(input, scripted), label);
        assert.equal(stored[0], 'ApprovalRequested', label);
        // write-ahead: every run is preceded by an approving decision
        const recorded = await tmp.store.read(result.requestId);
        recorded.forEach((e, i) => {
          if (e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted') {
            const before = recorded.slice(0, i).filter((x) => x.type === 'DecisionRecorded');
            const last = before.at(-1);
            assert.ok(last && last.type === 'DecisionRecorded' && ['approved', 'approved_for_session', 'approved_always'].includes(last.data.decision), label);
          }
        });
        const terminal = TERMINAL[String(path.state.value)];
        if (terminal) assert.equal(stored.at(-1), terminal, label);
        else assert.ok(['ExecutionFinished', 'SandboxRunFinished'].includes(stored.at(-1)!), label);
        assert.equal((await tmp.store.verify()).ok, true);
        // and replays (bar scripted answers the question did not offer, which replay rightly names)
        const problems = replayStream(recorded).problems.filter((p) => !/was not offered/.test(p.message));
        assert.deepEqual(problems, [], label);
      } finally {
        await tmp.cleanup();
      }
    }
  });
}

test('an approved request records its decision and start before the command is spawned', async () => {
  const tmp = tempSqliteStore();
  try {
    let seenAtSpawn: string[] = [];
    const result = await runRequest({
      store: tmp.store,
      sessionId: 's',
      request: execRequest(),
      effects: {
        classify: async () => classification.ask(),
        runSandboxed: async () => assert.fail('no sandboxed attempt expected'),
        decide: async (_i, journal) => journal.recordDecision(decisions.approved!()),
        execute: async (input) => {
          seenAtSpawn = (await tmp.store.read(input.requestId)).map((e) => e.type);
          return runResultOf(runs.ok());
        },
      },
    });
    assert.equal(result.finalState, 'completed');
    assert.deepEqual(seenAtSpawn, ['ApprovalRequested', 'Classified', 'DecisionRequested', 'DecisionRecorded', 'ExecutionStarted']);
  } finally {
    await tmp.cleanup();
  }
});

test('a store that refuses the decision means nothing runs', async () => {
  const tmp = tempSqliteStore();
  let ran = false;
  try {
    const broken = Object.create(tmp.store) as typeof tmp.store;
    // the disk fills at the decision's append and stays full (however the events before it were batched)
    let full = false;
    broken.append = async (...args) => {
      full ||= args[2].some((e) => e.type === 'DecisionRecorded');
      if (full) throw new Error('disk full');
      return tmp.store.append(...args);
    };
    const result = await runRequest({
      store: broken,
      sessionId: 's',
      request: execRequest(),
      effects: {
        classify: async () => classification.ask(),
        runSandboxed: async () => assert.fail('not expected'),
        decide: async (_i, journal) => journal.recordDecision(decisions.approved!()),
        execute: async () => {
          ran = true;
          return runResultOf(runs.ok());
        },
      },
    });
    assert.equal(ran, false);
    assert.notEqual(result.storeError, null);
    assert.ok(['rejected', 'failed'].includes(result.finalState));
  } finally {
    await tmp.cleanup();
  }
});

/** The store, with each append's event types listed in `appends` as it is asked. */
function countingStore(tmp: ReturnType<typeof tempSqliteStore>) {
  const appends: string[][] = [];
  const store = Object.create(tmp.store) as typeof tmp.store;
  store.append = async (...args) => {
    appends.push(args[2].map((e) => e.type));
    return tmp.store.append(...args);
  };
  return { store, appends };
}

test('a classification that settles in the same turn commits with ApprovalRequested: one append (one fsync) before the run', async () => {
  const tmp = tempSqliteStore();
  try {
    const { store, appends } = countingStore(tmp);
    let seenAtRun: string[] = [];
    const result = await runRequest({
      store,
      sessionId: 's',
      request: execRequest(),
      effects: {
        // as a patch's: several awaits (the session's read, the session cache), each settled at once
        // since SQLite reads and lstat are synchronous, so the verdict is there within the turn
        classify: async () => {
          for (let hop = 0; hop < 10; hop++) await Promise.resolve();
          return classification.sandboxed();
        },
        runSandboxed: async (input) => {
          seenAtRun = (await tmp.store.read(input.requestId)).map((e) => e.type);
          return runResultOf(runs.ok());
        },
        decide: async () => assert.fail('no question expected'),
        execute: async () => assert.fail('no unsandboxed run expected'),
      },
    });
    assert.equal(result.finalState, 'completed');
    assert.deepEqual(appends, [['ApprovalRequested', 'Classified', 'DecisionRecorded', 'SandboxRunStarted'], ['SandboxRunFinished']]);
    // still write-ahead: the decision and the run's announcement were durable when it started
    assert.deepEqual(seenAtRun, ['ApprovalRequested', 'Classified', 'DecisionRecorded', 'SandboxRunStarted']);
  } finally {
    await tmp.cleanup();
  }
});

test('a classification that waits on I/O does not hold ApprovalRequested back: it is durable while the verdict is awaited', async () => {
  const tmp = tempSqliteStore();
  try {
    const { store, appends } = countingStore(tmp);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const requestId = 'waits-on-io';
    const running = runRequest({
      store,
      sessionId: 's',
      requestId,
      request: execRequest(),
      effects: {
        classify: async () => {
          await gate; // the shell grammar loading, a PostgreSQL read
          return classification.reject();
        },
        runSandboxed: async () => assert.fail('not expected'),
        decide: async () => assert.fail('not expected'),
        execute: async () => assert.fail('not expected'),
      },
    });
    while ((await tmp.store.read(requestId)).length === 0) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual((await tmp.store.read(requestId)).map((e) => e.type), ['ApprovalRequested']);
    release();
    const result = await running;
    assert.equal(result.finalState, 'rejected');
    assert.deepEqual(appends[0], ['ApprovalRequested']);
  } finally {
    await tmp.cleanup();
  }
});
