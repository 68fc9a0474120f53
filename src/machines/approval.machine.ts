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
import type { DomainEvent, EventData, RecordedRunResult } from '../events/types.ts';
import { diffDigest, patchDiff } from '../safety/patch/unifiedDiff.ts';

export type ApprovalRequest = EventData<'ApprovalRequested'>;
export type RecordedDecision = EventData<'DecisionRecorded'>;

export interface ApprovalInput {
  requestId: string;
  sessionId: string;
  request: ApprovalRequest;
}

export interface ExecutionPlan {
  sandbox: SandboxType;
  /** Null when the run is bare. */
  mode: SandboxMode | null;
}

export interface ApprovalContext extends ApprovalInput {
  classification: Classification | null;
  sandboxRun: RecordedRunResult | null;
  /** What the sandbox denied, when a denial escalated to a person. */
  escalation: string | null;
  askReason: AskReason | null;
  /** The question put to a person, computed once on entering awaitingDecision. */
  question: { reason: AskReason; message: string; offered: Decision[]; shown?: EventData<'DecisionRequested'>['shown'] } | null;
  decision: RecordedDecision | null;
  plan: ExecutionPlan | null;
  execution: RecordedRunResult | null;
  failure: string | null;
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

const NOT_PROVIDED = (name: string) =>
  fromPromise<never, unknown>(async () => {
    throw new Error(`effect '${name}' was not provided to the approval machine`);
  });

// ---- pure helpers the chart refers to ----

function offeredDecisions(c: Classification | null): Decision[] {
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
  rule: 'a rule says to ask',
  patch: 'the patch writes outside the writable roots or the policy asks for patches',
  'no-sandbox': 'no sandbox is available here to contain it',
};

/** The sentence a person decides from; pure so the recorded DecisionRequested replays exactly. */
export function decisionMessage(ctx: Pick<ApprovalContext, 'request' | 'classification' | 'escalation'>, reason: AskReason): string {
  const parts = [`Allow the agent to ${describeWhat(ctx.request, ctx.classification)} in ${ctx.request.cwd}?`];
  parts.push(`Asked because ${ASK_WHY[reason]}.`);
  if (ctx.escalation) parts.push(`Denied by the sandbox: ${ctx.escalation}.`);
  if (ctx.classification?.reason) parts.push(`Classification: ${ctx.classification.reason}.`);
  if (ctx.request.justification) parts.push(`Agent's justification: ${ctx.request.justification}`);
  return parts.join(' ');
}

/**
 * Where an approved run happens. Known-safe commands stay in the read-only sandbox whenever one is
 * in force; a person's approval of an escalation (or of a retry after a sandbox denial) runs bare.
 */
export function planExecution(ctx: Pick<ApprovalContext, 'request' | 'classification' | 'escalation' | 'decision'>): ExecutionPlan {
  const c = ctx.classification;
  const policy = ctx.request.policy;
  if (!c || c.sandbox === 'none' || policy.sandbox === 'danger-full-access') return { sandbox: 'none', mode: null };
  // A client's answer in time counts as the person's here (as before `client` existed); `client-auto` never approves.
  const personApproved = ctx.decision ? isPersonSource(ctx.decision.source) : false;
  if (personApproved && (ctx.escalation !== null || ctx.request.withEscalatedPermissions)) {
    return { sandbox: 'none', mode: null };
  }
  if (c.knownSafe && ctx.request.kind === 'exec') return { sandbox: c.sandbox, mode: 'read-only' };
  return { sandbox: c.sandbox, mode: policy.sandbox };
}

export function runEnded(run: RecordedRunResult): boolean {
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

/** The state a finished sandboxed attempt leads to. Under `never` a denial goes back to the agent. */
export function stateAfterSandboxRun(run: RecordedRunResult, approval: ApprovalRequest['policy']['approval']): 'escalating' | 'failed' | 'completed' {
  if (run.denial.denied && approval !== 'never') return 'escalating';
  return runEnded(run) ? 'completed' : 'failed';
}

/** The record of a run whose effect failed before a result existed (spawn or store failure). */
export function unfinishedRun(error: string): RecordedRunResult {
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

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type DoneEvent<T> = { type: string; output: T };
type ErrorEvent = { type: string; error: unknown };

export const approvalMachine = setup({
  types: {
    context: {} as ApprovalContext,
    input: {} as ApprovalInput,
    output: {} as ApprovalContext,
    emitted: {} as DomainEvent,
  },
  actors: {
    classify: NOT_PROVIDED('classify') as unknown as ReturnType<typeof fromPromise<Classification, ClassifyInput>>,
    runSandboxed: NOT_PROVIDED('runSandboxed') as unknown as ReturnType<typeof fromPromise<RecordedRunResult, RunSandboxedInput>>,
    decide: NOT_PROVIDED('decide') as unknown as ReturnType<typeof fromPromise<RecordedDecision, DecideInput>>,
    execute: NOT_PROVIDED('execute') as unknown as ReturnType<typeof fromPromise<RecordedRunResult, ExecuteInput>>,
  },
  guards: {
    isRejectedByClassification: (_, c: Classification) => stateAfterClassified(c) === 'rejected',
    isSandboxedAttempt: (_, c: Classification) => stateAfterClassified(c) === 'sandboxedRun',
    isAutoApproved: (_, c: Classification) => stateAfterClassified(c) === 'autoApproved',
    isEscalatableDenial: ({ context }, run: RecordedRunResult) =>
      stateAfterSandboxRun(run, context.request.policy.approval) === 'escalating',
    runDidNotFinish: (_, run: RecordedRunResult) => !runEnded(run),
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
        sandbox: context.plan!.sandbox,
        mode: context.plan!.mode ?? context.request.policy.sandbox,
        ...(context.request.policy.hidden === undefined ? {} : { hidden: context.request.policy.hidden }),
      },
    })),
    recordSandboxRun: assign({ sandboxRun: (_, run: RecordedRunResult) => run }),
    announceSandboxRunFinished: emit((_, run: RecordedRunResult) => ({ type: 'SandboxRunFinished', data: run }) as const),
    recordEscalation: assign({
      escalation: ({ context }) => context.sandboxRun?.denial.what ?? 'an operation was denied by the sandbox',
      askReason: 'sandbox-denial' as const,
    }),
    announceEscalation: emit(({ context }) => ({ type: 'Escalated', data: { denial: context.escalation! } }) as const),
    recordQuestion: assign({
      question: ({ context }) => {
        const reason = context.askReason ?? 'not-known-safe';
        const question = { reason, message: decisionMessage(context, reason), offered: offeredDecisions(context.classification) };
        // a patch is decided from its diff: the record keeps which one (its digest)
        return context.request.kind === 'patch' ? { ...question, shown: diffDigest(patchDiff(context.request.patch ?? '')) } : question;
      },
    }),
    announceDecisionRequested: emit(({ context }) => ({ type: 'DecisionRequested' as const, data: context.question! })),
    recordDecision: assign({ decision: (_, d: RecordedDecision) => d }),
    announceExecutionStarted: emit(({ context }) => ({
      type: 'ExecutionStarted' as const,
      data: {
        sandbox: context.plan!.sandbox,
        mode: context.plan!.mode,
        ...(context.plan!.mode === null || context.request.policy.hidden === undefined ? {} : { hidden: context.request.policy.hidden }),
      },
    })),
    recordExecution: assign({ execution: (_, run: RecordedRunResult) => run }),
    announceExecutionFinished: emit((_, run: RecordedRunResult) => ({ type: 'ExecutionFinished', data: run }) as const),
    recordFailure: assign({ failure: (_, message: string) => message }),
    announceRejected: emit((_, reason: string) => ({ type: 'Rejected', data: { reason } }) as const),
    announceAborted: emit((_, reason: string) => ({ type: 'Aborted', data: { reason } }) as const),
  },
}).createMachine({
  id: 'approval',
  context: ({ input }) => ({
    ...input,
    classification: null,
    sandboxRun: null,
    escalation: null,
    askReason: null,
    question: null,
    decision: null,
    plan: null,
    execution: null,
    failure: null,
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
            guard: { type: 'isRejectedByClassification', params: ({ event }) => event.output },
            target: 'rejected',
            actions: [
              { type: 'recordClassification', params: ({ event }) => event.output },
              { type: 'announceClassification', params: ({ event }) => event.output },
              { type: 'recordFailure', params: ({ event }) => event.output.reason },
            ],
          },
          {
            guard: { type: 'isSandboxedAttempt', params: ({ event }) => event.output },
            target: 'sandboxedRun',
            actions: [
              { type: 'recordClassification', params: ({ event }) => event.output },
              { type: 'announceClassification', params: ({ event }) => event.output },
            ],
          },
          {
            guard: { type: 'isAutoApproved', params: ({ event }) => event.output },
            target: 'autoApproved',
            actions: [
              { type: 'recordClassification', params: ({ event }) => event.output },
              { type: 'announceClassification', params: ({ event }) => event.output },
            ],
          },
          {
            target: 'awaitingDecision',
            actions: [
              { type: 'recordClassification', params: ({ event }) => event.output },
              { type: 'announceClassification', params: ({ event }) => event.output },
            ],
          },
        ],
        onError: {
          target: 'rejected',
          actions: { type: 'recordFailure', params: ({ event }) => `classification failed: ${errorText(event.error)}` },
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
          {
            guard: { type: 'isEscalatableDenial', params: ({ event }) => event.output },
            target: 'escalating',
            actions: [
              { type: 'recordSandboxRun', params: ({ event }) => event.output },
              { type: 'announceSandboxRunFinished', params: ({ event }) => event.output },
            ],
          },
          {
            guard: { type: 'runDidNotFinish', params: ({ event }) => event.output },
            target: 'failed',
            actions: [
              { type: 'recordSandboxRun', params: ({ event }) => event.output },
              { type: 'announceSandboxRunFinished', params: ({ event }) => event.output },
            ],
          },
          {
            target: 'completed',
            actions: [
              { type: 'recordSandboxRun', params: ({ event }) => event.output },
              { type: 'announceSandboxRunFinished', params: ({ event }) => event.output },
            ],
          },
        ],
        onError: {
          target: 'failed',
          actions: [
            { type: 'recordFailure', params: ({ event }) => `sandboxed run failed: ${errorText(event.error)}` },
            { type: 'announceSandboxRunFinished', params: ({ event }) => unfinishedRun(errorText(event.error)) },
          ],
        },
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
        }),
        onDone: [
          {
            guard: { type: 'isApproval', params: ({ event }) => event.output },
            target: 'executing',
            actions: { type: 'recordDecision', params: ({ event }) => event.output },
          },
          {
            guard: { type: 'isAbort', params: ({ event }) => event.output },
            target: 'aborted',
            actions: [
              { type: 'recordDecision', params: ({ event }) => event.output },
              { type: 'recordFailure', params: ({ event }) => abortReason(event.output) },
            ],
          },
          {
            target: 'rejected',
            actions: [
              { type: 'recordDecision', params: ({ event }) => event.output },
              { type: 'recordFailure', params: ({ event }) => denialReason(event.output) },
            ],
          },
        ],
        onError: {
          target: 'rejected',
          actions: { type: 'recordFailure', params: ({ event }) => `no decision could be recorded: ${errorText(event.error)}` },
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
          {
            guard: { type: 'runDidNotFinish', params: ({ event }) => event.output },
            target: 'failed',
            actions: [
              { type: 'recordExecution', params: ({ event }) => event.output },
              { type: 'announceExecutionFinished', params: ({ event }) => event.output },
            ],
          },
          {
            target: 'completed',
            actions: [
              { type: 'recordExecution', params: ({ event }) => event.output },
              { type: 'announceExecutionFinished', params: ({ event }) => event.output },
            ],
          },
        ],
        onError: {
          target: 'failed',
          actions: [
            { type: 'recordFailure', params: ({ event }) => `execution failed: ${errorText(event.error)}` },
            { type: 'announceExecutionFinished', params: ({ event }) => unfinishedRun(errorText(event.error)) },
          ],
        },
      },
    },
    completed: { type: 'final' },
    rejected: {
      type: 'final',
      entry: { type: 'announceRejected', params: ({ context }) => context.failure ?? 'rejected' },
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

export type ApprovalMachine = typeof approvalMachine;
export type { DoneEvent, ErrorEvent };
