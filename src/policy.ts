/**
 * warden's shared vocabulary: approval policies, sandbox modes, decisions and their sources.
 * Every folder may import this file; it imports nothing of the project.
 */
import { z } from 'zod';

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
 * Where a decision came from. `user` is a person warden itself saw decide (its terminal, `warden
 * approve`, the inspector); `client` is an MCP client's answer to elicitation (a person may or may
 * not have seen the question: warden cannot tell); `client-auto` is a client's answer that came
 * faster than a person could read the question. `client-auto`, `malformed`, `timeout`, `error` and
 * `restart` always carry `denied`: they are the fail-closed answers to an automatic reply, an
 * unusable reply, no reply, a broken channel, or a crash.
 */
export const DECISION_SOURCES = [
  'user',
  'client',
  'client-auto',
  'session-cache',
  'policy',
  'rule',
  'malformed',
  'timeout',
  'error',
  'restart',
] as const;
export const DecisionSourceSchema = z.enum(DECISION_SOURCES);
export type DecisionSource = z.infer<typeof DecisionSourceSchema>;

/** Sources whose approval may stand for a person's: only these may run a request bare or cache it for the session. */
export const PERSON_SOURCES: readonly DecisionSource[] = ['user', 'client'];
export function isPersonSource(source: DecisionSource): boolean {
  return PERSON_SOURCES.includes(source);
}

export const REQUEST_KINDS = ['exec', 'patch'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Which OS sandbox a run uses; `none` runs the command bare. */
export const SANDBOX_TYPES = ['none', 'bwrap', 'seatbelt'] as const;
export type SandboxType = (typeof SANDBOX_TYPES)[number];

/** Why a person is being asked; shown to them and recorded. */
export const ASK_REASONS = ['not-known-safe', 'dangerous', 'escalation', 'sandbox-denial', 'rule', 'patch', 'no-sandbox'] as const;
export type AskReason = (typeof ASK_REASONS)[number];
