/**
 * Domain approvals of a session as a fold, beside the command approvals (sessionApprovals.projection.ts):
 * a session remembers the names a person allowed when a domain question asked about them, with
 * `approved_for_session` (or `approved_always`, which also writes them to the rules file). Every later
 * request of the session reaches them through the proxy without asking, public addresses only. Pure.
 *
 * What counts, each case naming what it blocks:
 * - only a DecisionRecorded answering a domain question (an Escalated with `domains` before it in the
 *   same stream): an approval of a command question never opens a domain;
 * - only a person's source (`user`, `client`): a fail-closed stand-in never approves, and the policy or
 *   a session cache never answers a question;
 * - only the names the question asked about, as recorded in Escalated: nothing from the answer's text;
 * - `approved` (once) opens them for that retry only, not for the session.
 */
import type { StoredEvent } from '../events/types.ts';
import { ENDING_EVENTS } from '../events/lifecycle.ts';
import type { Projection } from './projection.ts';
import { isPersonSource } from '../policy.ts';

export interface SessionDomainsDoc {
  /** stream -> the names its open domain question asks about */
  asked: Map<string, string[]>;
  /** sessionId -> names approved for the session */
  approved: Map<string, Set<string>>;
}

export const sessionDomainsProjection: Projection<SessionDomainsDoc> = {
  name: 'sessionDomains',
  canHandle: ['Escalated', 'DecisionRecorded', ...ENDING_EVENTS],
  init: () => ({ asked: new Map(), approved: new Map() }),
  evolve(doc, e: StoredEvent) {
    if (e.type === 'Escalated') {
      if (e.data.domains !== undefined && e.data.domains.length > 0) doc.asked.set(e.stream, e.data.domains);
      return doc;
    }
    const asked = doc.asked.get(e.stream);
    if (!asked) return doc;
    if (e.type === 'DecisionRecorded') {
      const forSession = e.data.decision === 'approved_for_session' || e.data.decision === 'approved_always';
      if (forSession && isPersonSource(e.data.source)) {
        let names = doc.approved.get(e.sessionId);
        if (!names) doc.approved.set(e.sessionId, (names = new Set()));
        for (const n of asked) names.add(n);
      }
    }
    // one question per stream: answered or ended, it is closed
    doc.asked.delete(e.stream);
    return doc;
  },
};

export function sessionDomains(doc: SessionDomainsDoc, sessionId: string): string[] {
  return [...(doc.approved.get(sessionId) ?? [])].sort();
}
