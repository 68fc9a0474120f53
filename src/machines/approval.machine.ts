/**
 * The approval machine: one actor per request, pure configuration. It names its effects
 * (`classify`, `runSandboxed`, `decide`, `execute`) and the caller supplies them with
 * `machine.provide()`; every transition announces the domain events it implies with `emit`, which
 * the runner (src/requests/runRequest.ts) appends to the store before the next effect may start.
 *
 * One exception to "the machine emits every event": an asked decision is recorded by the `decide`
 * effect itself, because several parties may answer (the client, `warden approve`, the inspector)
 * and only the one whose optimistic append wins may speak. The machine receives that stored
 * decision as the effect's output.
 */
import { assign, emit, fromPromise, setup } from 'xstate';
import { quote } from 'shell-quote';
import type { Classification } from '../safety/types.ts';
import type { AskReason, Decision, SandboxMode, SandboxType } from '../policy.ts';
import { isApproving, isPersonSource } from '../policy.ts';
import type { DomainEvent, EventData, FailedEffect, RunRecord } from '../events/types.ts';
import { diffDigest, patchDiff } from '../safety/patch/unifiedDiff.ts';
import { messageOf } from '../errors.ts';

export type ApprovalRequest = EventData<'ApprovalRequested'>;
export type RecordedDecision = EventData<'DecisionRecorded'>;

export interface ApprovalInput {
  requestId: string;
  sessionId: string;
  request: ApprovalRequest;
}

export interface ExecutionPlan {
  /** Which sandbox runs it; 'none' is bare. (Recorded as the run start's `sandbox` field.) */
  sandboxType: SandboxType;
  /** Null when the run is bare. */
  mode: SandboxMode | null;
  /** Names a person allowed for this retry after the domain proxy refused them (public addresses only). */
  domains?: string[];
  /**
   * A person-approved patch: the only writable directories, those holding the approved paths
   * (canonical-looking absolute paths, sorted). Not the workspace, not /tmp, not the other roots.
   */
  writable?: string[];
}

export interface ApprovalContext extends ApprovalInput {
  classification: Classification | null;
  sandboxRun: RunRecord | null;
  /** What the sandbox denied, when a denial escalated to a person. */
  escalation: string | null;
  /** A domain escalation: the refused names the person is asked to allow (the retry keeps the sandbox). */
  escalatedDomains: string[] | null;
  askReason: AskReason | null;
  /** The question put to a person, computed once on entering awaitingDecision. */
  question: { reason: AskReason; message: string; offered: Decision[]; shown?: EventData<'DecisionRequested'>['shown'] } | null;
  decision: RecordedDecision | null;
  plan: ExecutionPlan | null;
  execution: RunRecord | null;
  failure: string | null;
  /** Which effect failed, when the request was rejected because one did (recorded on Rejected). */
  failedEffect: FailedEffect | null;
}

export interface ClassifyInput extends ApprovalInput {}
export interface RunSandboxedInput extends ApprovalInput {
  classification: Classification;
  plan: ExecutionPlan;
}
export interface DecideInput extends ApprovalInput {
  classification: Classification;
  reason: AskReason;
  message: string;
  offered: Decision[];
  escalation: string | null;
  /** A domain question: the names asked about (absent or null for every other question). */
  escalatedDomains?: string[] | null;
  /** True when the person already approved this once and the sandbox blocked that run. */
  blockedApproval?: boolean;
}
export interface ExecuteInput extends ApprovalInput {
  classification: Classification | null;
  decision: RecordedDecision;
  plan: ExecutionPlan;
}

/** The states whose actor is idle until a person (or a timeout) answers. */
export const WAITING_STATES = ['awaitingDecision'] as const;
export const FINAL_STATES = ['completed', 'rejected', 'aborted', 'failed'] as const;
export type FinalState = (typeof FINAL_STATES)[number];
const finalStates: ReadonlySet<string> = new Set(FINAL_STATES);
export function isFinalState(state: string): state is FinalState {
  return finalStates.has(state);
}

/** The typed placeholder of an effect: the caller provides the real one (`machine.provide`). */
function notProvided<Output, Input>(name: string) {
  return fromPromise<Output, Input>(async () => {
    throw new Error(`effect '${name}' was not provided to the approval machine`);
  });
}

// ---- pure helpers the chart refers to ----

function offeredDecisions(c: Classification | null, reason: AskReason): Decision[] {
  // A domain question is about a name, not the command: "always" writes the name, never a prefix.
  if (reason === 'network-domain') return ['approved', 'approved_for_session', 'approved_always', 'denied', 'abort'];
  const offered: Decision[] = ['approved', 'approved_for_session'];
  // An always-allow rule is offered only for a concrete prefix, never for a bare shell or interpreter.
  if (c?.proposedPrefix && c.proposedPrefix.length > 0) offered.push('approved_always');
  offered.push('denied', 'abort');
  return offered;
}

function describeWhat(request: ApprovalRequest, c: Classification | null): string {
  if (request.kind === 'patch') {
    const files = c?.files ?? [];
    if (files.length === 0) return 'apply a patch';
    const list = files.map((f) => `${f.kind} ${f.path}${f.moveTo ? ` -> ${f.moveTo}` : ''}`).join(', ');
    return `apply a patch (${list})`;
  }
  return `run \`${quote(request.command ?? [])}\``;
}

const ASK_WHY: Record<AskReason, string> = {
  'not-known-safe': 'it is not a known-safe read-only command',
  dangerous: 'it looks dangerous',
  escalation: 'the agent asks to run it without the sandbox',
  'sandbox-denial': 'the sandbox blocked it; approving retries it without the sandbox',
  'network-domain': 'the sandbox refused a connection to a domain that is not allowed; approving retries it in the sandbox with that domain allowed (public addresses only)',
  rule: 'a rule says to ask',
  patch: 'the patch writes outside the writable roots or the policy asks for patches',
  'no-sandbox': 'no sandbox is available here to contain it',
};

/**
 * The sentence a person decides from; pure so the recorded DecisionRequested replays exactly. When
 * the person's own approval was blocked by the sandbox (`execution` is that blocked run), the
 * question says so: they approved it once already, and this answer decides whether it runs bare.
 * A domain question names the domains first: it is about them, and a yes keeps the sandbox.
 */
export function decisionMessage(
  ctx: Pick<ApprovalContext, 'request' | 'classification' | 'escalation'> & { execution?: RunRecord | null; escalatedDomains?: string[] | null },
  reason: AskReason,
): string {
  const domains = reason === 'network-domain' ? (ctx.escalatedDomains ?? []) : [];
  if (domains.length === 0 && ctx.execution && ctx.escalation) {
    const parts = [
      `You approved: ${describeWhat(ctx.request, ctx.classification)} in ${ctx.request.cwd}, but the sandbox blocked it (${ctx.escalation}).`,
      'Run it without the sandbox?',
    ];
    if (ctx.request.justification) parts.push(`Agent's justification: ${ctx.request.justification}`);
    return parts.join(' ');
  }
  const parts =
    domains.length > 0
      ? [`Allow the agent's command to reach ${domains.join(', ')}: ${describeWhat(ctx.request, ctx.classification)} in ${ctx.request.cwd}?`]
      : [`Allow the agent to ${describeWhat(ctx.request, ctx.classification)} in ${ctx.request.cwd}?`];
  parts.push(`Asked because ${ASK_WHY[reason]}.`);
  if (ctx.escalation) parts.push(`Denied by the sandbox: ${ctx.escalation}.`);
  if (ctx.classification?.reason) parts.push(`Classification: ${ctx.classification.reason}.`);
  if (ctx.request.justification) parts.push(`Agent's justification: ${ctx.request.justification}`);
  return parts.join(' ');
}

/** The directory of an absolute, normalised path (the classifier resolves patch paths so). Pure. */
function parentOf(p: string): string {
  const cut = p.lastIndexOf('/');
  return cut <= 0 ? '/' : p.slice(0, cut);
}

/**
 * The directories a person-approved patch may write: those of each approved path and move
 * destination (the applier writes a temp file beside its target and renames it in, so a file's
 * directory is the least a write needs). Pure.
 */
export function approvedPatchDirs(files: ReadonlyArray<{ path: string; moveTo?: string }>): string[] {
  const dirs = new Set<string>();
  for (const f of files) {
    dirs.add(parentOf(f.path));
    if (f.moveTo !== undefined) dirs.add(parentOf(f.moveTo));
  }
  return [...dirs].sort();
}

/**
 * Where an approved run happens. Known-safe commands run in the read-only sandbox whenever the
 * platform has one, under every policy including danger-full-access (the classification says so
 * with a non-`none` sandbox); a person's approval of an escalation (or of a retry after a sandbox
 * denial) runs bare.
 * A patch a person approved is applied in the sandbox with exactly the approved paths' directories
 * writable, whatever the sandbox policy (as Codex applies a user-approved patch, but still
 * contained: a planted symlink or hard link cannot carry the write elsewhere, see writableRoots.ts
 * `onlyRoots`); if the sandbox still blocks it, the person is asked again (stateAfterExecution).
 */
export function planExecution(
  ctx: Pick<ApprovalContext, 'request' | 'classification' | 'escalation' | 'decision'> & { escalatedDomains?: string[] | null },
): ExecutionPlan {
  const c = ctx.classification;
  const policy = ctx.request.policy;
  if (!c || c.sandbox === 'none') return { sandboxType: 'none', mode: null };
  // A client's answer in time counts as the person's here (as before `client` existed); `client-auto` never approves.
  const personApproved = ctx.decision ? isPersonSource(ctx.decision.source) : false;
  // A domain approval opens those names and nothing else: the retry stays in the same sandbox. Only
  // a person's approval adds them (a fail-closed source never approves; the policy never gets here).
  const domains = ctx.escalatedDomains ?? [];
  if (domains.length > 0 && ctx.escalation !== null) {
    const base = planExecution({ ...ctx, escalation: null, escalatedDomains: null, decision: null });
    return personApproved ? { ...base, domains } : base;
  }
  if (personApproved && (ctx.escalation !== null || ctx.request.withEscalatedPermissions)) {
    return { sandboxType: 'none', mode: null };
  }
  if (personApproved && ctx.request.kind === 'patch' && c.files && c.files.length > 0) {
    return { sandboxType: c.sandbox, mode: 'workspace-write', writable: approvedPatchDirs(c.files) };
  }
  if (c.knownSafe && ctx.request.kind === 'exec') return { sandboxType: c.sandbox, mode: 'read-only' };
  if (policy.sandbox === 'danger-full-access') return { sandboxType: 'none', mode: null };
  return { sandboxType: c.sandbox, mode: policy.sandbox };
}

/** At most this many names in one domain question: a command cannot bury one name among hundreds. */
export const MAX_ESCALATED_DOMAINS = 8;

/**
 * The names a denial may put to a person, or null for an ordinary sandbox denial: only when the
 * denial is the domain proxy's (the run recorded it with `domains`), each a plain name no list
 * mentioned (runCommand keeps only refusals of kind `not-allowed`).
 */
export function escalatableDomains(run: RunRecord | null): string[] | null {
  const names = run?.denial.denied ? (run.denial.domains ?? []) : [];
  return names.length === 0 ? null : names.slice(0, MAX_ESCALATED_DOMAINS);
}

export function runEnded(run: RunRecord): boolean {
  return !run.timedOut && run.error === undefined && (run.exitCode !== null || run.signal !== null);
}

/** The state a classification leads to; shared by the chart's guards and the projections. */
export function stateAfterClassified(c: Classification): 'rejected' | 'sandboxedRun' | 'autoApproved' | 'awaitingDecision' {
  if (c.outcome === 'reject') return 'rejected';
  if (c.outcome === 'auto-approve') {
    const bySandbox = c.sandbox !== 'none' && !c.knownSafe && (c.decisionSource ?? 'policy') === 'policy';
    return bySandbox ? 'sandboxedRun' : 'autoApproved';
  }
  return 'awaitingDecision';
}

/**
 * The state an approved run leads to. A person's approval of a run that the sandbox then blocked
 * asks again, "run it without the sandbox?" (issue #13 point 7: what the person approved must be
 * what happens, or they hear why not), under the same rule as a sandboxed attempt's denial: never
 * under `never` (nobody is asked there). Only a sandboxed run can be blocked, and the retry runs
 * bare, so this asks at most once.
 */
export function stateAfterExecution(
  run: RunRecord,
  ctx: { request: Pick<ApprovalRequest, 'policy'>; plan: ExecutionPlan | null; decision: RecordedDecision | null },
): 'escalating' | 'failed' | 'completed' {
  const sandboxed = ctx.plan !== null && ctx.plan.sandboxType !== 'none' && ctx.plan.mode !== null;
  const byPerson = ctx.decision !== null && isApproving(ctx.decision.decision) && isPersonSource(ctx.decision.source);
  if (sandboxed && byPerson && run.denial.denied && ctx.request.policy.approval !== 'never') return 'escalating';
  return runEnded(run) ? 'completed' : 'failed';
}

/** The state a finished sandboxed attempt leads to. Under `never` a denial goes back to the agent. */
export function stateAfterSandboxRun(run: RunRecord, approval: ApprovalRequest['policy']['approval']): 'escalating' | 'failed' | 'completed' {
  if (run.denial.denied && approval !== 'never') return 'escalating';
  return runEnded(run) ? 'completed' : 'failed';
}

/** The record of a run whose effect failed before a result existed (spawn or store failure). */
export function unfinishedRun(error: string): RunRecord {
  return {
    exitCode: null,
    signal: null,
    timedOut: false,
    durationMs: 0,
    stdoutExcerpt: '',
    stderrExcerpt: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    truncated: false,
    denial: { denied: false },
    error,
  };
}

type DoneEvent<T> = { type: string; output: T };

/** An action's (or guard's) params: the invoked effect's result. */
const theOutput = <T,>({ event }: { event: DoneEvent<T> }): T => event.output;

/**
 * Every branch after an effect's result starts the same way: keep the result in the context, then
 * announce it as its event (an `assign`, then an `emit`: the shape replay's fast step compiles).
 */
function keepAndAnnounce<const Keep extends string, const Announce extends string>(keep: Keep, announce: Announce) {
  return [
    { type: keep, params: theOutput },
    { type: announce, params: theOutput },
  ];
}
const classified = keepAndAnnounce('recordClassification', 'announceClassification');
const sandboxRunFinished = keepAndAnnounce('recordSandboxRun', 'announceSandboxRunFinished');
const executionFinished = keepAndAnnounce('recordExecution', 'announceExecutionFinished');
const executionBlocked = keepAndAnnounce('recordExecution', 'announceExecutionBlocked');

/** A run effect that failed before any result existed: the request fails, and the run is announced as unfinished. */
function runFailed<const Announce extends string>(what: string, announce: Announce) {
  return {
    target: 'failed' as const,
    actions: [
      { type: 'recordFailure' as const, params: ({ event }: { event: { error: unknown } }) => `${what} failed: ${messageOf(event.error)}` },
      { type: announce, params: ({ event }: { event: { error: unknown } }) => unfinishedRun(messageOf(event.error)) },
    ],
  };
}

export const approvalMachine = setup({
  types: {
    context: {} as ApprovalContext,
    input: {} as ApprovalInput,
    output: {} as ApprovalContext,
    emitted: {} as DomainEvent,
  },
  actors: {
    classify: notProvided<Classification, ClassifyInput>('classify'),
    runSandboxed: notProvided<RunRecord, RunSandboxedInput>('runSandboxed'),
    decide: notProvided<RecordedDecision, DecideInput>('decide'),
    execute: notProvided<RunRecord, ExecuteInput>('execute'),
  },
  guards: {
    isRejectedByClassification: (_, c: Classification) => stateAfterClassified(c) === 'rejected',
    isSandboxedAttempt: (_, c: Classification) => stateAfterClassified(c) === 'sandboxedRun',
    isAutoApproved: (_, c: Classification) => stateAfterClassified(c) === 'autoApproved',
    isEscalatableDenial: ({ context }, run: RunRecord) =>
      stateAfterSandboxRun(run, context.request.policy.approval) === 'escalating',
    isBlockedApproval: ({ context }, run: RunRecord) => stateAfterExecution(run, context) === 'escalating',
    runDidNotFinish: (_, run: RunRecord) => !runEnded(run),
    isApproval: (_, d: RecordedDecision) => isApproving(d.decision),
    isAbort: (_, d: RecordedDecision) => d.decision === 'abort',
  },
  actions: {
    announceRequest: emit(({ context }) => ({ type: 'ApprovalRequested', data: context.request }) as const),
    recordClassification: assign({
      classification: (_, c: Classification) => c,
      askReason: (_, c: Classification) => (c.outcome === 'ask' ? (c.askReason ?? 'not-known-safe') : null),
    }),
    announceClassification: emit((_, c: Classification) => ({ type: 'Classified', data: c }) as const),
    recordPolicyApproval: assign({
      decision: ({ context }) => ({
        decision: 'approved' as const,
        source: context.classification?.decisionSource ?? ('policy' as const),
        reason: context.classification?.reason,
      }),
    }),
    announceDecision: emit(({ context }) => ({ type: 'DecisionRecorded', data: context.decision! }) as const),
    planRun: assign({ plan: ({ context }) => planExecution(context) }),
    announceSandboxRunStarted: emit(({ context }) => ({
      type: 'SandboxRunStarted' as const,
      data: {
        sandbox: context.plan!.sandboxType,
        mode: context.plan!.mode ?? context.request.policy.sandbox,
        ...(context.request.policy.hidden === undefined ? {} : { hidden: context.request.policy.hidden }),
      },
    })),
    recordSandboxRun: assign({ sandboxRun: (_, run: RunRecord) => run }),
    announceSandboxRunFinished: emit((_, run: RunRecord) => ({ type: 'SandboxRunFinished', data: run }) as const),
    recordEscalation: assign(({ context }) => {
      // the run that was denied: an approved execution when there was one, else the sandboxed attempt
      const run = context.execution ?? context.sandboxRun;
      // One domain question per request: a retry with the names that is blocked again asks the
      // ordinary question (run it without the sandbox?), so a command cannot ask name after name.
      const domains = context.escalatedDomains === null ? escalatableDomains(run) : null;
      return {
        escalation: run?.denial.what ?? 'an operation was denied by the sandbox',
        escalatedDomains: domains,
        askReason: domains === null ? ('sandbox-denial' as const) : ('network-domain' as const),
      };
    }),
    announceEscalation: emit(({ context }) => ({
      type: 'Escalated' as const,
      data: { denial: context.escalation!, ...(context.escalatedDomains === null ? {} : { domains: context.escalatedDomains }) },
    })),
    recordQuestion: assign({
      question: ({ context }) => {
        const reason = context.askReason ?? 'not-known-safe';
        const question = { reason, message: decisionMessage(context, reason), offered: offeredDecisions(context.classification, reason) };
        // a patch is decided from its diff: the record keeps which one (its digest)
        return context.request.kind === 'patch' ? { ...question, shown: diffDigest(patchDiff(context.request.patch ?? '')) } : question;
      },
    }),
    announceDecisionRequested: emit(({ context }) => ({ type: 'DecisionRequested' as const, data: context.question! })),
    recordDecision: assign({ decision: (_, d: RecordedDecision) => d }),
    announceExecutionStarted: emit(({ context }) => ({
      type: 'ExecutionStarted' as const,
      data: {
        sandbox: context.plan!.sandboxType,
        mode: context.plan!.mode,
        ...(context.plan!.mode === null || context.request.policy.hidden === undefined ? {} : { hidden: context.request.policy.hidden }),
        ...(context.plan!.domains === undefined ? {} : { domains: context.plan!.domains }),
        ...(context.plan!.writable === undefined ? {} : { writable: context.plan!.writable }),
      },
    })),
    recordExecution: assign({ execution: (_, run: RunRecord) => run }),
    announceExecutionFinished: emit((_, run: RunRecord) => ({ type: 'ExecutionFinished', data: run }) as const),
    announceExecutionBlocked: emit((_, run: RunRecord) => ({ type: 'ExecutionBlocked', data: run }) as const),
    recordFailure: assign({ failure: (_, message: string) => message }),
    recordFailedEffect: assign({ failedEffect: (_, effect: FailedEffect) => effect }),
    announceRejected: emit((_, p: { reason: string; failedEffect: FailedEffect | null }) =>
      ({ type: 'Rejected', data: { reason: p.reason, ...(p.failedEffect ? { failedEffect: p.failedEffect } : {}) } }) as const),
    announceAborted: emit((_, reason: string) => ({ type: 'Aborted', data: { reason } }) as const),
  },
}).createMachine({
  id: 'approval',
  context: ({ input }) => ({
    ...input,
    classification: null,
    sandboxRun: null,
    escalation: null,
    escalatedDomains: null,
    askReason: null,
    question: null,
    decision: null,
    plan: null,
    execution: null,
    failure: null,
    failedEffect: null,
  }),
  initial: 'received',
  output: ({ context }) => context,
  states: {
    received: {
      entry: 'announceRequest',
      always: 'classifying',
    },
    classifying: {
      invoke: {
        id: 'classify',
        src: 'classify',
        input: ({ context }) => ({ requestId: context.requestId, sessionId: context.sessionId, request: context.request }),
        onDone: [
          {
            guard: { type: 'isRejectedByClassification', params: theOutput },
            target: 'rejected',
            actions: [...classified, { type: 'recordFailure', params: ({ event }) => event.output.reason }],
          },
          { guard: { type: 'isSandboxedAttempt', params: theOutput }, target: 'sandboxedRun', actions: classified },
          { guard: { type: 'isAutoApproved', params: theOutput }, target: 'autoApproved', actions: classified },
          { target: 'awaitingDecision', actions: classified },
        ],
        onError: {
          target: 'rejected',
          actions: [
            { type: 'recordFailure', params: ({ event }) => `classification failed: ${messageOf(event.error)}` },
            { type: 'recordFailedEffect', params: 'classify' as const },
          ],
        },
      },
    },
    autoApproved: {
      entry: ['recordPolicyApproval', 'announceDecision'],
      always: 'executing',
    },
    sandboxedRun: {
      entry: ['recordPolicyApproval', 'announceDecision', 'planRun', 'announceSandboxRunStarted'],
      invoke: {
        id: 'runSandboxed',
        src: 'runSandboxed',
        input: ({ context }) => ({
          requestId: context.requestId,
          sessionId: context.sessionId,
          request: context.request,
          classification: context.classification!,
          plan: context.plan!,
        }),
        onDone: [
          { guard: { type: 'isEscalatableDenial', params: theOutput }, target: 'escalating', actions: sandboxRunFinished },
          { guard: { type: 'runDidNotFinish', params: theOutput }, target: 'failed', actions: sandboxRunFinished },
          { target: 'completed', actions: sandboxRunFinished },
        ],
        onError: runFailed('sandboxed run', 'announceSandboxRunFinished'),
      },
    },
    escalating: {
      entry: ['recordEscalation', 'announceEscalation'],
      always: 'awaitingDecision',
    },
    awaitingDecision: {
      entry: ['recordQuestion', 'announceDecisionRequested'],
      invoke: {
        id: 'decide',
        src: 'decide',
        input: ({ context }) => ({
          requestId: context.requestId,
          sessionId: context.sessionId,
          request: context.request,
          classification: context.classification!,
          ...context.question!,
          escalation: context.escalation,
          escalatedDomains: context.escalatedDomains,
          blockedApproval: context.execution !== null,
        }),
        onDone: [
          {
            guard: { type: 'isApproval', params: theOutput },
            target: 'executing',
            actions: { type: 'recordDecision', params: theOutput },
          },
          {
            guard: { type: 'isAbort', params: theOutput },
            target: 'aborted',
            actions: [
              { type: 'recordDecision', params: theOutput },
              { type: 'recordFailure', params: ({ event }) => abortReason(event.output) },
            ],
          },
          {
            target: 'rejected',
            actions: [
              { type: 'recordDecision', params: theOutput },
              { type: 'recordFailure', params: ({ event }) => denialReason(event.output) },
            ],
          },
        ],
        onError: {
          target: 'rejected',
          actions: [
            { type: 'recordFailure', params: ({ event }) => `no decision could be recorded: ${messageOf(event.error)}` },
            { type: 'recordFailedEffect', params: 'decide' as const },
          ],
        },
      },
    },
    executing: {
      entry: ['planRun', 'announceExecutionStarted'],
      invoke: {
        id: 'execute',
        src: 'execute',
        input: ({ context }) => ({
          requestId: context.requestId,
          sessionId: context.sessionId,
          request: context.request,
          classification: context.classification,
          decision: context.decision!,
          plan: context.plan!,
        }),
        onDone: [
          { guard: { type: 'isBlockedApproval', params: theOutput }, target: 'escalating', actions: executionBlocked },
          { guard: { type: 'runDidNotFinish', params: theOutput }, target: 'failed', actions: executionFinished },
          { target: 'completed', actions: executionFinished },
        ],
        onError: runFailed('execution', 'announceExecutionFinished'),
      },
    },
    completed: { type: 'final' },
    rejected: {
      type: 'final',
      entry: { type: 'announceRejected', params: ({ context }) => ({ reason: context.failure ?? 'rejected', failedEffect: context.failedEffect }) },
    },
    aborted: {
      type: 'final',
      entry: { type: 'announceAborted', params: ({ context }) => context.failure ?? 'aborted' },
    },
    failed: { type: 'final' },
  },
});

function denialReason(d: RecordedDecision): string {
  if (d.source === 'user') return d.user ? `denied by ${d.user}` : 'denied by the person asked';
  if (d.source === 'client') return `denied in the MCP client${d.user ? ` (${d.user})` : ''}${d.reason ? `: ${d.reason}` : ''}`;
  const why = d.reason ? `: ${d.reason}` : '';
  return `denied (${d.source}${why})`;
}

function abortReason(d: RecordedDecision): string {
  if (d.source === 'client') return `aborted in the MCP client${d.user ? ` (${d.user})` : ''}`;
  return d.user ? `aborted by ${d.user}` : 'aborted by the person asked';
}
