/**
 * A request's stored events as the lines of its timeline: when, what happened, and the facts a
 * person checks (classification reason, decision and its source, exit code, output excerpt). Pure;
 * the server reads the stream and the page only prints these as text.
 */
import type { StoredEvent } from '../events/types.ts';
import { excerpt } from '../present/text.ts';
import { ASK_REASON_LABELS, DECISION_DONE, DECISION_SHORT, SOURCE_LABELS } from '../present/labels.ts';

/** A classification's outcome in words (the stored value is shown beside it). */
const CLASSIFIED_WORDS: Record<'auto-approve' | 'ask' | 'reject', string> = {
  'auto-approve': 'allowed without asking',
  ask: 'a person is asked',
  reject: 'rejected',
};
import { deciderText } from '../present/labels.ts';

export interface TimelineEntry {
  position: number;
  time: string;
  type: string;
  title: string;
  details: string[];
  stdout?: string;
  stderr?: string;
}

const OUTPUT_MAX = 4000;

const clip = (text: string) => excerpt(text, OUTPUT_MAX);

function runDetails(run: Extract<StoredEvent, { type: 'ExecutionFinished' | 'ExecutionBlocked' | 'SandboxRunFinished' }>['data']): string[] {
  const d: string[] = [];
  if (run.exitCode !== null) d.push(`exit code ${run.exitCode}`);
  if (run.signal) d.push(`killed by ${run.signal}`);
  if (run.timedOut) d.push('timed out');
  d.push(`${Math.round(run.durationMs)} ms, ${run.stdoutBytes} B stdout, ${run.stderrBytes} B stderr${run.truncated ? ' (truncated)' : ''}`);
  if (run.denial.denied) d.push(`sandbox denied: ${run.denial.what ?? 'an operation'}`);
  if (run.error) d.push(`error: ${run.error}`);
  if (run.network) {
    const made = Object.entries(run.network.allowed).map(([host, n]) => `${host} ×${n}`);
    if (made.length > 0) d.push(`connections: ${made.join(', ')}`);
    for (const r of run.network.refused) d.push(`refused ${r.host} ×${r.count}: ${r.reason}`);
  }
  return d;
}

export function timelineEntry(e: StoredEvent): TimelineEntry {
  const base = { position: e.position, time: e.time, type: e.type };
  switch (e.type) {
    case 'ApprovalRequested': {
      const d = e.data;
      const details = [`cwd ${d.cwd}`, `policy: approval ${d.policy.approval}, sandbox ${d.policy.sandbox}${d.policy.network ? ', network' : ''}`];
      details.push(`from ${d.origin.surface} (pid ${d.origin.pid} on ${d.origin.host}${d.origin.user ? `, user ${d.origin.user}` : ''})`);
      if (d.withEscalatedPermissions) details.push('asks to run without the sandbox');
      if (d.justification) details.push(`justification: ${d.justification}`);
      return { ...base, title: `requested (${d.kind})`, details };
    }
    case 'Classified': {
      const d = e.data;
      const details = [`reason: ${d.reason}`, `sandbox ${d.sandbox}${d.knownSafe ? ', known safe' : ''}${d.dangerous ? ', DANGEROUS' : ''}`];
      if (d.askReason) details.push(`ask reason: ${ASK_REASON_LABELS[d.askReason] ?? d.askReason} (${d.askReason})`);
      if (d.decisionSource) details.push(`decided by: ${SOURCE_LABELS[d.decisionSource]} (${d.decisionSource})`);
      if (d.files?.length) details.push(`files: ${d.files.map((f) => `${f.kind} ${f.path}`).join(', ')}`);
      // the words a person reads, the stored value beside them for whoever checks the record
      return { ...base, title: `checked: ${CLASSIFIED_WORDS[d.outcome]} (${d.outcome})`, details };
    }
    case 'SandboxRunStarted':
      return { ...base, title: 'sandboxed attempt started', details: [`${e.data.sandbox}, ${e.data.mode}`] };
    case 'SandboxRunFinished':
      return { ...base, title: 'sandboxed attempt finished', details: runDetails(e.data), stdout: clip(e.data.stdoutExcerpt), stderr: clip(e.data.stderrExcerpt) };
    case 'Escalated':
      return {
        ...base,
        title: 'escalated to a person',
        details: [`sandbox denied: ${e.data.denial}`, ...(e.data.domains ? [`asks about domains: ${e.data.domains.join(', ')}`] : [])],
      };
    case 'DecisionRequested':
      return { ...base, title: 'waiting for a person', details: [e.data.message, `offered: ${e.data.offered.map((o) => DECISION_SHORT[o]).join(', ')}`] };
    case 'DecisionRecorded': {
      const d = e.data;
      const details = [`source: ${d.source}${d.user ? ` (${d.user})` : ''}: ${SOURCE_LABELS[d.source]}`];
      if (d.reason) details.push(d.reason);
      if (d.rulePrefix) details.push(`always allow prefix: ${d.rulePrefix.join(' ')}`);
      if (d.ruleDomains) details.push(`always allow domains: ${d.ruleDomains.join(', ')}`);
      if (d.decider) details.push(`decided by ${deciderText(d.decider)}`);
      return { ...base, title: `decision: ${DECISION_DONE[d.decision]} (${d.decision})`, details };
    }
    case 'DecisionRefused':
      return { ...base, title: `decision refused: ${e.data.decision} via ${e.data.via}`, details: [e.data.reason, `attempted by ${deciderText(e.data.by)}`] };
    case 'ExecutionStarted':
      return {
        ...base,
        title: 'execution started',
        details: [
          e.data.mode ? `${e.data.sandbox}, ${e.data.mode}` : 'without a sandbox',
          ...(e.data.domains ? [`with domains approved for this retry: ${e.data.domains.join(', ')}`] : []),
        ],
      };
    case 'ExecutionFinished': {
      // a run that exited non-zero is not a success: the title says how it ended
      const ok = e.data.exitCode === 0 && e.data.error === undefined && !e.data.timedOut;
      const title = ok ? 'execution finished' : e.data.exitCode !== null && e.data.exitCode !== 0 ? `execution failed (exit ${e.data.exitCode})` : 'execution did not finish';
      return { ...base, title, details: runDetails(e.data), stdout: clip(e.data.stdoutExcerpt), stderr: clip(e.data.stderrExcerpt) };
    }
    case 'ExecutionBlocked':
      return { ...base, title: 'approved run blocked by the sandbox', details: runDetails(e.data), stdout: clip(e.data.stdoutExcerpt), stderr: clip(e.data.stderrExcerpt) };
    case 'Rejected':
      return { ...base, title: 'rejected', details: [e.data.reason] };
    case 'Aborted':
      return { ...base, title: 'aborted', details: [e.data.reason] };
    case 'Interrupted':
      return { ...base, title: 'interrupted', details: [e.data.reason] };
  }
}

export function buildTimeline(events: StoredEvent[]): TimelineEntry[] {
  return events.map(timelineEntry);
}
