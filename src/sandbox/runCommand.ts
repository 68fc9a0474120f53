/**
 * Runs one command, bare (`sandbox: null` or danger-full-access) or inside the platform sandbox, and
 * reports what happened as a value: exit code, signal, timeout, capped output, duration and whether it
 * looks like a sandbox denial. Does I/O (spawns processes, touches the file system for bwrap masks).
 *
 * Nothing outlives a request. The child leads its own process group (`detached`); on timeout the group
 * gets SIGTERM, then SIGKILL after a grace period, and after a bare run ends the rest of its group is
 * killed too. Under bwrap the command is PID 1's child in a fresh pid namespace: when it (or bwrap) dies
 * the kernel kills every process in the namespace, and `--die-with-parent` covers warden dying.
 *
 * Never falls back to running bare: a sandbox spec on a machine without a sandbox throws
 * SandboxUnavailableError (the one exception; every other failure is an outcome with `error`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SandboxUnavailableError } from '../errors.ts';
import type { SandboxType } from '../policy.ts';
import type { RunOutcome, RunRequest } from './types.ts';
import { buildBwrapArgs } from './bwrapArgs.ts';
import { detectDenial } from './denial.ts';
import { sandboxDetection, type SandboxDetection } from './platform.ts';
import { buildSeatbeltProfile, seatbeltArgv } from './seatbelt.ts';
import { nodeFsProbe } from './writableRoots.ts';
import { sandboxSeccompFilter } from './seccomp.ts';
import { openSandboxNetwork, type SandboxNetwork } from '../network/sandboxNetwork.ts';

export const DEFAULT_OUTPUT_CAP_BYTES = 1024 * 1024;
/** Between SIGTERM and SIGKILL on timeout. */
export const KILL_GRACE_MS = 500;
/** After the process exited, how long to wait for pipes held open by escaped descendants. */
const DRAIN_MS = 500;
const INFO_FD = 3;
const SECCOMP_FD = 4;

export interface RunOptions {
  /** Called with the pid of the spawned process (bwrap itself under the sandbox). */
  onSpawn?(pid: number): void;
  /** Override platform detection (tests). */
  detection?: SandboxDetection;
}

interface Invocation {
  sandboxType: SandboxType;
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  masks: string[];
  /** bwrap reports set-up success on an extra pipe (fd 3). */
  infoFd: boolean;
  /** Seccomp program bwrap reads from fd 4 (every bwrap run, when warden has a table for the architecture). */
  seccomp: Buffer | null;
  /** Paths masked as hidden (canonical), for naming them in a denial. */
  hidden: string[];
}

/**
 * Environment variables a sandboxed command does not get: where warden's store is (a PostgreSQL URL
 * carries its password) and PostgreSQL's own credentials. With them, and the network on, a command
 * could open the store and record a decision as if a person had made it.
 */
const PRIVATE_ENV = ['WARDEN_STORE', 'PGPASSWORD', 'PGPASSFILE', 'PGSERVICEFILE', 'PGSERVICE'];
/** Any other variable holding a PostgreSQL URL with a password in it. */
const URL_WITH_PASSWORD = /^postgres(ql)?:\/\/[^/@\s]*:[^/@\s]*@/i;

export function sandboxEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (PRIVATE_ENV.includes(k) || (v !== undefined && URL_WITH_PASSWORD.test(v))) continue;
    out[k] = v;
  }
  return out;
}

let decoyPath: string | null = null;

/**
 * The empty mode-000 file bound over hidden files. One per process, in its own 0700 directory (which
 * every plan hides as well); made again if something removed it. Does I/O.
 */
function decoy(): string {
  if (decoyPath !== null) {
    try {
      const st = lstatSync(decoyPath);
      if (st.isFile() && st.size === 0 && (st.mode & 0o777) === 0) return decoyPath;
    } catch {
      // gone: make a new one
    }
  }
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-decoy-')));
  const file = join(dir, 'hidden');
  writeFileSync(file, '', { mode: 0o000 });
  chmodSync(file, 0o000);
  if (decoyPath === null) process.once('exit', () => decoyPath !== null && rmSync(join(decoyPath, '..'), { recursive: true, force: true }));
  decoyPath = file;
  return file;
}

/**
 * The host's listening pathname Unix sockets (from /proc/net/unix of warden's network namespace), for
 * masking the ones a run with `--allow-unix-socket` did not list. Does I/O.
 */
function hostUnixSockets(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const path = fields[7];
    if (path !== undefined && path.startsWith('/')) out.add(path);
  }
  return [...out];
}

function canonicalOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** A run that needs the domain proxy: bwrap, network off, some domain allowed. */
function wantsProxy(req: RunRequest, detection: () => SandboxDetection): boolean {
  const spec = req.sandbox;
  if (spec === null || spec.mode === 'danger-full-access' || spec.network) return false;
  return (spec.domains?.allow.length ?? 0) > 0 && detection().type === 'bwrap';
}

function invocation(req: RunRequest, detection: () => SandboxDetection, net: SandboxNetwork | null = null): Invocation {
  const env = { ...(req.env ?? process.env) };
  const [file, ...args] = req.command;
  if (file === undefined) throw new TypeError('runCommand: empty command');
  const spec = req.sandbox;
  if (spec === null || spec.mode === 'danger-full-access') {
    return { sandboxType: 'none', file, args, env, masks: [], infoFd: false, seccomp: null, hidden: [] };
  }
  const found = detection();
  if (found.type === 'none' || found.executable === null) {
    throw new SandboxUnavailableError(found.reason ?? 'no sandbox available on this machine');
  }
  const env2 = sandboxEnv(env);
  // Tell the command (and tools that care) it is sandboxed; Codex sets CODEX_SANDBOX the same way.
  env2.WARDEN_SANDBOX = found.type;
  if (!spec.network) env2.WARDEN_SANDBOX_NETWORK_DISABLED = '1';
  if (found.type === 'bwrap') {
    const allowed = (spec.allowUnixSockets ?? []).map(canonicalOrSelf);
    const unixByPath = allowed.length > 0;
    // With sockets allowed by path, seccomp lets AF_UNIX through and every other socket is masked.
    const socketMasks = unixByPath ? hostUnixSockets().filter((p) => !allowed.includes(canonicalOrSelf(p))) : [];
    // Behind the domain proxy the command keeps its empty network namespace but may make TCP sockets
    // (they reach only the relay on its loopback): the network-on filter (no AF_UNIX socket), installed
    // by the relay on the command alone, since the relay itself must reach the proxy's Unix socket.
    const seccomp = sandboxSeccompFilter({ network: spec.network || net !== null, unixByPath });
    if (net !== null && seccomp === null) {
      throw new SandboxUnavailableError(`no seccomp table for ${process.arch}: allowed domains need one to keep host sockets closed`);
    }
    if (net !== null) Object.assign(env2, net.env);
    const hiddenSpec = socketMasks.length === 0 ? spec : { ...spec, hidden: [...(spec.hidden ?? []), ...socketMasks] };
    const plan = buildBwrapArgs({
      spec: hiddenSpec,
      cwd: req.cwd,
      command: net === null ? req.command : net.wrap(req.command, SECCOMP_FD),
      readOnlyBinds: net?.readOnly ?? [],
      env: env2,
      probe: nodeFsProbe,
      infoFd: INFO_FD,
      decoy: decoy(),
      ...(seccomp === null || net !== null ? {} : { seccompFd: SECCOMP_FD }),
    });
    // A run that finds another run's mask file (an empty file it sees as an existing entry) holds it too,
    // so the first run to finish does not remove it from under the second.
    const masks = [...plan.masks, ...plan.readOnly.filter((p) => maskUsers.has(p))];
    const hidden = [...plan.hides.dirs, ...plan.hides.files];
    return { sandboxType: 'bwrap', file: found.executable, args: plan.args, env: env2, masks, infoFd: true, seccomp, hidden };
  }
  const argv = seatbeltArgv(buildSeatbeltProfile(spec, req.cwd, env2, nodeFsProbe), req.command);
  return { sandboxType: 'seatbelt', file: argv[0]!, args: argv.slice(1), env: env2, masks: [], infoFd: false, seccomp: null, hidden: spec.hidden ?? [] };
}

/** Keeps the first `cap` bytes of a stream and counts the rest. */
class CappedBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.cap - this.kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(part);
    this.kept += part.length;
  }
  get dropped(): number {
    return this.total - this.kept;
  }
  text(): string {
    const body = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped > 0 ? `${body}\n[warden: output truncated, ${this.dropped} bytes dropped]` : body;
  }
}

/**
 * Bind-mount points bwrap created for masks. Several runs in this process may share one (same cwd), so
 * only the last to finish removes it. (Runs in other warden processes sharing a workspace are not
 * counted: removing a mount point another namespace still uses would lift its mask there.)
 */
const maskUsers = new Map<string, number>();

function takeMasks(paths: string[]): void {
  for (const p of paths) maskUsers.set(p, (maskUsers.get(p) ?? 0) + 1);
}

function releaseMasks(paths: string[]): void {
  for (const p of paths) {
    const left = (maskUsers.get(p) ?? 1) - 1;
    if (left > 0) {
      maskUsers.set(p, left);
      continue;
    }
    maskUsers.delete(p);
    try {
      const st = lstatSync(p);
      // Only what bwrap leaves behind: an empty regular file. Anything else was made by someone else.
      if (st.isFile() && st.size === 0) unlinkSync(p);
    } catch {
      // already gone
    }
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already
  }
}

/** Runs a command; resolves with its outcome. Throws only SandboxUnavailableError (and TypeError on an empty command). */
export async function runCommand(req: RunRequest, options: RunOptions = {}): Promise<RunOutcome> {
  const detection = () => options.detection ?? sandboxDetection();
  let net: SandboxNetwork | null = null;
  if (wantsProxy(req, detection)) {
    try {
      net = await openSandboxNetwork(req.sandbox!.domains!);
    } catch (err) {
      // Fail closed: without the proxy the run does not start (it would have no network anyway).
      return failed('bwrap', performance.now(), `the domain proxy could not start: ${(err as Error).message}`);
    }
  }
  let inv: Invocation;
  try {
    inv = invocation(req, detection, net);
  } catch (err) {
    await net?.finish();
    throw err;
  }
  if (net !== null) return withNetworkUse(await spawnAndWait(req, inv, options), net);
  return await spawnAndWait(req, inv, options);
}

/** Records what the run's connections did; a refused host behind a failed run is a sandbox denial naming it. */
async function withNetworkUse(outcome: RunOutcome, net: SandboxNetwork): Promise<RunOutcome> {
  const use = await net.finish();
  outcome.network = use;
  const refused = use.refused[0];
  if (refused !== undefined && outcome.exitCode !== 0 && !outcome.denial.denied && outcome.error === undefined) {
    outcome.denial = { denied: true, what: `network access to ${refused.host} refused: ${refused.reason}` };
  }
  return outcome;
}

async function spawnAndWait(req: RunRequest, inv: Invocation, options: RunOptions): Promise<RunOutcome> {
  const cap = req.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
  const stdout = new CappedBuffer(cap);
  const stderr = new CappedBuffer(cap);
  const started = performance.now();
  takeMasks(inv.masks);

  let child: ChildProcess;
  const stdio: Array<'pipe' | 'ignore'> = [req.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
  if (inv.infoFd) stdio.push('pipe');
  if (inv.seccomp !== null) stdio.push('pipe');
  try {
    child = spawn(inv.file, inv.args, { cwd: req.cwd, env: inv.env, stdio, detached: true });
  } catch (err) {
    releaseMasks(inv.masks);
    return failed(inv.sandboxType, started, (err as Error).message);
  }

  return await new Promise<RunOutcome>((resolvePromise) => {
    let timedOut = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let spawnError: string | null = null;
    let sandboxReady = !inv.infoFd;
    const timers: NodeJS.Timeout[] = [];
    let done = false;

    const finish = () => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      // Whatever is still in the group (a bare run's background jobs) goes now.
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      for (const s of child.stdio) s?.destroy();
      releaseMasks(inv.masks);
      const durationMs = performance.now() - started;
      if (spawnError !== null) {
        resolvePromise(failed(inv.sandboxType, started, spawnError));
        return;
      }
      const exitCode = exit?.code ?? null;
      const signal = exit?.signal ?? null;
      const out = stdout.text();
      const err = stderr.text();
      // bwrap exits 1 with "bwrap: …" when it cannot build the sandbox; the info fd tells that apart
      // from the command itself failing.
      let setupError =
        !sandboxReady && !timedOut ? `sandbox set-up failed: ${err.trim() || `exit ${exitCode ?? signal}`}` : undefined;
      // bwrap's own exec of the command failed (ENOENT, EACCES): report it like a bare spawn failure.
      // Behind the domain proxy the relay execs the command and says so the same way (exit 127).
      const execFailed =
        inv.sandboxType === 'bwrap' && (exitCode === 1 || exitCode === 127)
          ? (exitCode === 1 ? /^bwrap: execvp (.*)$/m : /^warden-netns: execvp (.*)$/m).exec(err)
          : null;
      if (setupError === undefined && execFailed) setupError = `spawn ${execFailed[1]}`;
      const outcome: RunOutcome = {
        sandboxType: inv.sandboxType,
        exitCode: setupError ? null : exitCode,
        signal,
        timedOut,
        durationMs,
        stdout: out,
        stderr: err,
        stdoutBytes: stdout.total,
        stderrBytes: stderr.total,
        truncated: stdout.dropped > 0 || stderr.dropped > 0,
        denial: setupError
          ? { denied: false }
          : detectDenial({
              sandboxType: inv.sandboxType,
              exitCode,
              signal,
              stdout: out,
              stderr: err,
              timedOut,
              network: req.sandbox?.network ?? true,
              hidden: inv.hidden,
              cwd: req.cwd,
            }),
      };
      if (setupError) outcome.error = setupError;
      resolvePromise(outcome);
    };

    child.stdout?.on('data', (c: Buffer) => stdout.push(c));
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    const info = child.stdio[INFO_FD];
    if (inv.infoFd && info) {
      info.on('data', () => {
        sandboxReady = true;
      });
      info.on('error', () => {});
    }
    child.on('error', (err) => {
      // ENOENT/EACCES on spawn: no 'exit' follows.
      spawnError = err.message;
      if (child.pid === undefined) finish();
    });
    child.on('spawn', () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Kill stragglers now so they stop holding our pipes open; give the pipes a moment to drain.
      if (inv.sandboxType === 'none' && child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      timers.push(setTimeout(finish, DRAIN_MS));
    });
    child.on('close', () => finish());

    const seccompPipe = child.stdio[SECCOMP_FD];
    if (inv.seccomp !== null && seccompPipe && 'end' in seccompPipe) {
      // bwrap reads the program to EOF before it builds the sandbox; it fits in the pipe buffer.
      seccompPipe.on('error', () => {});
      seccompPipe.end(inv.seccomp);
    }
    if (req.stdin !== undefined && child.stdin) {
      child.stdin.on('error', () => {}); // EPIPE when the command does not read its input
      child.stdin.end(req.stdin);
    }
    if (req.timeoutMs !== undefined && req.timeoutMs > 0) {
      timers.push(
        setTimeout(() => {
          if (exit !== null || child.pid === undefined) return;
          timedOut = true;
          killGroup(child.pid, 'SIGTERM');
          timers.push(setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS));
        }, req.timeoutMs),
      );
    }
  });
}

function failed(sandboxType: SandboxType, started: number, message: string): RunOutcome {
  return {
    sandboxType,
    exitCode: null,
    signal: null,
    timedOut: false,
    durationMs: performance.now() - started,
    stdout: '',
    stderr: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    truncated: false,
    denial: { denied: false },
    error: message,
  };
}
