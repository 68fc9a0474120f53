/**
 * What the sandbox runner takes and gives back. A run with `sandbox: null` is bare (danger-full-access
 * or an approved retry without the sandbox); every other run goes through bwrap / sandbox-exec.
 */
import type { SandboxMode, SandboxType } from '../policy.ts';
import type { DomainLists } from '../network/domainPolicy.ts';
import type { NetworkUse } from '../network/proxy.ts';

export interface SandboxSpec {
  mode: SandboxMode;
  /** Extra writable roots besides cwd (workspace-write only). */
  writableRoots: string[];
  network: boolean;
  /** Whether /tmp and $TMPDIR are writable under workspace-write. */
  tmpWrite: boolean;
  /**
   * Absolute paths no sandboxed command may read or write (secrets, warden's own files): masked in
   * every sandbox mode. See hiddenPaths.ts.
   */
  hidden?: string[];
  /**
   * Unix socket paths a command may connect to when the network is on; every other Unix socket stays
   * unreachable (seccomp.ts).
   */
  allowUnixSockets?: string[];
  /**
   * Domains a run without the network may still reach, through warden's proxy (src/network). With any
   * allowed, the run keeps its empty network namespace; the proxy is its only way out.
   */
  domains?: DomainLists;
}

export interface RunRequest {
  command: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  timeoutMs?: number;
  /** Per stream; default 1 MiB. */
  outputCapBytes?: number;
  sandbox: SandboxSpec | null;
}

export interface RunOutcome {
  sandboxType: SandboxType;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
  /** Total bytes the process wrote, including what the cap dropped. */
  stdoutBytes: number;
  stderrBytes: number;
  truncated: boolean;
  denial: { denied: boolean; what?: string };
  /** Set when the process could not be started at all. */
  error?: string;
  /** With allowed domains: what the run's connections did (counts per host, refusals). */
  network?: NetworkUse;
}
