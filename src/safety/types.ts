/**
 * The contract between classification and the rest of warden. Classification is pure: it reads
 * its inputs (and, for patches, the file system to resolve symlinks) and returns a verdict value.
 */
import type { RequestPolicy, PatchFile } from '../events/types.ts';
import type { AskReason, SandboxType } from '../policy.ts';

export type Outcome = 'auto-approve' | 'ask' | 'reject';

/** Same shape as the `Classified` event's data, so a verdict is recorded as it is. */
export interface Classification {
  outcome: Outcome;
  /** The sandbox an auto-approved run uses ('none' = bare); for ask/reject, the one a run would use. */
  sandbox: SandboxType;
  knownSafe: boolean;
  dangerous: boolean;
  /** The word-only sub-commands when the argv (or its shell script) parsed, else null. */
  commands: string[][] | null;
  reason: string;
  askReason?: AskReason;
  decisionSource?: 'policy' | 'rule' | 'session-cache';
  /** The exact allow rule `approved_always` would store (see rules.md "Approve always"). */
  proposedPrefix?: string[];
  /**
   * Environment additions for the run: a known-safe git command gets git's exec hooks neutralised
   * (programs/gitHardening.ts). The runner applies them where the command is spawned.
   */
  runEnv?: Record<string, string>;
  files?: PatchFile[];
}

export interface ExecClassificationInput {
  command: string[];
  cwd: string;
  withEscalatedPermissions: boolean;
  policy: RequestPolicy;
  /** The sandbox this platform can provide ('none' when bubblewrap is missing, on Windows ...). */
  platformSandbox: SandboxType;
  /** True when an identical request was approved for this session. */
  approvedForSession: boolean;
}

export interface PatchClassificationInput {
  patch: string;
  cwd: string;
  policy: RequestPolicy;
  platformSandbox: SandboxType;
  approvedForSession: boolean;
}
