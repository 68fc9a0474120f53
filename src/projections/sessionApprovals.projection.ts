/**
 * The "approved for this session" cache as a fold: a session remembers the exact requests a person
 * approved with `approved_for_session`. Identity is the request key (kind, argv or patch, cwd), so
 * the same words in another directory are asked again. Pure.
 */
import type { StoredEvent } from '../events/types.ts';
import { ENDING_EVENTS } from '../events/lifecycle.ts';
import type { ApprovalRequest } from '../machines/approval.machine.ts';
import type { Projection } from './projection.ts';
import { isPersonSource, type Decision } from '../policy.ts';

export interface SessionApprovalsDoc {
  /** stream -> key, for requests not yet decided */
  open: Map<string, { sessionId: string; key: string }>;
  /** sessionId -> approved keys */
  approved: Map<string, Set<string>>;
}

/**
 * The decisions that approve beyond one request: the only ones the session folds (this one and
 * sessionDomains.projection.ts) take anything from. A stream that recorded none of them adds
 * nothing to either, so they fold just the streams that did (EventStore.readSessionDecided), not
 * the whole session at every classification (test/property/sessionFolds.property.test.ts).
 */
export const SESSION_WIDE_DECISIONS: readonly Decision[] = ['approved_for_session', 'approved_always'];

export function requestKey(request: Pick<ApprovalRequest, 'kind' | 'command' | 'patch' | 'cwd'>): string {
  return JSON.stringify([request.kind, request.cwd, request.kind === 'exec' ? (request.command ?? []) : (request.patch ?? '')]);
}

export const sessionApprovalsProjection: Projection<SessionApprovalsDoc> = {
  name: 'sessionApprovals',
  canHandle: ['ApprovalRequested', 'DecisionRecorded', ...ENDING_EVENTS],
  init: () => ({ open: new Map(), approved: new Map() }),
  evolve(doc, e: StoredEvent) {
    if (e.type === 'ApprovalRequested') {
      doc.open.set(e.stream, { sessionId: e.sessionId, key: requestKey(e.data) });
      return doc;
    }
    const open = doc.open.get(e.stream);
    if (!open) return doc;
    if (e.type === 'DecisionRecorded' && e.data.decision === 'approved_for_session' && isPersonSource(e.data.source)) {
      let keys = doc.approved.get(open.sessionId);
      if (!keys) doc.approved.set(open.sessionId, (keys = new Set()));
      keys.add(open.key);
    }
    if (e.type !== 'DecisionRecorded') doc.open.delete(e.stream);
    return doc;
  },
};

export function isApprovedForSession(doc: SessionApprovalsDoc, sessionId: string, key: string): boolean {
  return doc.approved.get(sessionId)?.has(key) ?? false;
}
