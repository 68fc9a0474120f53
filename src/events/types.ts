/**
 * Every event warden records, as one zod-validated discriminated union of past-tense types.
 * A stored type string is never reused with a new meaning: add a type and an upcaster instead.
 * Imports only the shared vocabulary; every other folder may import this file.
 */
import { z } from 'zod';
import {
  ApprovalPolicySchema,
  DecisionSchema,
  DecisionSourceSchema,
  SandboxModeSchema,
  ASK_REASONS,
  SANDBOX_TYPES,
} from '../policy.ts';

const SandboxTypeSchema = z.enum(SANDBOX_TYPES);
const AskReasonSchema = z.enum(ASK_REASONS);

/** The policy a request was made under, frozen into its first event so replay needs nothing else. */
export const RequestPolicySchema = z.object({
  approval: ApprovalPolicySchema,
  sandbox: SandboxModeSchema,
  writableRoots: z.array(z.string()),
  network: z.boolean(),
  tmpWrite: z.boolean(),
  /** Paths no sandboxed command may read or write (secrets, warden's own files); absent in old records. */
  hidden: z.array(z.string()).optional(),
  /** Unix sockets a sandboxed command may connect to; every other one is blocked. */
  allowUnixSockets: z.array(z.string()).optional(),
  /** Domains a sandboxed command without the network may reach through warden's proxy (src/network). */
  domains: z.object({ allow: z.array(z.string()), deny: z.array(z.string()) }).optional(),
});
export type RequestPolicy = z.infer<typeof RequestPolicySchema>;

export const PatchFileSchema = z.object({
  path: z.string(),
  kind: z.enum(['add', 'delete', 'update']),
  moveTo: z.string().optional(),
});
export type PatchFile = z.infer<typeof PatchFileSchema>;

/** What the process did; output is an excerpt, the full (capped) text goes back to the caller. */
export const RunResultSchema = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  durationMs: z.number().nonnegative(),
  stdoutExcerpt: z.string(),
  stderrExcerpt: z.string(),
  stdoutBytes: z.number().int().nonnegative(),
  stderrBytes: z.number().int().nonnegative(),
  truncated: z.boolean(),
  denial: z.object({ denied: z.boolean(), what: z.string().optional() }),
  error: z.string().optional(),
  /** With allowed domains: connections made per host, and the hosts refused with the first reason. */
  network: z
    .object({
      allowed: z.record(z.string(), z.number().int().nonnegative()),
      refused: z.array(z.object({ host: z.string(), reason: z.string(), count: z.number().int().positive() })),
    })
    .optional(),
});
export type RecordedRunResult = z.infer<typeof RunResultSchema>;

export const ApprovalRequestedData = z.object({
  kind: z.enum(['exec', 'patch']),
  command: z.array(z.string()).optional(),
  patch: z.string().optional(),
  cwd: z.string(),
  justification: z.string().optional(),
  withEscalatedPermissions: z.boolean(),
  timeoutMs: z.number().int().positive().optional(),
  policy: RequestPolicySchema,
  origin: z.object({
    surface: z.string(),
    pid: z.number().int(),
    host: z.string(),
    user: z.string().optional(),
    callId: z.string().optional(),
    /** The agent client's own id for the call (Claude Code's tool_use id, Codex's call id), as it sent it. */
    clientCallId: z.string().optional(),
    /**
     * Who runs the request once approved, for requests made by a client's hook: `warden` (the tool
     * call was rewritten to `warden exec --request`, which claims it) or `client` (the client's own
     * tool runs it outside warden's sandbox; its result is recorded after the fact). Absent: the
     * process that made the request runs it.
     */
    runner: z.enum(['warden', 'client']).optional(),
  }),
});

export const ClassifiedData = z.object({
  outcome: z.enum(['auto-approve', 'ask', 'reject']),
  sandbox: SandboxTypeSchema,
  knownSafe: z.boolean(),
  dangerous: z.boolean(),
  commands: z.array(z.array(z.string())).nullable(),
  reason: z.string(),
  askReason: AskReasonSchema.optional(),
  /** Who decided an auto-approval: the policy matrix, a user rule, or this session's cache. */
  decisionSource: z.enum(['policy', 'rule', 'session-cache']).optional(),
  /** The prefix an `approved_always` answer would store; absent when it may not be offered. */
  proposedPrefix: z.array(z.string()).optional(),
  files: z.array(PatchFileSchema).optional(),
});

export const SandboxRunStartedData = z.object({
  sandbox: SandboxTypeSchema,
  mode: SandboxModeSchema,
  /** The hidden paths in force for this run (the policy's list). */
  hidden: z.array(z.string()).optional(),
});
export const SandboxRunFinishedData = RunResultSchema;
export const EscalatedData = z.object({ denial: z.string() });
/**
 * What the person was shown beside the sentence when that was more: a patch's diff, as the digest
 * of its canonical text (src/safety/patch/unifiedDiff.ts), so an audit can re-render the recorded patch and
 * prove which diff was approved. Absent on requests recorded before it existed.
 */
export const ShownDigestSchema = z.object({
  format: z.string(),
  sha256: z.string(),
  bytes: z.number().int().nonnegative(),
  lines: z.number().int().nonnegative(),
});
export const DecisionRequestedData = z.object({
  reason: AskReasonSchema,
  message: z.string(),
  offered: z.array(DecisionSchema),
  shown: ShownDigestSchema.optional(),
});
export const DecisionRecordedData = z.object({
  decision: DecisionSchema,
  source: DecisionSourceSchema,
  reason: z.string().optional(),
  user: z.string().optional(),
  /** The answer as it arrived (JSON text, at most RAW_ANSWER_CAP bytes) when it came from outside. */
  raw: z.string().optional(),
  rulePrefix: z.array(z.string()).optional(),
});
export const ExecutionStartedData = z.object({
  sandbox: SandboxTypeSchema,
  mode: SandboxModeSchema.nullable(),
  /** The hidden paths in force when the run is sandboxed. */
  hidden: z.array(z.string()).optional(),
});
export const ExecutionFinishedData = RunResultSchema;
export const RejectedData = z.object({ reason: z.string() });
export const AbortedData = z.object({ reason: z.string() });
export const InterruptedData = z.object({ reason: z.string() });

export const RAW_ANSWER_CAP = 4096;

const eventSchemas = {
  ApprovalRequested: ApprovalRequestedData,
  Classified: ClassifiedData,
  SandboxRunStarted: SandboxRunStartedData,
  SandboxRunFinished: SandboxRunFinishedData,
  Escalated: EscalatedData,
  DecisionRequested: DecisionRequestedData,
  DecisionRecorded: DecisionRecordedData,
  ExecutionStarted: ExecutionStartedData,
  ExecutionFinished: ExecutionFinishedData,
  Rejected: RejectedData,
  Aborted: AbortedData,
  Interrupted: InterruptedData,
} as const;

export type EventType = keyof typeof eventSchemas;
export const EVENT_TYPES = Object.keys(eventSchemas) as EventType[];

/** An event as the machine emits it, before the store stamps it. */
export const DomainEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ApprovalRequested'), data: ApprovalRequestedData }),
  z.object({ type: z.literal('Classified'), data: ClassifiedData }),
  z.object({ type: z.literal('SandboxRunStarted'), data: SandboxRunStartedData }),
  z.object({ type: z.literal('SandboxRunFinished'), data: SandboxRunFinishedData }),
  z.object({ type: z.literal('Escalated'), data: EscalatedData }),
  z.object({ type: z.literal('DecisionRequested'), data: DecisionRequestedData }),
  z.object({ type: z.literal('DecisionRecorded'), data: DecisionRecordedData }),
  z.object({ type: z.literal('ExecutionStarted'), data: ExecutionStartedData }),
  z.object({ type: z.literal('ExecutionFinished'), data: ExecutionFinishedData }),
  z.object({ type: z.literal('Rejected'), data: RejectedData }),
  z.object({ type: z.literal('Aborted'), data: AbortedData }),
  z.object({ type: z.literal('Interrupted'), data: InterruptedData }),
]);
export type DomainEvent = z.infer<typeof DomainEventSchema>;
export type DomainEventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;
export type EventData<T extends EventType> = DomainEventOf<T>['data'];

/** What the store adds: where and when the event sits, and its link in the hash chain. */
export const StoredMetaSchema = z.object({
  stream: z.string().min(1),
  sessionId: z.string().min(1),
  version: z.number().int().positive(),
  position: z.number().int().positive(),
  time: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});
export type StoredMeta = z.infer<typeof StoredMetaSchema>;
export type StoredEvent = DomainEvent & StoredMeta;
export type StoredEventOf<T extends EventType> = DomainEventOf<T> & StoredMeta;

/** An event handed to `append`: the session it belongs to is part of what is recorded. */
export type NewEvent = DomainEvent & { sessionId: string };

/** Throws a ZodError naming the field when an event does not match its type. */
export function parseDomainEvent(value: unknown): DomainEvent {
  return DomainEventSchema.parse(value);
}

export function isEventType<T extends EventType>(event: { type: string }, type: T): event is StoredEventOf<T> {
  return event.type === type;
}
