/**
 * Carrying on a request that a hook judged and handed off: `warden exec --request <id>` runs an
 * approved command in warden's sandbox under its recorded decision, and the after-tool hook records
 * what a client's own tool did with a request the client ran. Both continue the stream with the
 * pure machine (the same steps replay takes), so the record is exactly what one process running
 * the whole request would have written.
 *
 * `warden exec --request` is the one way in that an agent could try to forge, so it takes nothing
 * on trust: the request must exist, have been handed to warden by a hook (`origin.runner`), be
 * approved with its run not yet started, and match the exact argv and working directory; the
 * run's start is appended at the stream's version, so a second use (or a race) conflicts and runs
 * nothing. I/O: reads and appends to the store, runs the effects given.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AnyEventObject } from 'xstate';
import type { EventStore } from '../events/eventStore.ts';
import type { StoredEvent } from '../events/types.ts';
import { FINAL_STATES, type ApprovalContext, type FinalState } from '../machines/approval.machine.ts';
import { nextStep, replayStream, type ReplayResult } from '../machines/replay.ts';
import { toRecordedRun, type RequestEffects, type RequestResult } from '../requests/runRequest.ts';
import { StreamJournal } from '../requests/streamJournal.ts';
import type { RunOutcome } from '../sandbox/types.ts';
import { WardenError, isExpectedVersionConflictError } from '../errors.ts';

/** A handed-off request that may not be carried on here; nothing was run or recorded. */
export class HandOffRefusedError extends WardenError {
  constructor(message: string) {
    super('HAND_OFF_REFUSED', message);
  }
}

type Snapshot = NonNullable<ReplayResult['snapshot']>;
const FINAL = new Set<string>(FINAL_STATES);
const EFFECT_OF: Record<string, string> = { executing: 'execute', sandboxedRun: 'runSandboxed', awaitingDecision: 'decide' };

/** One effect of the state the snapshot waits in, as the event the machine consumes. */
async function runEffect(snapshot: Snapshot, effects: RequestEffects, journal: StreamJournal, keep: (o: RunOutcome) => void): Promise<AnyEventObject> {
  const state = String(snapshot.value);
  const ctx = snapshot.context as ApprovalContext;
  const base = { requestId: ctx.requestId, sessionId: ctx.sessionId, request: ctx.request };
  const id = EFFECT_OF[state];
  if (!id) throw new Error(`a request in state ${state} cannot be carried on`);
  try {
    let output: unknown;
    if (state === 'executing') {
      const outcome = await effects.execute({ ...base, classification: ctx.classification, decision: ctx.decision!, plan: ctx.plan! });
      keep(outcome);
      output = toRecordedRun(outcome);
    } else if (state === 'sandboxedRun') {
      const outcome = await effects.runSandboxed({ ...base, classification: ctx.classification!, plan: ctx.plan! });
      keep(outcome);
      output = toRecordedRun(outcome);
    } else {
      output = await effects.decide({ ...base, classification: ctx.classification!, ...ctx.question!, escalation: ctx.escalation }, journal);
    }
    return { type: `xstate.done.actor.${id}`, output };
  } catch (error) {
    return { type: `xstate.error.actor.${id}`, error };
  }
}

/** Appends what the replay says is owed (the claim), then steps the machine to a final state. */
async function carryOn(store: EventStore, events: StoredEvent[], replay: ReplayResult, effects: RequestEffects): Promise<RequestResult> {
  const journal = StreamJournal.resume(store, events);
  let snapshot = replay.snapshot!;
  let output: RunOutcome | null = null;
  let storeError: unknown = null;
  for (const e of replay.pending) journal.enqueue(e);
  try {
    await journal.flush();
  } catch (error) {
    if (isExpectedVersionConflictError(error)) throw new HandOffRefusedError(`request ${replay.requestId} was claimed by someone else first; nothing was run`);
    throw error;
  }
  try {
    while (!FINAL.has(String(snapshot.value))) {
      const event = await runEffect(snapshot, effects, journal, (o) => (output = o));
      const stepped = nextStep(snapshot, event);
      for (const e of stepped.emitted) journal.enqueue(e);
      await journal.flush();
      snapshot = stepped.snapshot;
    }
  } catch (error) {
    storeError = error;
  }
  return {
    requestId: replay.requestId,
    sessionId: replay.sessionId,
    finalState: String(snapshot.value) as FinalState,
    context: snapshot.context as ApprovalContext,
    events: journal.stored,
    output,
    storeError,
  };
}

/** `warden exec --request <id> -- ARGV`: runs a request a hook handed to warden, once. */
export async function runHandedOff(store: EventStore, requestId: string, argv: string[], cwd: string, effects: RequestEffects): Promise<RequestResult> {
  const events = await store.read(requestId);
  const first = events[0];
  if (!first || first.type !== 'ApprovalRequested') throw new HandOffRefusedError(`no request ${requestId}; nothing was run`);
  const request = first.data;
  // A request made anywhere else (serve, exec, another client's own tool) is run by its own process only.
  if (request.origin.runner !== 'warden') throw new HandOffRefusedError(`request ${requestId} was not handed to warden exec by a hook; nothing was run`);
  // The id names one decision about one command: it cannot carry another command or directory.
  if (request.kind !== 'exec' || !isDeepStrictEqual(request.command, argv)) {
    throw new HandOffRefusedError(`request ${requestId} was decided for a different command; nothing was run`);
  }
  if (request.cwd !== cwd) throw new HandOffRefusedError(`request ${requestId} was decided for ${request.cwd}, not ${cwd}; nothing was run`);
  const replay = replayStream(events);
  if (!replay.ok || !replay.snapshot) throw new HandOffRefusedError(`request ${requestId} has a record warden cannot follow; nothing was run`);
  if (replay.final) throw new HandOffRefusedError(`request ${requestId} is already over (${replay.state}); nothing was run`);
  const claim = replay.pending[0];
  const claimable = (replay.state === 'executing' && claim?.type === 'ExecutionStarted') || (replay.state === 'sandboxedRun' && claim?.type === 'SandboxRunStarted');
  if (!claimable || replay.pending.length !== 1) {
    throw new HandOffRefusedError(
      replay.pending.length === 0 && (replay.state === 'executing' || replay.state === 'sandboxedRun')
        ? `request ${requestId} was already run (an approval is used once); nothing was run`
        : `request ${requestId} is not approved (it is ${replay.state}); nothing was run`,
    );
  }
  return carryOn(store, events, replay, effects);
}

/** The request a client's tool call made in this session, found by the client's call id. */
export async function requestForCall(store: EventStore, sessionId: string, clientCallId: string): Promise<StoredEvent[] | null> {
  const session = await store.readSession(sessionId);
  const asked = session.filter((e) => e.type === 'ApprovalRequested' && e.data.origin.clientCallId === clientCallId);
  // Two requests claiming one call id: the record cannot say which one ran, so neither is touched.
  if (asked.length !== 1) return null;
  return store.read(asked[0]!.stream);
}

/**
 * After the client's own tool ran a request it was handed (`origin.runner: client`): records the
 * run's result. Returns false when there is nothing to record (not such a request, or already done).
 */
export async function recordClientRun(store: EventStore, events: StoredEvent[], outcome: RunOutcome): Promise<boolean> {
  const first = events[0];
  if (!first || first.type !== 'ApprovalRequested' || first.data.origin.runner !== 'client') return false;
  const replay = replayStream(events);
  // Its start was claimed when the hook allowed it; only the result is owed.
  if (!replay.ok || replay.final || replay.state !== 'executing' || replay.pending.length !== 0) return false;
  const reported: RequestEffects = {
    classify: () => Promise.reject(new Error('not classifying')),
    runSandboxed: () => Promise.reject(new Error('the client runs it')),
    decide: () => Promise.reject(new Error('not deciding')),
    execute: async () => outcome,
  };
  const result = await carryOn(store, events, replay, reported);
  if (result.storeError) throw result.storeError;
  return true;
}
