/**
 * Which OS sandbox this machine offers, decided once per process. On Linux bubblewrap must not only be
 * installed but actually work (a kernel without user namespaces, or a container that forbids them,
 * makes bwrap fail at run time): the probe runs `bwrap <the real namespace flags> -- true` once.
 * Nothing here ever suggests running unsandboxed; callers that need a sandbox and get 'none' must ask
 * or reject (DESIGN.md), and runCommand throws SandboxUnavailableError.
 */
import { accessSync, constants } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import type { SandboxType } from '../policy.ts';
import { baseBwrapArgs } from './bwrapArgs.ts';
import { bwrapProbeMemo } from './probeMemo.ts';
import { networkSeccompFilter } from './seccomp.ts';

export const SEATBELT_PATH = '/usr/bin/sandbox-exec';

export interface SandboxDetection {
  type: SandboxType;
  /** Absolute path of the sandbox executable when type is not 'none'. */
  executable: string | null;
  /** Why there is no sandbox (null when there is one). */
  reason: string | null;
}

export interface DetectionDeps {
  platform: NodeJS.Platform;
  /** Absolute path of an executable, or null. */
  findExecutable(name: string): string | null;
  /** Whether a file exists and is executable. */
  isExecutable(path: string): boolean;
  /** Runs the bwrap probe; returns null when it worked, else what went wrong. */
  probeBwrap(bwrapPath: string): string | null;
}

const INSTALL_HINT =
  'install bubblewrap: `sudo apt-get install -y bubblewrap` (Debian/Ubuntu), ' +
  '`sudo dnf install -y bubblewrap` (Fedora/RHEL) or `sudo pacman -S bubblewrap` (Arch)';

/** Pure given its deps: the decision table for each platform. */
export function detectSandbox(deps: DetectionDeps): SandboxDetection {
  switch (deps.platform) {
    case 'linux': {
      const bwrap = findBwrap(deps);
      if (bwrap === null) {
        return { type: 'none', executable: null, reason: `bubblewrap (bwrap) is not installed; ${INSTALL_HINT}` };
      }
      const failure = deps.probeBwrap(bwrap);
      if (failure !== null) {
        return {
          type: 'none',
          executable: null,
          reason:
            `bubblewrap at ${bwrap} cannot create a sandbox here (${failure}); it needs unprivileged user ` +
            `namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04+ ` +
            `kernel.apparmor_restrict_unprivileged_userns=0) or root`,
        };
      }
      return { type: 'bwrap', executable: bwrap, reason: null };
    }
    case 'darwin':
      if (deps.isExecutable(SEATBELT_PATH)) return { type: 'seatbelt', executable: SEATBELT_PATH, reason: null };
      return { type: 'none', executable: null, reason: `${SEATBELT_PATH} not found; macOS sandboxing is unavailable` };
    case 'win32':
      return { type: 'none', executable: null, reason: 'sandboxing on Windows is not supported yet' };
    default:
      return { type: 'none', executable: null, reason: `sandboxing on ${deps.platform} is not supported yet` };
  }
}

/** The bwrap a Linux run uses: /usr/bin/bwrap, else the first on PATH; null when there is none. */
function findBwrap(deps: Pick<DetectionDeps, 'isExecutable' | 'findExecutable'>): string | null {
  return deps.isExecutable('/usr/bin/bwrap') ? '/usr/bin/bwrap' : deps.findExecutable('bwrap');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const nodeDetectionDeps: DetectionDeps = {
  platform: process.platform,
  isExecutable,
  findExecutable(name) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (dir === '' || !dir.startsWith('/')) continue; // a relative PATH entry could be planted
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
    return null;
  },
  probeBwrap(bwrapPath) {
    const { args, filter } = probeInvocation();
    const memo = bwrapProbeMemo(bwrapPath, args, filter);
    if (memo?.remembered() === true) return null;
    const r = spawnSync(bwrapPath, args, {
      input: filter ?? undefined,
      stdio: [filter === null ? 'ignore' : 'pipe', 'ignore', 'pipe'],
      timeout: PROBE_TIMEOUT_MS,
      encoding: 'utf8',
    });
    const failure = r.error ? r.error.message : probeFailure(r.status, r.signal, r.stderr);
    if (failure === null) memo?.remember();
    return failure;
  },
};

const PROBE_TIMEOUT_MS = 10_000;

/**
 * The same namespace flags and seccomp filter a real run uses, network unshared: if this works,
 * runs work. The filter travels on fd 0.
 */
function probeInvocation(): { args: string[]; filter: Buffer | null } {
  const filter = networkSeccompFilter();
  const seccomp = filter === null ? [] : ['--seccomp', '0'];
  return { args: [...baseBwrapArgs(false), ...seccomp, '--', 'true'], filter };
}

/** null when the probe exited 0, else its first line of stderr (or how it ended). */
function probeFailure(status: number | null, signal: NodeJS.Signals | null, stderr: string): string | null {
  if (status === 0) return null;
  return (stderr || `exit ${status ?? signal}`).trim().split('\n')[0] ?? 'failed';
}

/**
 * The probe as a child process the caller does not wait on: the same run, verdict and memo as
 * probeBwrap (a probe that worked earlier in this boot is not run again: probeMemo.ts). `env` says
 * where the memo is (warden's state folder).
 */
export function probeBwrapInBackground(bwrapPath: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const { args, filter } = probeInvocation();
  const memo = bwrapProbeMemo(bwrapPath, args, filter, env);
  if (memo?.remembered() === true) return Promise.resolve(null);
  return new Promise((resolve) => {
    const child = spawn(bwrapPath, args, { stdio: [filter === null ? 'ignore' : 'pipe', 'ignore', 'pipe'], timeout: PROBE_TIMEOUT_MS });
    let stderr = '';
    const settle = (failure: string | null) => {
      if (failure === null) memo?.remember();
      resolve(failure);
    };
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (error) => resolve(error.message));
    child.on('close', (status, signal) => settle(probeFailure(status, signal, stderr)));
    // EPIPE when bwrap exits before reading the filter: its exit status says what went wrong.
    child.stdin?.on('error', () => undefined).end(filter);
  });
}

let cached: SandboxDetection | null = null;
let inBackground: Promise<SandboxDetection> | null = null;

/** The detection for this process (probes once, then cached). Does I/O on first call. */
export function sandboxDetection(): SandboxDetection {
  cached ??= detectSandbox(nodeDetectionDeps);
  return cached;
}

/**
 * Starts this process's detection without blocking on the bwrap probe, so the probe (a child
 * process, ~10 ms of namespace set-up) overlaps what the caller does meanwhile (opening the store,
 * loading the grammar); the same decision table and probe as sandboxDetection(), which returns its
 * result once it has settled. Call early, await before the first verdict. Does I/O.
 */
export function startSandboxDetection(): Promise<SandboxDetection> {
  if (cached !== null) return Promise.resolve(cached);
  inBackground ??= (async () => {
    const bwrap = nodeDetectionDeps.platform === 'linux' ? findBwrap(nodeDetectionDeps) : null;
    const failure = bwrap === null ? null : await probeBwrapInBackground(bwrap);
    const found = detectSandbox({ ...nodeDetectionDeps, probeBwrap: (path) => (path === bwrap ? failure : nodeDetectionDeps.probeBwrap(path)) });
    cached ??= found;
    return cached;
  })();
  return inBackground;
}

/** 'bwrap', 'seatbelt' or 'none'. Does I/O on first call. */
export function platformSandbox(): SandboxType {
  return sandboxDetection().type;
}

/** A message naming what to install, or null when a sandbox is available. Does I/O on first call. */
export function sandboxUnavailableReason(): string | null {
  return sandboxDetection().reason;
}

