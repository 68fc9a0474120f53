/**
 * Runs one request through the approval machine against a store: the actor wiring. The machine's
 * emitted events go to the request's StreamJournal; each effect the caller provides is wrapped so
 * that it starts only after the journal is durable. I/O: appends to the store, and whatever the
 * provided effects do.
 */
import { randomUUID } from 'node:crypto';
import { createActor, fromPromise, type AnyActorRef, type InspectionEvent } from 'xstate';
import type { EventStore } from '../events/eventStore.ts';
import type { DomainEvent, RunRecord, StoredEvent } from '../events/types.ts';
import type { Classification } from '../safety/types.ts';
import type { RunResult } from '../sandbox/types.ts';
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
} from '../machines/approval.machine.ts';
import { StreamJournal } from './streamJournal.ts';
import type { PersonChannel } from './personChannel.ts';
import { closeAfterStoreFailure, type CloseOptions } from './closeAbandoned.ts';

/**
 * The world as the machine needs it. Every function may do I/O; none that changes the world is
 * called before its events are durable. `classify` only reads (the session, the rules file, the
 * command's PATH), so it runs while the request's first event is being committed.
 */
export interface RequestEffects {
  classify(input: ClassifyInput): Promise<Classification>;
  runSandboxed(input: RunSandboxedInput): Promise<RunResult>;
  /**
   * Must record the decision through `journal.recordDecision` (or adopt one stored elsewhere) and
   * return it. `channel` is this request's own way to ask a person (an MCP tool call's client), when
   * the surface has one per request rather than one for all (a terminal).
   */
  decide(input: DecideInput, journal: StreamJournal, channel?: PersonChannel): Promise<RecordedDecision>;
  execute(input: ExecuteInput): Promise<RunResult>;
}

export interface RequestResult {
  requestId: string;
  sessionId: string;
  finalState: FinalState;
  context: ApprovalContext;
  /** The events as stored, in order. */
  events: StoredEvent[];
  /** The full (capped) output of the run that produced the result, when one ran. */
  output: RunResult | null;
  /** Set when the store refused an append: the record stops there, and nothing ran after it. */
  storeError: unknown;
  /**
   * With `stopBeforeRun`: the run the machine was about to start (its announcement, not stored) and
   * the state it would run in. `finalState` is then not final: the request waits for its runner.
   */
  handedOff?: { state: 'executing' | 'sandboxedRun'; start: DomainEvent };
}

/** How much of each output stream is kept in the event itself (the caller gets the full capped text). */
export const OUTPUT_EXCERPT_BYTES = 16 * 1024;

export function excerpt(text: string, bytes = OUTPUT_EXCERPT_BYTES): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= bytes) return text;
  return `${buf.subarray(0, bytes).toString('utf8')}\n[warden: excerpt, ${buf.length - bytes} more bytes not recorded]`;
}

/** The record of a run (the event's data): its facts, with excerpts of its output. */
export function runRecordOf(run: RunResult): RunRecord {
  return {
    exitCode: run.exitCode,
    signal: run.signal,
    timedOut: run.timedOut,
    durationMs: Math.max(0, run.durationMs),
    stdoutExcerpt: excerpt(run.stdout),
    stderrExcerpt: excerpt(run.stderr),
    stdoutBytes: run.stdoutBytes,
    stderrBytes: run.stderrBytes,
    truncated: run.truncated,
    ...(run.stdoutEncoding === undefined ? {} : { stdoutEncoding: run.stdoutEncoding }),
    ...(run.stderrEncoding === undefined ? {} : { stderrEncoding: run.stderrEncoding }),
    denial: run.denial.what === undefined ? { denied: run.denial.denied } : { ...run.denial },
    ...(run.error === undefined ? {} : { error: run.error }),
    ...(run.network === undefined ? {} : { network: run.network }),
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
  /** How a record left open by a store failure is closed once the store is back (tests shorten it). */
  closeAbandoned?: CloseOptions;
  /**
   * Hook mode: store everything up to the run and stop there, leaving the run to another process
   * (`warden exec --request`, or the agent client itself), which appends the run's start as its
   * claim. Nothing runs here.
   */
  stopBeforeRun?: boolean;
  /** This request's person channel (one MCP tool call's client); the surface's own otherwise. */
  channel?: PersonChannel;
}

/** What one request's effects need besides their input: its journal and where to leave the full output. */
interface RequestSlot {
  journal: StreamJournal;
  output: RunResult | null;
  /** Set when the actor reaches a question: the runner then passivates the actor and asks. */
  onQuestion: ((input: DecideInput) => void) | null;
  /** The answer (or the failure to get one) handed to the restored actor's `decide`. */
  answer: { decision: RecordedDecision } | { error: unknown } | null;
  /** Set when the actor is about to start a run that `stopBeforeRun` hands to someone else. */
  onHandOff: ((start: DomainEvent) => void) | null;
  handedOff: boolean;
}

/**
 * The machine with the effects bound, built once per set of effects: `provide()` copies the whole
 * machine, which at ten thousand waiting requests would be most of the memory. Per-request state
 * lives in `slots`, keyed by request id.
 */
interface BoundMachine {
  machine: ReturnType<typeof approvalMachine.provide>;
  slots: Map<string, RequestSlot>;
}
const bound = new WeakMap<RequestEffects, BoundMachine>();

function bindEffects(effects: RequestEffects): BoundMachine {
  const existing = bound.get(effects);
  if (existing) return existing;
  const slots = new Map<string, RequestSlot>();
  const slotOf = (requestId: string) => {
    const slot = slots.get(requestId);
    if (!slot) throw new Error(`no running request ${requestId}`);
    return slot;
  };
  // Every effect waits for the journal, so the world changes only after its announcement is durable.
  const afterFlush = <I extends { requestId: string }, O>(effect: (input: I, slot: RequestSlot) => Promise<O>) =>
    fromPromise<O, I>(async ({ input }) => {
      const slot = slotOf(input.requestId);
      await slot.journal.flush();
      return effect(input, slot);
    });
  const machine = approvalMachine.provide({
    actors: {
      // Reads only: does not wait for ApprovalRequested to be durable. Its verdict is recorded after
      // that event (in the same append when it settles in the same turn, streamJournal.ts), and the
      // next effect waits for both.
      classify: fromPromise<Classification, ClassifyInput>(({ input }) => effects.classify(input)),
      runSandboxed: afterFlush(async (input: RunSandboxedInput, slot) => {
        if (slot.handedOff) return new Promise<never>(() => {});
        const run = await effects.runSandboxed(input);
        slot.output = run;
        return runRecordOf(run);
      }),
      // The live actor does not wait here: it hands the question to the runner, which stops it and
      // restores it from its persisted snapshot once answered; the restored actor gets the answer.
      decide: afterFlush(async (input: DecideInput, slot) => {
        const answer = slot.answer;
        if (answer) {
          slot.answer = null;
          if ('error' in answer) throw answer.error;
          return answer.decision;
        }
        slot.onQuestion?.(input);
        return new Promise<RecordedDecision>(() => {});
      }),
      execute: afterFlush(async (input: ExecuteInput, slot) => {
        if (slot.handedOff) return new Promise<never>(() => {});
        const run = await effects.execute(input);
        slot.output = run;
        return runRecordOf(run);
      }),
    },
  });
  const created = { machine, slots };
  bound.set(effects, created);
  return created;
}

type Stage = { kind: 'done' } | { kind: 'question'; input: DecideInput } | { kind: 'handoff'; start: DomainEvent };

/** Runs an actor until it is done or puts a question. */
function untilDoneOrQuestion(actor: AnyActorRef, slot: RequestSlot): Promise<Stage> {
  return new Promise((resolve, reject) => {
    slot.onQuestion = (input) => {
      slot.onQuestion = null;
      resolve({ kind: 'question', input });
    };
    slot.onHandOff = (start) => {
      slot.onHandOff = null;
      resolve({ kind: 'handoff', start });
    };
    actor.subscribe({
      complete: () => resolve({ kind: 'done' }),
      error: (error: unknown) => reject(error),
    });
    actor.start();
  });
}

/**
 * Runs one request to a final state. While a person is asked the actor is passivated: its
 * persisted snapshot is all that stays in memory (ten thousand waiting requests must not be ten
 * thousand live actors), and it is restored when the answer is durable.
 */
export async function runRequest(opts: RunRequestOptions): Promise<RequestResult> {
  const requestId = opts.requestId ?? randomUUID();
  const { machine, slots } = bindEffects(opts.effects);
  if (slots.has(requestId)) throw new Error(`request ${requestId} is already running`);
  const journal = new StreamJournal(opts.store, requestId, opts.sessionId, opts.onStored);
  const slot: RequestSlot = { journal, output: null, onQuestion: null, answer: null, onHandOff: null, handedOff: false };
  slots.set(requestId, slot);
  const input = { requestId, sessionId: opts.sessionId, request: opts.request };
  // Passivation stops the actor, which XState reports as a microstep: not a step of the request.
  const observe = opts.inspect;
  const inspect = observe
    ? { inspect: (e: InspectionEvent) => (e.type === '@xstate.microstep' && e.event.type === 'xstate.stop' ? undefined : observe(e)) }
    : {};
  const emitTo = (actor: AnyActorRef) =>
    actor.on('*', (event: DomainEvent) => {
      if (opts.stopBeforeRun && (event.type === 'ExecutionStarted' || event.type === 'SandboxRunStarted')) {
        slot.handedOff = true;
        slot.onHandOff?.(event);
        return;
      }
      journal.enqueue(event);
    });
  try {
    let actor = createActor(machine, { input, ...inspect });
    emitTo(actor);
    let stage = await untilDoneOrQuestion(actor, slot);
    while (stage.kind === 'question') {
      const persisted = actor.getPersistedSnapshot();
      actor.stop();
      try {
        slot.answer = { decision: await opts.effects.decide(stage.input, journal, opts.channel) };
      } catch (error) {
        slot.answer = { error };
      }
      actor = createActor(machine, { input, snapshot: persisted, ...inspect });
      emitTo(actor);
      stage = await untilDoneOrQuestion(actor, slot);
    }
    const snapshot = actor.getSnapshot();
    if (stage.kind === 'handoff') actor.stop();
    let storeError: unknown = null;
    try {
      await journal.flush();
    } catch (error) {
      storeError = error;
    }
    const failure = storeError ?? journal.failed;
    // The caller hears this request failed; the record must not stay open as if someone waited.
    if (failure && journal.stored.length > 0) void closeAfterStoreFailure(opts.store, requestId, opts.closeAbandoned);
    return {
      requestId,
      sessionId: opts.sessionId,
      finalState: snapshot.value as FinalState,
      context: snapshot.output as ApprovalContext,
      events: journal.stored,
      output: slot.output,
      storeError: failure,
      ...(stage.kind === 'handoff'
        ? { handedOff: { state: stage.start.type === 'ExecutionStarted' ? ('executing' as const) : ('sandboxedRun' as const), start: stage.start } }
        : {}),
    };
  } finally {
    slots.delete(requestId);
  }
}
