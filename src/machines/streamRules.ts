/**
 * The rules every stored request stream obeys whatever the machine's version: it starts with its
 * request, nothing runs without an approving decision recorded before it (and each approval starts
 * one run at most), fail-closed decision sources always deny, and nothing follows a terminal event.
 * Replay (replay.ts) checks these before stepping the machine so a broken record is named by the
 * rule it breaks. Pure.
 */
import type { StoredEvent } from '../events/types.ts';
import { isEndingEvent, isSideEvent } from '../events/lifecycle.ts';
import { isApproving, isFailClosedSource } from '../policy.ts';

export interface RuleViolation {
  /** Index of the offending event in the stream (0-based). */
  index: number;
  rule: string;
  message: string;
}


export function streamRuleViolations(events: readonly StoredEvent[]): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (events.length === 0) return out;
  const first = events[0]!;
  // A stream of its own (a refused decision, lifecycle.ts SIDE_EVENTS): side events only, and nothing
  // of it is a step of a request, so the request rules below do not apply to it.
  if (isSideEvent(first)) {
    events.forEach((e, i) => {
      if (!isSideEvent(e)) out.push({ index: i, rule: 'side-stream', message: `${e.type} in a stream of ${first.type} events` });
    });
    return out;
  }
  if (first.type !== 'ApprovalRequested') {
    out.push({ index: 0, rule: 'starts-with-request', message: `the stream starts with ${first.type}, not ApprovalRequested` });
  }
  let lastDecision: StoredEvent | null = null;
  /** Whether lastDecision already let a run start: an approval is used once. */
  let decisionUsed = false;
  let executionStarted = false;
  /** Set by ExecutionBlocked: the one case where a second ExecutionStarted may follow (after a new approval). */
  let executionBlocked = false;
  let sandboxStarted = false;
  let endedAt = -1;
  events.forEach((e, i) => {
    if (e.stream !== first.stream || e.sessionId !== first.sessionId) {
      out.push({ index: i, rule: 'one-stream', message: `event ${i} belongs to ${e.stream}/${e.sessionId}, not ${first.stream}/${first.sessionId}` });
    }
    if (e.version !== i + 1) out.push({ index: i, rule: 'versions', message: `event ${i} has version ${e.version}, expected ${i + 1}` });
    if (endedAt >= 0) {
      out.push({ index: i, rule: 'nothing-after-end', message: `${e.type} after the stream ended with ${events[endedAt]!.type} (event ${endedAt})` });
    }
    switch (e.type) {
      case 'ApprovalRequested':
        if (i > 0) out.push({ index: i, rule: 'one-request', message: 'a second ApprovalRequested in the same stream' });
        break;
      case 'DecisionRefused':
        // a refusal must not alter the request it names: it never sits in a request's stream
        out.push({ index: i, rule: 'side-stream', message: 'a DecisionRefused in a request stream' });
        break;
      case 'DecisionRecorded':
        // restart, timeout, malformed and error are fail-closed answers: an approval under them is forged
        if (isFailClosedSource(e.data.source) && e.data.decision !== 'denied') {
          out.push({ index: i, rule: 'fail-closed-denies', message: `a ${e.data.source} decision must be denied, found ${e.data.decision}` });
        }
        lastDecision = e;
        decisionUsed = false;
        break;
      case 'SandboxRunStarted':
      case 'ExecutionStarted': {
        const d = lastDecision as StoredEvent | null;
        const approved = d !== null && d.type === 'DecisionRecorded' && isApproving(d.data.decision);
        // the write-ahead rule: a run is only ever announced after an approval is durable
        if (!approved) {
          out.push({ index: i, rule: 'approved-before-run', message: `${e.type} without an approving DecisionRecorded before it` });
        } else if (decisionUsed) {
          out.push({ index: i, rule: 'approval-used-once', message: `${e.type} under an approval that already started a run` });
        }
        decisionUsed = true;
        if (e.type === 'ExecutionStarted') {
          // a blocked approved run may be retried once, bare, under a new approval (checked above)
          if (executionStarted && !executionBlocked) out.push({ index: i, rule: 'runs-once', message: 'a second ExecutionStarted' });
          executionStarted = true;
          executionBlocked = false;
        } else {
          if (sandboxStarted) out.push({ index: i, rule: 'runs-once', message: 'a second SandboxRunStarted' });
          sandboxStarted = true;
        }
        break;
      }
      case 'ExecutionFinished':
      case 'ExecutionBlocked':
        if (!executionStarted || executionBlocked) out.push({ index: i, rule: 'finish-after-start', message: `${e.type} without ExecutionStarted` });
        if (e.type === 'ExecutionBlocked') executionBlocked = true;
        break;
      case 'SandboxRunFinished':
        if (!sandboxStarted) out.push({ index: i, rule: 'finish-after-start', message: 'SandboxRunFinished without SandboxRunStarted' });
        break;
      default:
        break;
    }
    if (isEndingEvent(e) && endedAt < 0) endedAt = i;
  });
  return out;
}
