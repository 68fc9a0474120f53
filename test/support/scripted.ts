/**
 * Scripted effects for running the approval machine live against a real store: each invoked actor
 * answers with the scenario's value for it (or throws its error), and the live actor's states are
 * recorded from XState's inspection microsteps so tests can compare them with replay.
 */
import type { InspectionEvent } from 'xstate';
import type { RunRecord } from '../../src/events/types.ts';
import type { RunResult } from '../../src/sandbox/types.ts';
import type { Classification } from '../../src/safety/types.ts';
import type { RequestEffects } from '../../src/requests/runRequest.ts';
import type { RecordedDecision } from '../../src/machines/approval.machine.ts';

export type Scripted<T> = { value: T } | { error: string };

export interface Scenario {
  classify: Scripted<Classification>;
  runSandboxed: Scripted<RunRecord>;
  decide: Scripted<RecordedDecision>;
  execute: Scripted<RunRecord>;
}

export function runResultOf(run: RunRecord): RunResult {
  return {
    sandboxType: 'bwrap',
    exitCode: run.exitCode,
    signal: run.signal,
    timedOut: run.timedOut,
    durationMs: run.durationMs,
    stdout: run.stdoutExcerpt,
    stderr: run.stderrExcerpt,
    stdoutBytes: run.stdoutBytes,
    stderrBytes: run.stderrBytes,
    truncated: run.truncated,
    denial: run.denial,
    ...(run.error === undefined ? {} : { error: run.error }),
    ...(run.network === undefined ? {} : { network: { ...run.network, refused: run.network.refused.map((r) => ({ ...r, kind: r.kind ?? 'not-allowed' })) } }),
  };
}

function answer<T>(s: Scripted<T>): T {
  if ('error' in s) throw new Error(s.error);
  return s.value;
}

/** Effects answering from a scenario; `decide` may be replaced (e.g. by a real decider with a scripted channel). */
export function scenarioEffects(s: Scenario, decide?: RequestEffects['decide']): RequestEffects {
  return {
    classify: async () => answer(s.classify),
    runSandboxed: async () => runResultOf(answer(s.runSandboxed)),
    decide: decide ?? (async (_input, journal) => journal.recordDecision(answer(s.decide))),
    execute: async () => runResultOf(answer(s.execute)),
  };
}

/** Collects the root actor's states, transient ones included, from inspection microsteps. */
export function stateRecorder(): { states: string[]; inspect: (e: InspectionEvent) => void } {
  const states: string[] = [];
  return {
    states,
    inspect(e) {
      if (e.type === '@xstate.microstep' && e.actorRef.sessionId === e.rootId) {
        states.push(String((e.snapshot as unknown as { value: unknown }).value));
      }
    },
  };
}
