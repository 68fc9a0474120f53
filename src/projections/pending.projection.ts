/**
 * The questions waiting for a person across every process on the store: the requests projection
 * plus the set of streams whose last DecisionRequested has no answer and no end yet (`closesQuestion`
 * in src/events/lifecycle.ts, which `openQuestion` uses too). `warden approve` and the inspector follow
 * it live. Pure.
 */
import type { StoredEvent } from '../events/types.ts';
import { closesQuestion } from '../events/lifecycle.ts';
import type { Projection } from './projection.ts';
import { requestsProjection, type RequestSummary, type RequestsDoc } from './requests.projection.ts';

export interface PendingDoc {
  requests: RequestsDoc;
  /** Stream ids with an open question, in the order they were asked. */
  open: Set<string>;
}

export const pendingProjection: Projection<PendingDoc> = {
  name: 'pending',
  canHandle: requestsProjection.canHandle,
  init: () => ({ requests: requestsProjection.init(), open: new Set() }),
  evolve(doc, e: StoredEvent) {
    doc.requests = requestsProjection.evolve(doc.requests, e);
    if (e.type === 'DecisionRequested') doc.open.add(e.stream);
    else if (closesQuestion(e)) doc.open.delete(e.stream);
    return doc;
  },
};

/** The open questions, oldest first. */
export function pendingRequests(doc: PendingDoc): RequestSummary[] {
  const out: RequestSummary[] = [];
  for (const id of doc.open) {
    const s = doc.requests.byId.get(id);
    if (s) out.push(s);
  }
  return out;
}
