/**
 * The stream lifecycle facts, each said once: which events end a request's stream, which close an
 * open question, and how to write the first list into SQL. Recovery, the projections, the stream
 * rules, `warden approve` and both stores' `unfinishedStreams` queries read them from here, so a new
 * ending event is one edit. (The final *states* belong to the machine: `FINAL_STATES` in
 * src/machines/approval.machine.ts; the fail-closed decision sources to src/policy.ts.) Pure.
 */
import type { EventType } from './types.ts';

/**
 * Events after which a request stream has ended, whatever the machine's version. A
 * SandboxRunFinished without a denial ends it too (completed or failed), but one with a denial may
 * go on to a question, so only replay can judge that event.
 */
export const ENDING_EVENTS = ['Rejected', 'Aborted', 'Interrupted', 'ExecutionFinished'] as const satisfies readonly EventType[];

/**
 * Events that close an open question (a DecisionRequested): its answer, or the stream ending while
 * it waits. Not ExecutionFinished: nothing runs while a question is open, so it cannot close one.
 */
export const QUESTION_CLOSING_EVENTS = ['DecisionRecorded', 'Rejected', 'Aborted', 'Interrupted'] as const satisfies readonly EventType[];

/**
 * Events recorded on streams of their own, beside the requests they concern: not a step of any
 * request, so replay, the stream rules and recovery skip them. A refused decision must not end or
 * alter the request (nor move its version under the process waiting on it), hence its own stream.
 */
export const SIDE_EVENTS = ['DecisionRefused'] as const satisfies readonly EventType[];
const side: ReadonlySet<string> = new Set(SIDE_EVENTS);

/** Whether this event sits on a stream of its own rather than in a request's stream. */
export function isSideEvent(event: { type: string }): boolean {
  return side.has(event.type);
}

const ending: ReadonlySet<string> = new Set(ENDING_EVENTS);
const closing: ReadonlySet<string> = new Set(QUESTION_CLOSING_EVENTS);

/** Whether this event ends its stream on its own (see ENDING_EVENTS for SandboxRunFinished). */
export function isEndingEvent(event: { type: string }): boolean {
  return ending.has(event.type);
}

/** Whether this event closes the stream's open question, if it has one. */
export function closesQuestion(event: { type: string }): boolean {
  return closing.has(event.type);
}

/** `'A', 'B'`: a list of event types for an SQL `IN (…)`. The names are our own constants, never input. */
export function sqlTypeList(types: readonly EventType[]): string {
  return types.map((t) => `'${t}'`).join(', ');
}
