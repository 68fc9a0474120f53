/**
 * The contract between classification and the rest of warden. Classification is pure: it reads
 * its inputs (and, for patches, the file system to resolve symlinks) and returns a verdict value.
 */
import type { EventData, RequestPolicy } from '../events/types.ts';
import type { AskReason, SandboxType } from '../policy.ts';
import type { ProgramLocator } from './programs/programPath.ts';

export type Outcome = Classification['outcome'];

/** A verdict is what the `Classified` event records: one type, defined once with its schema. */
export type Classification = EventData<'Classified'>;

export interface ExecClassificationInput {
  command: string[];
  cwd: string;
  withEscalatedPermissions: boolean;
  policy: RequestPolicy;
  /** The sandbox this platform can provide ('none' when bubblewrap is missing, on Windows ...). */
  platformSandbox: SandboxType;
  /** True when an identical request was approved for this session. */
  approvedForSession: boolean;
  /**
   * Where the PATH the command runs with finds each bare program name it names (programsToLocate),
   * looked up before classifying (src/sandbox/commandPath.ts locatorFor). A bare name it does not
   * place in a system directory is not known-safe: `ls` under PATH=.:/usr/bin may be the agent's.
   */
  programs: ProgramLocator;
  /**
   * True when the agent client's own tool runs the command (a hook that cannot rewrite the call,
   * request origin runner `client`): in the client's sandbox, not warden's, so platformSandbox is
   * 'none' without the host lacking one.
   */
  clientRuns?: boolean;
}

export interface PatchClassificationInput {
  patch: string;
  cwd: string;
  policy: RequestPolicy;
  platformSandbox: SandboxType;
  approvedForSession: boolean;
}
