/**
 * Every event warden records, as one zod-validated discriminated union of past-tense types.
 * A stored type string is never reused with a new meaning: add a type and an upcaster instead.
 * Imports only the shared vocabulary; every other folder may import this file.
 *
 * A stored field keeps its name for good. Where one is called `sandbox`, it is a SandboxType
 * (`bwrap`, `seatbelt`, `none`: Classified, SandboxRunStarted, ExecutionStarted), except the
 * policy's `sandbox`, which is a SandboxMode (`read-only`, `workspace-write`, `danger-full-access`).
 * In memory the names say which: `ExecutionPlan.sandboxType`, `RunResult.sandboxType`,
 * `CommandRun.sandboxSpec` (a SandboxSpec, or null for a bare run).
 */
import * as z from 'zod';
import {
  ApprovalPolicySchema,
  DecisionSchema,
  DecisionSourceSchema,
  SandboxModeSchema,
  ASK_REASONS,
  DOMAIN_REFUSAL_KINDS,
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

/**
 * Domain lists as a run uses them: `approved` are exact names a person allowed when asked (public
 * addresses only; src/network/domainPolicy.ts).
 */
export const DomainListsSchema = z.object({
  allow: z.array(z.string()),
  deny: z.array(z.string()),
  approved: z.array(z.string()).optional(),
});
export type DomainLists = z.infer<typeof DomainListsSchema>;
export type RequestPolicy = z.infer<typeof RequestPolicySchema>;

export const PatchFileSchema = z.object({
  path: z.string(),
  kind: z.enum(['add', 'delete', 'update']),
  moveTo: z.string().optional(),
});
export type PatchFile = z.infer<typeof PatchFileSchema>;

/**
 * A run's record (`RunRecord`), the data of SandboxRunFinished / ExecutionFinished / ExecutionBlocked:
 * what the process did, its output as excerpts. The runner's `RunResult` (src/sandbox/types.ts) is the
 * same run with its full (capped) output, which goes back to the caller; `runRecordOf` cuts one from
 * the other.
 */
export const RunRecordSchema = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  durationMs: z.number().nonnegative(),
  stdoutExcerpt: z.string(),
  stderrExcerpt: z.string(),
  stdoutBytes: z.number().int().nonnegative(),
  stderrBytes: z.number().int().nonnegative(),
  truncated: z.boolean(),
  /** The stream was not UTF-8: its excerpt is base64 of the bytes (absent: UTF-8 text). */
  stdoutEncoding: z.literal('base64').optional(),
  stderrEncoding: z.literal('base64').optional(),
  denial: z.object({
    denied: z.boolean(),
    what: z.string().optional(),
    /**
     * The denial is the domain proxy's, and these are the names it refused that no list mentions:
     * the ones a person may be asked to allow (the approval machine escalates with them).
     */
    domains: z.array(z.string()).optional(),
  }),
  error: z.string().optional(),
  /** With allowed domains: connections made per host, and the hosts refused with the first reason. */
  network: z
    .object({
      allowed: z.record(z.string(), z.number().int().nonnegative()),
      refused: z.array(
        z.object({
          host: z.string(),
          reason: z.string(),
          /** Absent on records made before refusals had kinds. */
          kind: z.enum(DOMAIN_REFUSAL_KINDS).optional(),
          count: z.number().int().positive(),
        }),
      ),
    })
    .optional(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/**
 * A process as /proc showed it, enough to tell it from a later process that reuses its pid and to
 * see whether another process shares its view: start time (clock ticks after boot), boot id, and
 * its pid and user namespaces as /proc/<pid>/ns names them (`pid:[4026531836]`).
 */
export const ProcessMarkSchema = z.object({
  start: z.number().int().nonnegative(),
  boot: z.string(),
  pidNs: z.string(),
  userNs: z.string(),
});
export type ProcessMark = z.infer<typeof ProcessMarkSchema>;
/** The program that started a request's owner (ApprovalRequested `origin.launcher`), with its mark. */
export const LauncherSchema = z.object({ pid: z.number().int(), comm: z.string(), proc: ProcessMarkSchema });
export type Launcher = z.infer<typeof LauncherSchema>;

/**
 * The process that made an out-of-band decision (or tried to): recorded with the decision, or with
 * its refusal. `found` is how warden knows it: `self` (the `warden approve` process) or `socket` (the
 * inspector's peer, found from the connection). `chain` runs from the process up to pid 1 as its
 * /proc showed it; `problem` says what could not be read (such an identity decides nothing).
 */
export const DeciderSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  user: z.string(),
  uid: z.number().int().nullable(),
  tty: z.string().nullable(),
  found: z.enum(['self', 'socket']),
  mark: ProcessMarkSchema.nullable(),
  chain: z.array(z.object({ pid: z.number().int(), comm: z.string(), start: z.number().int() })),
  problem: z.string().optional(),
});
export type Decider = z.infer<typeof DeciderSchema>;

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
     * The name an MCP client gave itself in `initialize` (clientInfo.name). Self-reported and
     * unverified: surfaces say "calls itself", never treat it as an identity.
     */
    client: z.string().max(200).optional(),
    /**
     * Who runs the request once approved, for requests made by a client's hook: `warden` (the tool
     * call was rewritten to `warden exec --request`, which claims it) or `client` (the client's own
     * tool runs it outside warden's sandbox; its result is recorded after the fact). Absent: the
     * process that made the request runs it.
     */
    runner: z.enum(['warden', 'client']).optional(),
    /**
     * Where the person is asked, for a hook's request: `client` (the hook answered `ask`, so the
     * client's own permission prompt asks, and its later hook events report the answer). Absent:
     * warden asks (its channel, `warden approve`, the inspector), and a client's report that the
     * call ran is not an answer to it.
     */
    prompt: z.literal('client').optional(),
    /**
     * The mark of the process at `pid`: every command warden runs for this request descends from
     * it, so no decision may come from one of its descendants while the request is unfinished
     * (src/requests/deciderCheck.ts). Absent in old records and off Linux.
     */
    proc: ProcessMarkSchema.optional(),
    /**
     * The process that started warden serve (the MCP client) or a `warden exec` without a terminal
     * (the agent client whose tool ran it), past launchers and shells, with its mark. Its own tools
     * (a client's built-in shell) are the agent's too, and they descend from it, not from `pid`: no
     * decision may come from one of its descendants while the request is unfinished
     * (src/requests/deciderCheck.ts). Absent for an exec on a terminal, a hook, and old records.
     */
    launcher: LauncherSchema.optional(),
  }),
});

/** A verdict, recorded as classification returned it (src/safety's `Classification` is this type). */
export const ClassifiedData = z.object({
  outcome: z.enum(['auto-approve', 'ask', 'reject']),
  /** The sandbox an auto-approved run uses ('none' = bare); for ask/reject, the one a run would use. */
  sandbox: SandboxTypeSchema,
  knownSafe: z.boolean(),
  dangerous: z.boolean(),
  /** The word-only sub-commands when the argv (or its shell script) parsed, else null. */
  commands: z.array(z.array(z.string())).nullable(),
  reason: z.string(),
  askReason: AskReasonSchema.optional(),
  /** Who decided an auto-approval: the policy matrix, a user rule, or this session's cache. */
  decisionSource: z.enum(['policy', 'rule', 'session-cache']).optional(),
  /** The prefix an `approved_always` answer would store; absent when it may not be offered. */
  proposedPrefix: z.array(z.string()).optional(),
  /**
   * What the rules file (its `[network]` table, the matching rules' `domains`) and this session's
   * domain approvals add to the request's own domain lists. Present: the run goes through the proxy.
   */
  domains: DomainListsSchema.optional(),
  /**
   * Environment additions for the run: a known-safe git command gets git's exec hooks neutralised
   * (src/safety/programs/gitHardening.ts). The runner applies them where the command is spawned;
   * recorded so the audit shows what the run was given.
   */
  runEnv: z.record(z.string(), z.string()).optional(),
  files: z.array(PatchFileSchema).optional(),
});

export const SandboxRunStartedData = z.object({
  sandbox: SandboxTypeSchema,
  mode: SandboxModeSchema,
  /** The hidden paths in force for this run (the policy's list). */
  hidden: z.array(z.string()).optional(),
});
export const SandboxRunFinishedData = RunRecordSchema;
export const EscalatedData = z.object({
  denial: z.string(),
  /** A domain escalation: the names the person is asked to allow (the retry stays in the sandbox). */
  domains: z.array(z.string()).optional(),
});
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
  /** `approved_always` of a domain question: the names written to the rules file's `[network]` table. */
  ruleDomains: z.array(z.string()).optional(),
  /** Out-of-band decisions: the process that made it (`warden approve`, the inspector's browser). */
  decider: DeciderSchema.optional(),
});
/**
 * An out-of-band decision warden did not accept because it could not establish that the deciding
 * process is outside every command it runs. Recorded on a stream of its own (`refused-<uuid>`), in
 * the request's session: the request is not altered, its question stays open.
 */
export const DecisionRefusedData = z.object({
  requestId: z.string(),
  decision: DecisionSchema,
  /** `warden approve`, `warden inspect`. */
  via: z.string(),
  by: DeciderSchema,
  reason: z.string(),
});
export const ExecutionStartedData = z.object({
  sandbox: SandboxTypeSchema,
  mode: SandboxModeSchema.nullable(),
  /** The hidden paths in force when the run is sandboxed. */
  hidden: z.array(z.string()).optional(),
  /** Names a person allowed for this retry, after the proxy refused them (public addresses only). */
  domains: z.array(z.string()).optional(),
  /**
   * A person-approved patch: the only directories it could write (those of the approved paths);
   * absent for every other run, and on records made before it existed.
   */
  writable: z.array(z.string()).optional(),
});
export const ExecutionFinishedData = RunRecordSchema;
/**
 * A person-approved run that the sandbox then blocked (issue #13 point 7): not the end of the
 * request, since the person is asked again whether to run it without the sandbox (an `Escalated`
 * follows). Its own type because ExecutionFinished ends a stream.
 */
export const ExecutionBlockedData = RunRecordSchema;
/** The effects whose failure rejects a request (a run's failure is recorded on its own run event). */
export const FailedEffectSchema = z.enum(['classify', 'decide']);
export type FailedEffect = z.infer<typeof FailedEffectSchema>;
export const RejectedData = z.object({
  reason: z.string(),
  /** Set when the request was rejected because this effect failed: replay reads it, never the reason's words. */
  failedEffect: FailedEffectSchema.optional(),
});
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
  DecisionRefused: DecisionRefusedData,
  ExecutionStarted: ExecutionStartedData,
  ExecutionFinished: ExecutionFinishedData,
  ExecutionBlocked: ExecutionBlockedData,
  Rejected: RejectedData,
  Aborted: AbortedData,
  Interrupted: InterruptedData,
} as const;

export type EventType = keyof typeof eventSchemas;
export const EVENT_TYPES = Object.keys(eventSchemas) as EventType[];

type EventSchemas = typeof eventSchemas;

/** An event as the machine emits it, before the store stamps it: one variant per entry above. */
export type DomainEvent = { [K in EventType]: { type: K; data: z.infer<EventSchemas[K]> } }[EventType];

// The parser is derived from the same table, so a new event is one line there and nothing else.
function variant<K extends EventType>(type: K) {
  return z.object({ type: z.literal(type), data: eventSchemas[type] as EventSchemas[K] });
}
type Variant = ReturnType<typeof variant<EventType>>;
const [firstType, ...otherTypes] = EVENT_TYPES as [EventType, ...EventType[]];
export const DomainEventSchema: z.ZodType<DomainEvent> = z.discriminatedUnion('type', [
  variant(firstType),
  ...otherTypes.map((t) => variant(t)),
] as [Variant, ...Variant[]]) as unknown as z.ZodType<DomainEvent>;
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

