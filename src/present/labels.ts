/**
 * One human name per concept, for every surface that shows warden's record to a person: the
 * terminal prompt, `warden approve`, the inspector, `warden audit` and the MCP elicitation text.
 * The stored values (`approved_for_session`, `not-known-safe`, `awaitingDecision`) stay what they
 * are in the events; only these tables turn them into words. The inspector page receives the same
 * tables from its server, so it has no copy of its own. Pure.
 */
import type { AskReason, Decision, DecisionSource } from '../policy.ts';
import type { Decider } from '../events/types.ts';

/** What a choice does, as a key or button reads before it is pressed. */
export const DECISION_CHOICES: Record<Decision, string> = {
  approved: 'Yes, once',
  approved_for_session: "Yes, and don't ask again for exactly this in this session",
  approved_always: 'Yes, and always allow it',
  denied: 'No (the agent is told and goes on)',
  abort: 'No, and stop the agent',
};

/** A choice in two or three words (the footer's "Enter: no"). */
export const DECISION_SHORT: Record<Decision, string> = {
  approved: 'yes, once',
  approved_for_session: 'yes, for this session',
  approved_always: 'always allow',
  denied: 'no',
  abort: 'abort',
};

/** What was decided, as a record or a history line reads afterwards. */
export const DECISION_DONE: Record<Decision, string> = {
  approved: 'approved once',
  approved_for_session: 'approved for this session',
  approved_always: 'always allowed',
  denied: 'denied',
  abort: 'aborted',
};

/** Who or what gave a decision. */
export const SOURCE_LABELS: Record<DecisionSource, string> = {
  user: 'a person',
  client: 'the MCP client (a person may or may not have seen it)',
  'client-auto': 'the MCP client by itself, faster than a person can read (denied)',
  'session-cache': 'an earlier approval in this session',
  policy: 'the approval policy',
  rule: 'a rule',
  malformed: 'an unusable answer (denied)',
  timeout: 'nobody, in time (denied)',
  error: 'nobody: asking failed (denied)',
  restart: 'recovery: the asking process was gone (denied)',
};

/** Why a person is asked, in a few words (a list column); the sentence is ASK_REASON_SENTENCES. */
export const ASK_REASON_LABELS: Record<AskReason, string> = {
  'not-known-safe': 'not known to be safe',
  dangerous: 'looks dangerous',
  escalation: 'wants no sandbox',
  'sandbox-denial': 'sandbox blocked it',
  'network-domain': 'wants a new domain',
  rule: 'a rule says ask',
  patch: 'edits files',
  'no-sandbox': 'no sandbox here',
};

export const ASK_REASON_SENTENCES: Record<AskReason, string> = {
  'not-known-safe': 'it is not a command warden knows to be read-only',
  dangerous: 'it might destroy data or history',
  escalation: 'the agent asks to run it without the sandbox',
  'sandbox-denial': 'the sandbox blocked it; approving runs it again without the sandbox',
  'network-domain': 'the sandbox refused a connection to a domain that is not allowed; approving runs it again in the sandbox with that domain allowed',
  rule: 'one of your rules says to ask',
  patch: 'it changes files',
  'no-sandbox': 'there is no sandbox here to contain it',
};

/** The approval machine's states, as a person says them. */
export const STATE_LABELS: Record<string, string> = {
  received: 'received',
  classifying: 'being checked',
  autoApproved: 'allowed without asking',
  sandboxedRun: 'trying in the sandbox',
  escalating: 'sandbox blocked it',
  awaitingDecision: 'waiting for a person',
  executing: 'running',
  completed: 'completed',
  rejected: 'rejected',
  aborted: 'aborted',
  failed: 'failed',
};

export function stateLabel(state: string): string {
  return STATE_LABELS[state] ?? state;
}

/**
 * The chart's transitions by internal name (`event [guard]`, as chartGraph.ts labels them), in
 * words. A transition missing here shows its internal name: the chart is drawn from the machine,
 * so a new transition is never hidden.
 */
export const TRANSITION_LABELS: Record<string, string> = {
  always: 'next',
  'done.classify [isRejectedByClassification]': 'a rule or the policy rejects it',
  'done.classify [isSandboxedAttempt]': 'try it in the sandbox',
  'done.classify [isAutoApproved]': 'safe or allowed: run it',
  'done.classify': 'ask a person',
  'error.classify': 'checking failed',
  'done.runSandboxed [isEscalatableDenial]': 'sandbox blocked it',
  'done.runSandboxed [runDidNotFinish]': 'did not finish',
  'done.runSandboxed': 'finished in the sandbox',
  'error.runSandboxed': 'could not run',
  'done.decide [isApproval]': 'person approved',
  'done.decide [isAbort]': 'person aborted',
  'done.decide': 'denied',
  'error.decide': 'no answer recorded',
  'done.execute [isBlockedApproval]': 'sandbox blocked the approved run',
  'done.execute [runDidNotFinish]': 'did not finish',
  'done.execute': 'finished',
  'error.execute': 'could not run',
};

export function transitionLabel(internal: string): string {
  return TRANSITION_LABELS[internal] ?? internal;
}

/** Who is asking, from the request's recorded origin. */
export function surfaceLabel(origin: { surface: string; pid: number; host: string; user?: string; client?: string }): string {
  const where = `pid ${origin.pid} on ${origin.host}${origin.user ? `, user ${origin.user}` : ''}`;
  const s = origin.surface;
  if (s === 'exec') return `a terminal (warden exec, ${where})`;
  if (s === 'mcp' || s.startsWith('mcp:')) {
    const client = origin.client ?? (s.startsWith('mcp:') ? s.slice(4) : null);
    // the name is the client's own claim (clientInfo), so it is quoted as such
    return `an MCP client${client ? ` that calls itself "${client}"` : ''} (warden serve, ${where})`;
  }
  if (s === 'hook' || s.startsWith('hook:')) return `an agent hook${s.startsWith('hook:') ? ` (${s.slice(5)})` : ''} (${where})`;
  return `${s} (${where})`;
}

/** A short "who asked" for a list column. */
export function surfaceShort(origin: { surface: string; client?: string }): string {
  const s = origin.surface;
  if (s === 'exec') return 'terminal';
  if (s === 'mcp' || s.startsWith('mcp:')) return `mcp${origin.client ? ` ${origin.client}` : s.startsWith('mcp:') ? ` ${s.slice(4)}` : ''}`;
  return s;
}

export interface DecisionFacts {
  decision: Decision | null;
  source: DecisionSource | null;
  user?: string | null;
  /** `decided via warden approve` and the like, as recorded. */
  reason?: string | null;
}

/** Through what a person decided, from the recorded reason ("decided via warden approve"). */
export function decidedVia(reason: string | null | undefined): string | null {
  const m = /^decided via (.+)$/.exec(reason ?? '');
  return m ? m[1]! : null;
}

/** "approved once by root via warden approve", "denied by nobody, in time", "approved once by a rule". */
export function decisionText(d: DecisionFacts): string {
  if (!d.decision || !d.source) return '';
  const done = DECISION_DONE[d.decision];
  if (d.source === 'user') {
    const via = decidedVia(d.reason);
    return `${done} by ${d.user ?? 'a person'}${via ? ` via ${via}` : ''}`;
  }
  if (d.source === 'policy' || d.source === 'rule' || d.source === 'session-cache') return `${done} by ${SOURCE_LABELS[d.source]}`;
  return `${done}: ${SOURCE_LABELS[d.source].replace(/ \(denied\)$/, '')}`;
}

export type Tone = 'ok' | 'bad' | 'wait' | 'live' | 'plain';

export interface OutcomeFacts {
  state: string;
  final: boolean;
  kind: 'exec' | 'patch';
  exitCode: number | null;
  timedOut?: boolean;
  interrupted?: boolean;
}

/**
 * How a request ended (or stands), with a tone for colour: a run that exited non-zero is a
 * failure to the person even though the machine reached `completed` (it ran to its end).
 */
export function outcome(s: OutcomeFacts): { label: string; tone: Tone } {
  if (s.state === 'completed' && s.exitCode !== null && s.exitCode !== 0) {
    return { label: s.kind === 'patch' ? `not applied (exit ${s.exitCode})` : `exited ${s.exitCode}`, tone: 'bad' };
  }
  if (s.state === 'completed') return { label: s.kind === 'patch' ? 'applied' : 'completed', tone: 'ok' };
  if (s.state === 'failed') return { label: s.interrupted ? 'interrupted' : s.timedOut ? 'timed out' : 'failed', tone: 'bad' };
  if (s.state === 'rejected' || s.state === 'aborted') return { label: stateLabel(s.state), tone: 'bad' };
  if (s.state === 'awaitingDecision') return { label: stateLabel(s.state), tone: 'wait' };
  return { label: stateLabel(s.state), tone: s.final ? 'plain' : 'live' };
}

/** The outcome names `warden audit --outcome` accepts, each a predicate over the same facts. */
export const OUTCOME_FILTERS: Record<string, (s: OutcomeFacts & { decision: Decision | null }) => boolean> = {
  completed: (s) => s.state === 'completed' && (s.exitCode === null || s.exitCode === 0),
  'exited-nonzero': (s) => s.state === 'completed' && s.exitCode !== null && s.exitCode !== 0,
  failed: (s) => s.state === 'failed' || (s.state === 'completed' && s.exitCode !== null && s.exitCode !== 0),
  rejected: (s) => s.state === 'rejected',
  denied: (s) => s.state === 'rejected' && s.decision === 'denied',
  aborted: (s) => s.state === 'aborted',
  interrupted: (s) => s.interrupted === true,
  'timed-out': (s) => s.timedOut === true,
  waiting: (s) => s.state === 'awaitingDecision',
  open: (s) => !s.final,
};

/** Everything the inspector page prints in words, sent once by its server. */
export function labelTables() {
  return {
    states: STATE_LABELS,
    decisions: DECISION_DONE,
    choices: DECISION_CHOICES,
    sources: SOURCE_LABELS,
    askReasons: ASK_REASON_LABELS,
    transitions: TRANSITION_LABELS,
  };
}

/** `pid 42 on host, user ann, tty /dev/pts/3, ancestry bash[42] ← sshd[7] ← systemd[1]`: who made a decision. */
export function deciderText(d: Decider): string {
  const chain = d.chain.map((l) => `${l.comm}[${l.pid}]`).join(' ← ');
  return `pid ${d.pid} on ${d.host}, user ${d.user}${d.uid === null ? '' : ` (uid ${d.uid})`}, ${d.tty ? `tty ${d.tty}` : 'no tty'}${chain ? `, ancestry ${chain}` : ''}${d.problem ? ` (${d.problem})` : ''}`;
}
