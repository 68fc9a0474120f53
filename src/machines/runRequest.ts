/**
 * Runs one request through the approval machine against a store: the actor wiring. The machine's
 * emitted events go to the request's StreamJournal; each effect the caller provides is wrapped so
 * that it starts only after the journal is durable. I/O: appends to the store, and whatever the
 * provided effects do.
 */
import { randomUUID } from 'node:crypto';
import { createActor, fromPromise, toPromise, type InspectionEvent } from 'xstate';
import type { EventStore } from '../events/eventStore.ts';
import type { RecordedRunResult, StoredEvent } from '../events/types.ts';
import type { Classification } from '../safety/types.ts';
import type { RunOutcome } from '../sandbox/types.ts';
import {
  approvalMachine,
  type ApprovalContext,
  type ApprovalRequest,
  type ClassifyInput,
  type DecideInput,
  type ExecuteInput,
  type FinalState,
  type RecordedDecision,
  type RunSandboxedInput,
} from './approval.machine.ts';
import { StreamJournal } from './streamJournal.ts';

/** The world as the machine needs it. Every function may do I/O; none is called before its events are durable. */
export interface RequestEffects {
  classify(input: ClassifyInput): Promise<Classification>;
  runSandboxed(input: RunSandboxedInput): Promise<RunOutcome>;
  /** Must record the decision through `journal.recordDecision` (or adopt one stored elsewhere) and return it. */
  decide(input: DecideInput, journal: StreamJournal): Promise<RecordedDecision>;
  execute(input: ExecuteInput): Promise<RunOutcome>;
}

export interface RequestResult {
  requestId: string;
  sessionId: string;
  finalState: FinalState;
  context: ApprovalContext;
  /** The events as stored, in order. */
  events: StoredEvent[];
  /** The full (capped) output of the run that produced the result, when one ran. */
  output: RunOutcome | null;
  /** Set when the store refused an append: the record stops there, and nothing ran after it. */
  storeError: unknown;
}

/** How much of each output stream is kept in the event itself (the caller gets the full capped text). */
export const OUTPUT_EXCERPT_BYTES = 16 * 1024;

export function excerpt(text: string, bytes = OUTPUT_EXCERPT_BYTES): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= bytes) return text;
  return `${buf.subarray(0, bytes).toString('utf8')}\n[warden: excerpt, ${buf.length - bytes} more bytes not recorded]`;
}

export function toRecordedRun(outcome: RunOutcome): RecordedRunResult {
  return {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    timedOut: outcome.timedOut,
    durationMs: Math.max(0, outcome.durationMs),
    stdoutExcerpt: excerpt(outcome.stdout),
    stderrExcerpt: excerpt(outcome.stderr),
    stdoutBytes: outcome.stdoutBytes,
    stderrBytes: outcome.stderrBytes,
    truncated: outcome.truncated,
    denial: outcome.denial.what === undefined ? { denied: outcome.denial.denied } : { ...outcome.denial },
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
  };
}

export interface RunRequestOptions {
  store: EventStore;
  sessionId: string;
  requestId?: string;
  request: ApprovalRequest;
  effects: RequestEffects;
  /** Called with each stored event once durable (for live views and logs). */
  onStored?: (event: StoredEvent) => void;
  /** XState inspection of the live actor (tests compare its microsteps with replay). */
  inspect?: (event: InspectionEvent) => void;
}

export async function runRequest(opts: RunRequestOptions): Promise<RequestResult> {
  const requestId = opts.requestId ?? randomUUID();
  const journal = new StreamJournal(opts.store, requestId, opts.sessionId);
  let output: RunOutcome | null = null;

  // Every effect waits for the journal, so the world changes only after its announcement is durable.
  const afterFlush = <I, O>(effect: (input: I) => Promise<O>) =>
    fromPromise<O, I>(async ({ input }) => {
      await journal.flush();
      return effect(input);
    });

  const machine = approvalMachine.provide({
    actors: {
      classify: afterFlush((input: ClassifyInput) => opts.effects.classify(input)),
      runSandboxed: afterFlush(async (input: RunSandboxedInput) => {
        const outcome = await opts.effects.runSandboxed(input);
        output = outcome;
        return toRecordedRun(outcome);
      }),
      decide: afterFlush((input: DecideInput) => opts.effects.decide(input, journal)),
      execute: afterFlush(async (input: ExecuteInput) => {
        const outcome = await opts.effects.execute(input);
        output = outcome;
        return toRecordedRun(outcome);
      }),
    },
  });

  const actor = createActor(machine, {
    input: { requestId, sessionId: opts.sessionId, request: opts.request },
    ...(opts.inspect ? { inspect: opts.inspect } : {}),
  });
  actor.on('*', (event) => journal.enqueue(event));
  const done = toPromise(actor);
  actor.start();
  const context = await done;
  let storeError: unknown = null;
  try {
    await journal.flush();
  } catch (error) {
    storeError = error;
  }
  if (opts.onStored) for (const e of journal.stored) opts.onStored(e);
  return {
    requestId,
    sessionId: opts.sessionId,
    finalState: actor.getSnapshot().value as FinalState,
    context,
    events: journal.stored,
    output,
    storeError: storeError ?? journal.failed,
  };
}
