/**
 * warden's shared vocabulary: approval policies, sandbox modes, decisions and their sources.
 * Every folder may import this file; it imports nothing of the project.
 */
import * as z from 'zod';

export const APPROVAL_POLICIES = ['untrusted', 'on-failure', 'on-request', 'never'] as const;
export const ApprovalPolicySchema = z.enum(APPROVAL_POLICIES);
export type ApprovalPolicy = z.infer<typeof ApprovalPolicySchema>;

export const SANDBOX_MODES = ['read-only', 'workspace-write', 'danger-full-access'] as const;
export const SandboxModeSchema = z.enum(SANDBOX_MODES);
export type SandboxMode = z.infer<typeof SandboxModeSchema>;

/** The decisions a person (or the policy) can give. Anything else is a denial. */
export const DECISIONS = ['approved', 'approved_for_session', 'approved_always', 'denied', 'abort'] as const;
export const DecisionSchema = z.enum(DECISIONS);
export type Decision = z.infer<typeof DecisionSchema>;

export const APPROVING_DECISIONS: readonly Decision[] = ['approved', 'approved_for_session', 'approved_always'];
export function isApproving(decision: Decision): boolean {
  return APPROVING_DECISIONS.includes(decision);
}

/**
* Where a decision came from, and what it stands for. Adding a source is one line here:
 * - `person`: someone answered the question. `user` is a person warden itself saw decide (its
 *   terminal, `warden approve`, the inspector); `client` is an MCP client's answer to elicitation
 *   (a person may or may not have seen the question: warden cannot tell);
 * - `fail-closed`: the stand-in for an automatic reply (`client-auto`: faster than a person could
 *   read the question), an unusable reply, no reply, a broken channel or a crash; it always
 *   carries `denied` (the stream rules reject a record where it does not);
 * - `automatic`: decided without asking (the policy, an allow rule, a session approval).
 */
export const DECISION_SOURCE_KINDS = {
  user: 'person',
  client: 'person',
  'client-auto': 'fail-closed',
  'session-cache': 'automatic',
  policy: 'automatic',
  rule: 'automatic',
  malformed: 'fail-closed',
  timeout: 'fail-closed',
  error: 'fail-closed',
  restart: 'fail-closed',
} as const satisfies Record<string, 'person' | 'fail-closed' | 'automatic'>;
export type DecisionSource = keyof typeof DECISION_SOURCE_KINDS;
export const DECISION_SOURCES = Object.keys(DECISION_SOURCE_KINDS) as [DecisionSource, ...DecisionSource[]];
export const DecisionSourceSchema = z.enum(DECISION_SOURCES);

/** Sources that stand for "no usable answer": they may only ever deny. */
export function isFailClosedSource(source: string): boolean {
  return (DECISION_SOURCE_KINDS as Record<string, string>)[source] === 'fail-closed';
}

/** Sources an asked decision (one answering a DecisionRequested) may carry: a person, or a fail-closed stand-in. */
export function isAskedSource(source: string): boolean {
  const kind = (DECISION_SOURCE_KINDS as Record<string, string>)[source];
  return kind === 'person' || kind === 'fail-closed';
}

/** Sources whose approval may stand for a person's: only these may run a request bare or cache it for the session. */
export const PERSON_SOURCES: readonly DecisionSource[] = ['user', 'client'];
export function isPersonSource(source: DecisionSource): boolean {
  return PERSON_SOURCES.includes(source);
}


/** Which OS sandbox a run uses; `none` runs the command bare. */
export const SANDBOX_TYPES = ['none', 'bwrap', 'seatbelt'] as const;
export type SandboxType = (typeof SANDBOX_TYPES)[number];

/** Why a person is being asked; shown to them and recorded. */
export const ASK_REASONS = ['not-known-safe', 'dangerous', 'escalation', 'sandbox-denial', 'network-domain', 'rule', 'patch', 'no-sandbox'] as const;
export type AskReason = (typeof ASK_REASONS)[number];

/**
 * Why warden's domain proxy refused a connection. Only `not-allowed` (a name no list mentions) is
 * put to a person as "allow this domain?": a denied name stays denied, an address or a name that
 * resolved to a local address is not a domain to approve (DNS rebinding), the rest are not choices.
 */
export const DOMAIN_REFUSAL_KINDS = ['not-allowed', 'denied', 'address', 'local-address', 'unresolved', 'invalid', 'protocol', 'unreachable'] as const;
export type DomainRefusalKind = (typeof DOMAIN_REFUSAL_KINDS)[number];
