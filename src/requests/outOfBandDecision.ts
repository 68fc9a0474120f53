/**
 * Deciding a pending request from outside the process that waits for it (`warden approve`, the
 * inspector): the decision is appended to the request's stream at the version where the question
 * stands, so if anyone else answered first the append conflicts and nothing is written. The waiting
 * process sees the event through `subscribe` and adopts it.
 *
 * Before that, the deciding process is judged (deciderCheck.ts) against the owners of every
 * unfinished request in the store, whichever warden process made them: a decision from a command
 * warden runs is not recorded; a `DecisionRefused` is, on a stream of its own, and the question
 * stays open for a person. An accepted decision records who made it (`decider`).
 * I/O: reads and appends to the store, reads /proc.
 */
import { randomUUID } from 'node:crypto';
import type { EventStore } from '../events/eventStore.ts';
import type { Decider, EventData, StoredEvent } from '../events/types.ts';
import { closesQuestion } from '../events/lifecycle.ts';
import type { Decision } from '../policy.ts';
import { isExpectedVersionConflictError } from '../errors.ts';
import { judgeDecider, type RunningOwner } from './deciderCheck.ts';
import { bootTimeMs, readSelfDecider } from './processIdentity.ts';

export type OutOfBandResult =
  | { ok: true; recorded: EventData<'DecisionRecorded'>; event: StoredEvent }
  | { ok: false; reason: 'unknown-request' | 'not-pending' | 'already-decided' | 'not-offered'; message: string }
  | { ok: false; reason: 'refused'; message: string; refusal: StoredEvent };

/** The stream a refusal is recorded on: its own, never the request's (lifecycle.ts SIDE_EVENTS). */
export function refusalStream(): string {
  return `refused-${randomUUID()}`;
}

/**
 * The processes that own the store's unfinished requests, from their first events. A request
 * still unfinished is running (or may run): its owner's descendants are the commands warden runs.
 */
export async function runningOwners(store: EventStore): Promise<RunningOwner[]> {
  const owners: RunningOwner[] = [];
  for (const stream of await store.unfinishedStreams()) {
    const first = (await store.read(stream))[0];
    if (first?.type !== 'ApprovalRequested') continue;
    const o = first.data.origin;
    owners.push({ requestId: stream, pid: o.pid, host: o.host, surface: o.surface, requestedAt: first.time, proc: o.proc, launcher: o.launcher });
  }
  return owners;
}

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
  /**
   * `deciders`: the processes deciding (the inspector's peer may be several processes sharing one
   * socket), every one judged; default this process (`warden approve` decides as itself).
   */
  by: { user: string; via: string; deciders?: Decider[] },
): Promise<OutOfBandResult> {
  const events = await store.read(requestId);
  if (events.length === 0) return { ok: false, reason: 'unknown-request', message: `no request ${requestId}` };
  const question = openQuestion(events);
  if (!question) return { ok: false, reason: 'not-pending', message: `request ${requestId} is not waiting for a decision` };
  if (!question.offered.includes(decision)) {
    return { ok: false, reason: 'not-offered', message: `'${decision}' is not offered for request ${requestId}` };
  }
  const deciders = by.deciders ?? [readSelfDecider()];
  if (deciders.length === 0) throw new TypeError('decideOutOfBand needs the deciding process');
  const owners = await runningOwners(store);
  const boot = bootTimeMs();
  for (const decider of deciders) {
    const verdict = judgeDecider(decider, owners, boot);
    if (verdict.ok) continue;
    const refused: EventData<'DecisionRefused'> = { requestId, decision, via: by.via, by: decider, reason: verdict.reason };
    const result = await store.append(refusalStream(), 0, [{ type: 'DecisionRefused', data: refused, sessionId: events[0]!.sessionId }]);
    return { ok: false, reason: 'refused', message: `not recorded: ${verdict.reason}`, refusal: result.events[0]! };
  }
  const decider = deciders[0]!;
  const classified = events.find((e) => e.type === 'Classified');
  const recorded: EventData<'DecisionRecorded'> = {
    decision,
    source: 'user',
    user: by.user,
    reason: `decided via ${by.via}`,
    decider,
  };
  const escalated = events.findLast((e) => e.type === 'Escalated');
  const domains = question.reason === 'network-domain' && escalated?.type === 'Escalated' ? (escalated.data.domains ?? []) : [];
  if (decision === 'approved_always' && domains.length > 0) recorded.ruleDomains = domains;
  else if (decision === 'approved_always' && classified?.type === 'Classified' && classified.data.proposedPrefix) {
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
