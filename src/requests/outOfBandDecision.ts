/**
 * Deciding a pending request from outside the process that waits for it (`warden approve`, the
 * inspector): the decision is appended to the request's stream at the version where the question
 * stands, so if anyone else answered first the append conflicts and nothing is written. The waiting
 * process sees the event through `subscribe` and adopts it. I/O: reads and appends to the store.
 */
import type { EventStore } from '../events/eventStore.ts';
import type { EventData, StoredEvent } from '../events/types.ts';
import { closesQuestion } from '../events/lifecycle.ts';
import type { Decision } from '../policy.ts';
import { isExpectedVersionConflictError } from '../errors.ts';

export type OutOfBandResult =
  | { ok: true; recorded: EventData<'DecisionRecorded'>; event: StoredEvent }
  | { ok: false; reason: 'unknown-request' | 'not-pending' | 'already-decided' | 'not-offered'; message: string };

/** The open question of a stream, if it has one: asked, not yet answered, not finished. */
export function openQuestion(events: StoredEvent[]): EventData<'DecisionRequested'> | null {
  const asked = events.findLastIndex((e) => e.type === 'DecisionRequested');
  if (asked < 0) return null;
  const after = events.slice(asked + 1);
  if (after.some(closesQuestion)) return null;
  const e = events[asked]!;
  return e.type === 'DecisionRequested' ? e.data : null;
}

export async function decideOutOfBand(
  store: EventStore,
  requestId: string,
  decision: Decision,
  by: { user: string; via: string },
): Promise<OutOfBandResult> {
  const events = await store.read(requestId);
  if (events.length === 0) return { ok: false, reason: 'unknown-request', message: `no request ${requestId}` };
  const question = openQuestion(events);
  if (!question) return { ok: false, reason: 'not-pending', message: `request ${requestId} is not waiting for a decision` };
  if (!question.offered.includes(decision)) {
    return { ok: false, reason: 'not-offered', message: `'${decision}' is not offered for request ${requestId}` };
  }
  const classified = events.find((e) => e.type === 'Classified');
  const recorded: EventData<'DecisionRecorded'> = {
    decision,
    source: 'user',
    user: by.user,
    reason: `decided via ${by.via}`,
  };
  if (decision === 'approved_always' && classified?.type === 'Classified' && classified.data.proposedPrefix) {
    recorded.rulePrefix = classified.data.proposedPrefix;
  }
  try {
    const result = await store.append(requestId, events.length, [{ type: 'DecisionRecorded', data: recorded, sessionId: events[0]!.sessionId }]);
    return { ok: true, recorded, event: result.events[0]! };
  } catch (error) {
    if (isExpectedVersionConflictError(error)) {
      return { ok: false, reason: 'already-decided', message: `request ${requestId} was decided elsewhere first` };
    }
    throw error;
  }
}
