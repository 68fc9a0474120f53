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
import { runRecordOf, type RequestEffects, type RequestResult } from '../requests/runRequest.ts';
import { StreamJournal } from '../requests/streamJournal.ts';
import type { RunResult } from '../sandbox/types.ts';
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
async function runEffect(snapshot: Snapshot, effects: RequestEffects, journal: StreamJournal, keep: (o: RunResult) => void): Promise<AnyEventObject> {
  const state = String(snapshot.value);
  const ctx = snapshot.context as ApprovalContext;
  const base = { requestId: ctx.requestId, sessionId: ctx.sessionId, request: ctx.request };
  const id = EFFECT_OF[state];
  if (!id) throw new Error(`a request in state ${state} cannot be carried on`);
  try {
    let output: unknown;
    if (state === 'executing') {
      const run = await effects.execute({ ...base, classification: ctx.classification, decision: ctx.decision!, plan: ctx.plan! });
      keep(run);
      output = runRecordOf(run);
    } else if (state === 'sandboxedRun') {
      const run = await effects.runSandboxed({ ...base, classification: ctx.classification!, plan: ctx.plan! });
      keep(run);
      output = runRecordOf(run);
    } else {
      output = await effects.decide({ ...base, classification: ctx.classification!, ...ctx.question!, escalation: ctx.escalation, blockedApproval: ctx.execution !== null, escalatedDomains: ctx.escalatedDomains }, journal);
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
  let output: RunResult | null = null;
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

/**
 * The request a client's tool call made in this session, found by the call's id (the client's own,
 * or the one warden derived from the call when the client sends none). Two open requests claiming
 * one id: the record cannot say which one ran, so neither is touched.
 */
export async function requestForCall(store: EventStore, sessionId: string, callId: string): Promise<StoredEvent[] | null> {
  const session = await store.readSession(sessionId);
  const asked = session.filter((e) => e.type === 'ApprovalRequested' && (e.data.origin.clientCallId === callId || e.data.origin.callId === callId));
  const open: StoredEvent[][] = [];
  for (const a of asked) {
    const events = await store.read(a.stream);
    const replay = replayStream(events);
    if (replay.ok && !replay.final) open.push(events);
  }
  return open.length === 1 ? open[0]! : null;
}

/** The requests of this session and surface still waiting for an answer from the client's prompt. */
export async function openClientQuestions(store: EventStore, sessionId: string, surface: string): Promise<StoredEvent[][]> {
  const session = await store.readSession(sessionId);
  const out: StoredEvent[][] = [];
  for (const e of session) {
    if (e.type !== 'ApprovalRequested' || e.data.origin.surface !== surface || e.data.origin.runner !== 'client') continue;
    const events = await store.read(e.stream);
    const replay = replayStream(events);
    if (replay.ok && !replay.final && replay.state === 'awaitingDecision') out.push(events);
  }
  return out;
}

/**
 * The replay of a request the client's own tool runs (`origin.runner: client`) when it stands in
 * `state` with nothing left to feed back; null for any other request.
 */
function clientRunWaitingIn(events: StoredEvent[], state: 'awaitingDecision' | 'executing'): ReplayResult | null {
  const first = events[0];
  if (!first || first.type !== 'ApprovalRequested' || first.data.origin.runner !== 'client') return null;
  const replay = replayStream(events);
  if (!replay.ok || replay.final || replay.state !== state || replay.pending.length !== 0) return null;
  return replay;
}

/**
 * The client's own prompt answered a question warden handed it (the hook said `ask`): its tool
 * ran (`ran`), so the client approved it; or it refused the call, so it denied it. Recorded
 * as the client's decision (source `client`, who: the hook surface), never as warden's user's,
 * then the run's result. Returns false when the request is not waiting for such an answer.
 */
export async function recordClientAnswer(store: EventStore, events: StoredEvent[], answer: { ran: RunResult } | { refused: string }, surface: string): Promise<boolean> {
  const replay = clientRunWaitingIn(events, 'awaitingDecision');
  if (!replay) return false;
  // A report that the call ran approves only a question handed to the client's prompt: one that
  // waits for warden approve was not asked there, and nobody approved it (red team: a PostToolUse
  // for it was recorded as approved and the waiting hook answered allow). A refusal denies either way.
  const first = events[0]!;
  if ('ran' in answer && (first.type !== 'ApprovalRequested' || first.data.origin.prompt !== 'client')) return false;
  const clientsAnswer: RequestEffects = {
    classify: () => Promise.reject(new Error('not classifying')),
    runSandboxed: () => Promise.reject(new Error('the client ran it')),
    decide: (_input, journal) =>
      journal.recordDecision(
        'ran' in answer
          ? { decision: 'approved', source: 'client', user: surface, reason: "approved in the client's own permission prompt (its tool ran the call)" }
          : { decision: 'denied', source: 'client', user: surface, reason: answer.refused },
      ),
    execute: async () => {
      if (!('ran' in answer)) throw new Error('refused calls do not run');
      return answer.ran;
    },
  };
  const result = await carryOn(store, events, replay, clientsAnswer);
  if (result.storeError) throw result.storeError;
  return true;
}

/**
 * After the client's own tool ran a request it was handed (`origin.runner: client`): records the
 * run's result. Returns false when there is nothing to record (not such a request, or already done).
 */
export async function recordClientRun(store: EventStore, events: StoredEvent[], run: RunResult): Promise<boolean> {
  // Its start was claimed when the hook allowed it; only the result is owed.
  const replay = clientRunWaitingIn(events, 'executing');
  if (!replay) return false;
  const reported: RequestEffects = {
    classify: () => Promise.reject(new Error('not classifying')),
    runSandboxed: () => Promise.reject(new Error('the client runs it')),
    decide: () => Promise.reject(new Error('not deciding')),
    execute: async () => run,
  };
  const result = await carryOn(store, events, replay, reported);
  if (result.storeError) throw result.storeError;
  return true;
}
