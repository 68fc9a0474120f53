/**
 * One summary per request, folded from its events: what was asked, how it was classified, who
 * decided, what ran, and the states it passed through. The audit log, `warden approve`'s pending
 * list and the inspector read this. Pure.
 */
import type { EventData, PatchFile, StoredEvent } from '../events/types.ts';
import type { Decision, DecisionSource } from '../policy.ts';
import { isFinalState, runEnded, stateAfterClassified, stateAfterSandboxRun, type ApprovalRequest } from '../machines/approval.machine.ts';
import type { Projection } from './projection.ts';

export interface RequestSummary {
  requestId: string;
  sessionId: string;
  kind: 'exec' | 'patch';
  command: string[] | null;
  files: PatchFile[] | null;
  cwd: string;
  justification: string | null;
  request: ApprovalRequest;
  /** The current state; a final one once the request is over. */
  state: string;
  states: string[];
  final: boolean;
  classification: EventData<'Classified'> | null;
  askMessage: string | null;
  askReason: string | null;
  offered: Decision[] | null;
  decision: Decision | null;
  decisionSource: DecisionSource | null;
  decidedBy: string | null;
  /** The decision's recorded reason (for a person: "decided via warden approve"). */
  decisionReason: string | null;
  /** What the sandbox denied, when that led to the question. */
  escalation: string | null;
  /** A domain question: the names it asks about. */
  escalatedDomains: string[] | null;
  /** A person's approval was run and the sandbox blocked it (ExecutionBlocked): the question asks to run it bare. */
  blockedApproval: boolean;
  /** The digest of the diff the question showed (patches; absent on old records). */
  shown: EventData<'DecisionRequested'>['shown'] | null;
  /** Who made an out-of-band decision: the deciding process as warden identified it. */
  decider: EventData<'DecisionRecorded'>['decider'] | null;
  /** Out-of-band decisions warden refused for this request (a command it runs tried to decide). */
  refusals: Array<{ time: string; decision: Decision; via: string; reason: string; by: EventData<'DecisionRefused'>['by'] }>;
  exitCode: number | null;
  timedOut: boolean;
  interrupted: boolean;
  reason: string | null;
  requestedAt: string;
  finishedAt: string | null;
  lastPosition: number;
  version: number;
}


export interface RequestsDoc {
  byId: Map<string, RequestSummary>;
}

function enter(s: RequestSummary, state: string, time: string): void {
  s.state = state;
  s.states.push(state);
  if (isFinalState(state)) {
    s.final = true;
    s.finishedAt = time;
  }
}

function onRun(s: RequestSummary, run: EventData<'ExecutionFinished'>): void {
  s.exitCode = run.exitCode;
  s.timedOut = run.timedOut;
  if (run.error) s.reason = run.error;
  else if (run.timedOut) s.reason = 'timed out';
}

/** Applies one event to one summary (mutating it); the fold below owns the map. */
export function evolveSummary(s: RequestSummary, e: StoredEvent): void {
  s.lastPosition = e.position;
  s.version = e.version;
  switch (e.type) {
    case 'ApprovalRequested':
      break;
    case 'Classified': {
      s.classification = e.data;
      if (e.data.files) s.files = e.data.files;
      const next = stateAfterClassified(e.data);
      // rejected is entered with its Rejected event; autoApproved/sandboxedRun with their first events
      if (next === 'rejected') s.reason = e.data.reason;
      break;
    }
    case 'DecisionRecorded':
      s.decision = e.data.decision;
      s.decisionSource = e.data.source;
      s.decidedBy = e.data.user ?? null;
      s.decisionReason = e.data.reason ?? null;
      s.decider = e.data.decider ?? null;
      if (s.state === 'classifying' && s.classification && stateAfterClassified(s.classification) === 'autoApproved') {
        enter(s, 'autoApproved', e.time);
      }
      break;
    case 'SandboxRunStarted':
      enter(s, 'sandboxedRun', e.time);
      break;
    case 'SandboxRunFinished': {
      onRun(s, e.data);
      const next = stateAfterSandboxRun(e.data, s.request.policy.approval);
      if (next === 'escalating') enter(s, 'escalating', e.time);
      else enter(s, next, e.time);
      break;
    }
    case 'Escalated':
      s.reason = `sandbox denied: ${e.data.denial}`;
      s.escalation = e.data.denial;
      s.escalatedDomains = e.data.domains ?? null;
      break;
    case 'DecisionRequested':
      s.askMessage = e.data.message;
      s.askReason = e.data.reason;
      s.offered = e.data.offered;
      s.shown = e.data.shown ?? null;
      enter(s, 'awaitingDecision', e.time);
      break;
    case 'ExecutionStarted':
      enter(s, 'executing', e.time);
      break;
    case 'ExecutionFinished':
      onRun(s, e.data);
      enter(s, runEnded(e.data) ? 'completed' : 'failed', e.time);
      break;
    case 'ExecutionBlocked':
      // only ever recorded when the machine escalates (stateAfterExecution); an Escalated follows
      onRun(s, e.data);
      s.blockedApproval = true;
      enter(s, 'escalating', e.time);
      break;
    case 'Rejected':
      s.reason = e.data.reason;
      enter(s, 'rejected', e.time);
      break;
    case 'Aborted':
      s.reason = e.data.reason;
      enter(s, 'aborted', e.time);
      break;
    case 'Interrupted':
      s.interrupted = true;
      s.reason = `interrupted: ${e.data.reason}`;
      enter(s, 'failed', e.time);
      break;
  }
}

export function newSummary(e: StoredEvent & { type: 'ApprovalRequested' }): RequestSummary {
  return {
    requestId: e.stream,
    sessionId: e.sessionId,
    kind: e.data.kind,
    command: e.data.command ?? null,
    files: null,
    cwd: e.data.cwd,
    justification: e.data.justification ?? null,
    request: e.data,
    state: 'classifying',
    states: ['received', 'classifying'],
    final: false,
    classification: null,
    askMessage: null,
    askReason: null,
    offered: null,
    decision: null,
    decisionSource: null,
    decidedBy: null,
    decisionReason: null,
    escalation: null,
    escalatedDomains: null,
    blockedApproval: false,
    shown: null,
    refusals: [],
    decider: null,
    exitCode: null,
    timedOut: false,
    interrupted: false,
    reason: null,
    requestedAt: e.time,
    finishedAt: null,
    lastPosition: e.position,
    version: e.version,
  };
}

export const requestsProjection: Projection<RequestsDoc> = {
  name: 'requests',
  canHandle: [
    'ApprovalRequested',
    'Classified',
    'SandboxRunStarted',
    'SandboxRunFinished',
    'Escalated',
    'DecisionRequested',
    'DecisionRecorded',
    'DecisionRefused',
    'ExecutionStarted',
    'ExecutionFinished',
    'ExecutionBlocked',
    'Rejected',
    'Aborted',
    'Interrupted',
  ],
  init: () => ({ byId: new Map() }),
  evolve(doc, e) {
    if (e.type === 'ApprovalRequested') {
      if (!doc.byId.has(e.stream)) doc.byId.set(e.stream, newSummary(e));
      return doc;
    }
    // on a stream of its own: it belongs to the request it names, and changes nothing else of it
    if (e.type === 'DecisionRefused') {
      const r = doc.byId.get(e.data.requestId);
      if (r) r.refusals.push({ time: e.time, decision: e.data.decision, via: e.data.via, reason: e.data.reason, by: e.data.by });
      return doc;
    }
    const s = doc.byId.get(e.stream);
    if (s) evolveSummary(s, e);
    return doc;
  },
};

/** The audit row of DESIGN.md / `warden audit --json`. */
export function auditRow(s: RequestSummary) {
  return {
    request_id: s.requestId,
    session_id: s.sessionId,
    kind: s.kind,
    command: s.command,
    files: s.files,
    cwd: s.cwd,
    surface: s.request.origin.surface,
    client_call_id: s.request.origin.clientCallId ?? null,
    outcome: s.state,
    final: s.final,
    decision: s.decision,
    decision_source: s.decisionSource,
    decided_by: s.decidedBy,
    classification: s.classification?.outcome ?? null,
    classification_reason: s.classification?.reason ?? null,
    refused_decisions: s.refusals.map((r) => ({ time: r.time, decision: r.decision, via: r.via, reason: r.reason, by: r.by })),
    exit_code: s.exitCode,
    timed_out: s.timedOut,
    reason: s.reason,
    requested_at: s.requestedAt,
    finished_at: s.finishedAt,
    duration_ms: s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.requestedAt) : null,
    states: s.states,
  };
}
