/**
 * What the sandbox runner takes and gives back. A run with `sandboxSpec: null` is bare (danger-full-access
 * or an approved retry without the sandbox); every other run goes through bwrap / sandbox-exec.
 */
import type { SandboxMode, SandboxType } from '../policy.ts';
import type { DomainLists } from '../network/domainPolicy.ts';
import type { NetworkUse } from '../network/proxy.ts';

/**
 * The longest kill timeout a command may ask for. Node's timers hold 32 bits: a longer one fires
 * after 1 ms, so an agent's huge timeout killed the command at once with a misleading "timed out".
 */
export const MAX_TIMEOUT_MS = 24 * 3600 * 1000;

export interface SandboxSpec {
  mode: SandboxMode;
  /** Extra writable roots besides cwd (workspace-write only). */
  writableRoots: string[];
  /**
   * `writableRoots` are the only writable directories: not cwd, not /tmp (a person-approved patch,
   * see planWritableRoots). Each must be reached without a symlink, else it stays read-only.
   */
  onlyRoots?: boolean;
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

/** A command for runCommand to run: what, where, and how it is contained (`sandboxSpec`; null = bare). */
export interface CommandRun {
  command: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  timeoutMs?: number;
  /** Per stream; default 1 MiB. */
  outputCapBytes?: number;
  sandboxSpec: SandboxSpec | null;
  /**
   * Set as WARDEN_RUN_ID in the command's environment (the request id): recovery finds a run's
   * processes by it in /proc when its owner died.
   */
  runId?: string;
  /** Tasks a sandboxed run may have at once (default SANDBOX_PIDS_MAX); tests lower it. */
  pidsMax?: number;
  /**
   * The program is warden's own and cannot make a process (the patch helper: its own seccomp
   * filter fails every fork and exec), so it gets no process-limit cgroup: joining one costs
   * 10-15 ms per run (an RCU grace period on cgroup v1) and would limit nothing. `pidsLimit` is
   * then left out of the result.
   */
  makesNoProcesses?: boolean;
  /**
   * The program is warden's own and cannot make a socket (the patch helper: its own seccomp filter
   * fails socket and socketpair), so a run without network needs no network namespace of its own
   * (bwrapArgs.ts `opensNoSockets`): there is nothing in it that could reach one.
   */
  opensNoSockets?: boolean;
  /**
   * For a program warden talks with over its stdin and stdout instead of feeding it `stdin` and
   * keeping its output (the patch applier's helper, src/safety/patch): called with the two pipes
   * once it is spawned; what it resolves with is the run's stdout, the start of its stderr, and its
   * exit code while the process itself exits 0. The pipes' bytes are its protocol: never output.
   */
  converse?: (io: { input: NodeJS.WritableStream; output: NodeJS.ReadableStream }) => Promise<Conversation>;
}

/** What a conversation (CommandRun.converse) reports as the run's output. */
export interface Conversation {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * A run's result, as runCommand gives it back: the full (capped) output and how it was contained. What
 * the store keeps of it is a `RunRecord` (src/events/types.ts: excerpts, no sandbox type).
 */
export interface RunResult {
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
  /** Set when the stream was not UTF-8: its text is then the base64 of the bytes (and the truncation note). */
  stdoutEncoding?: 'base64';
  stderrEncoding?: 'base64';
  /** `domains`: the denial is the domain proxy's; the refused names no list mentions. */
  denial: { denied: boolean; what?: string; domains?: string[] };
  /** Set when the process could not be started at all. */
  error?: string;
  /** With allowed domains: what the run's connections did (counts per host, refusals). */
  network?: NetworkUse;
  /**
   * What held the run's processes: the sandbox's own namespaces, a pid namespace of its own (a bare
   * run under bwrap), or only its process group (a bare run where bwrap does not work: a `setsid`
   * descendant can escape it).
   */
  containment?: Containment;
  /** A sandboxed run's process limit, or null where none could be set (no writable pids cgroup). */
  pidsLimit?: number | null;
}

export type Containment = 'sandbox' | 'pid-namespace' | 'process-group';
