/**
 * Runs one command, bare (`sandboxSpec: null` or danger-full-access) or inside the platform sandbox, and
 * reports what happened as a value: exit code, signal, timeout, capped output, duration and whether it
 * looks like a sandbox denial. Does I/O (spawns processes, touches the file system for bwrap masks).
 *
 * Nothing outlives a request. The child leads its own process group (`detached`); on timeout the group
 * gets SIGTERM, then SIGKILL after a grace period, and after a bare run ends the rest of its group is
 * killed too. Under bwrap the command is PID 1's child in a fresh pid namespace: when it (or bwrap) dies
 * the kernel kills every process in the namespace, and `--die-with-parent` covers warden dying. A bare
 * run gets that pid namespace too wherever bwrap works (bareBwrapArgs): a process group does not hold a
 * `setsid` daemon, and nothing kills the group when warden itself is killed. Every run carries
 * WARDEN_RUN_ID (its request id) so recovery can find what is left of it in /proc all the same.
 *
 * Never falls back to running bare: a sandbox spec on a machine without a sandbox throws
 * SandboxUnavailableError (the one exception; every other failure is a result with `error`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsConstants, lstatSync, openSync, readFileSync, readlinkSync, readSync, realpathSync, unlinkSync, writeSync } from 'node:fs';
import { SandboxUnavailableError } from '../errors.ts';
import type { SandboxType } from '../policy.ts';
import type { Containment, Conversation, RunResult, CommandRun } from './types.ts';
import { bareBwrapArgs, buildBwrapArgs } from './bwrapArgs.ts';
import { detectDenial } from './denial.ts';
import { sandboxDetection, type SandboxDetection } from './platform.ts';
import { buildSeatbeltProfile, seatbeltArgv } from './seatbelt.ts';
import { nodeFsProbe, personalDirs } from './writableRoots.ts';
import { decoy, decoyFile, decoyRoot } from './decoy.ts';
import { wardenCodePaths } from './ownCode.ts';
import { gitConfigFiles, withoutCredentials } from './gitCredentials.ts';
import { proxySocketRoot } from '../network/socketRoot.ts';
import { dirname } from 'node:path';
import { sandboxSeccompFilter } from './seccomp.ts';
import { joinCgroupArgv, makePidsCgroup, SANDBOX_PIDS_MAX, type PidsCgroup } from './pidsLimit.ts';
import { forgetBwrapProbe } from './probeMemo.ts';
import type { SandboxNetwork } from '../network/sandboxNetwork.ts';
import type { NetworkUse } from '../network/proxy.ts';
import { signalTargets, readProcesses } from './signals.ts';
import { intField, readProcStat } from './procStat.ts';

/** A monotonic clock in ms: `performance.now()` would load perf_hooks' dozen modules into every start-up. */
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const DEFAULT_OUTPUT_CAP_BYTES = 1024 * 1024;
/** Between SIGTERM and SIGKILL on timeout. */
export const KILL_GRACE_MS = 500;
/** After the process exited, how long to wait for pipes held open by escaped descendants. */
const DRAIN_MS = 500;
const INFO_FD = 3;
/** The variable naming the request a process belongs to (see CommandRun.runId). */
export const RUN_ID_ENV = 'WARDEN_RUN_ID';
const SECCOMP_FD = 4;
/** The first fd of the read-write binds (bwrapArgs `bindFdBase`). */
const BIND_FD_BASE = 5;

export interface RunOptions {
  /** Called with the pid of the spawned process (bwrap itself under the sandbox). */
  onSpawn?(pid: number): void;
  /** Override platform detection (tests). */
  detection?: SandboxDetection;
  /**
   * `inherit`: the command reads warden's own stdin (`warden exec` as a transparent wrapper, like
   * `sudo`). A request that carries its own stdin, or talks with its command (a patch), keeps it.
   */
  stdin?: 'inherit';
  /**
   * Every byte of the command's output is also written here as it comes, uncapped (the person sees
   * all of it; the cap applies to the record only). A sink that breaks (EPIPE: `| head` went away)
   * stops being written and the command gets SIGPIPE, as it would writing to that pipe itself.
   */
  tee?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
  /** Signals warden gets while the command runs that go to the command instead (signals.ts). */
  forwardSignals?: readonly NodeJS.Signals[];
}

interface Invocation {
  sandboxType: SandboxType;
  containment: Containment;
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  masks: string[];
  /** bwrap reports set-up success on an extra pipe (fd 3). */
  infoFd: boolean;
  /** Seccomp program bwrap reads from fd 4 (every bwrap run, when warden has a table for the architecture). */
  seccomp: Buffer | null;
  /**
   * Behind the domain proxy, where fd 4 carries the command's own program (the relay installs it):
   * the program bwrap installs on everything in the sandbox, its own PID 1 included, read from the
   * fd after the decoys' (spawnAndWait).
   */
  outerSeccomp?: Buffer;
  /** Paths masked as hidden (canonical), for naming them in a denial. */
  hidden: string[];
  /** Directories bwrap binds read-write from fds BIND_FD_BASE... (openBindFds). */
  rwBinds?: string[];
  /** The decoy's fd once per hidden file, passed after the read-write binds' fds (bwrapArgs `decoyFds`). */
  decoyFds?: number[];
  /** git configs without their credentials (gitCredentials.ts): fds passed after the decoy fds, and their files, removed once bound. */
  covers?: Cover[];
  /** Why the run must not start at all (a hidden file the masks cannot cover); spawnAndWait fails it. */
  refused?: string;
}

/**
 * Opens each read-write directory of a plan for `--bind-fd`, and checks that the fd is that very
 * directory: opened without following a final symlink, and the kernel's own path of the fd equal to
 * the planned canonical path (so no component on the way was a symlink either). Null when one is
 * not (it changed since planning: a concurrent command swapped it), with the fds closed: the run
 * does not start (fail closed). Linux only (bwrap). Does I/O.
 */
export function openBindFds(paths: readonly string[]): { fds: number[]; changed: string | null } {
  const fds: number[] = [];
  for (const path of paths) {
    let fd: number;
    try {
      fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW);
    } catch {
      for (const f of fds) closeSync(f);
      return { fds: [], changed: path };
    }
    fds.push(fd);
    let actual: string | null = null;
    try {
      actual = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      actual = null;
    }
    if (actual !== path) {
      for (const f of fds) closeSync(f);
      return { fds: [], changed: path };
    }
  }
  return { fds, changed: null };
}

/**
 * Environment variables a sandboxed command does not get: where warden's store is (a PostgreSQL URL
 * carries its password) and PostgreSQL's own credentials. With them, and the network on, a command
 * could open the store and record a decision as if a person had made it.
 */
const PRIVATE_ENV = ['WARDEN_STORE', 'PGPASSWORD', 'PGPASSFILE', 'PGSERVICEFILE', 'PGSERVICE'];
/** Any other variable holding a PostgreSQL URL with a password in it. */
const URL_WITH_PASSWORD = /^postgres(ql)?:\/\/[^/@\s]*:[^/@\s]*@/i;
/**
 * Without any network, also every variable named like a credential (Codex's default excludes KEY,
 * SECRET and TOKEN, and PASSWORD, CREDENTIAL) and every URL with a password in it. Red team: the
 * agent's environment (GH_TOKEN, AWS_SECRET_ACCESS_KEY, OPENAI_API_KEY) reached every sandboxed
 * command, so an auto-approved `env` or a test printing its config put the tokens into the agent's
 * context, the leak the hidden paths stop for files. With no network a credential has no service to
 * log in to, so nothing a sandboxed command does needs it; a run with the network (or allowed
 * domains) keeps them, since a tool reaching its service may need its token.
 */
const CREDENTIAL_NAME = /KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL/i;
/** Named like one and not one: git's config-by-environment names (gitHardening.ts sets them for git runs). */
const NOT_A_CREDENTIAL = /^GIT_CONFIG_KEY_\d+$/;
const ANY_URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i;

export function sandboxEnv(env: NodeJS.ProcessEnv, reach: { network: boolean }): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (PRIVATE_ENV.includes(k) || (v !== undefined && URL_WITH_PASSWORD.test(v))) continue;
    if (!reach.network && ((CREDENTIAL_NAME.test(k) && !NOT_A_CREDENTIAL.test(k)) || (v !== undefined && ANY_URL_WITH_PASSWORD.test(v)))) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The host's listening pathname Unix sockets (from /proc/net/unix of warden's network namespace), for
 * masking the ones a run with `--allow-unix-socket` did not list; with `datagramOnly`, the datagram
 * ones alone (type 0002). Does I/O.
 */
function hostUnixSockets(datagramOnly = false): string[] {
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
    if (datagramOnly && fields[4] !== '0002') continue;
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

/**
 * A run that needs the domain proxy: bwrap, network off, and domain lists given (even empty ones: a
 * `[network]` table or a deny-only list turns the proxy on, so a new name is refused by name and can
 * be asked about, rather than failing to resolve in an empty namespace).
 */
function wantsProxy(req: CommandRun, detection: () => SandboxDetection): boolean {
  const spec = req.sandboxSpec;
  if (spec === null || spec.mode === 'danger-full-access' || spec.network) return false;
  return spec.domains !== undefined && detection().type === 'bwrap';
}

function invocation(req: CommandRun, detection: () => SandboxDetection, net: SandboxNetwork | null = null): Invocation {
  const env = { ...(req.env ?? process.env) };
  // Always this run's own id: one inherited from an outer run would name the wrong request.
  if (req.runId !== undefined) env[RUN_ID_ENV] = req.runId;
  else delete env[RUN_ID_ENV];
  const [file, ...args] = req.command;
  if (file === undefined) throw new TypeError('runCommand: empty command');
  const spec = req.sandboxSpec;
  if (spec === null || spec.mode === 'danger-full-access') {
    const found = detection();
    if (found.type === 'bwrap' && found.executable !== null) {
      const bare = bareBwrapArgs(req.cwd, req.command, INFO_FD);
      return { sandboxType: 'none', containment: 'pid-namespace', file: found.executable, args: bare, env, masks: [], infoFd: true, seccomp: null, hidden: [] };
    }
    return { sandboxType: 'none', containment: 'process-group', file, args, env, masks: [], infoFd: false, seccomp: null, hidden: [] };
  }
  const found = detection();
  if (found.type === 'none' || found.executable === null) {
    throw new SandboxUnavailableError(found.reason ?? 'no sandbox available on this machine');
  }
  const env2 = sandboxEnv(env, { network: spec.network || spec.domains !== undefined });
  // Tell the command (and tools that care) it is sandboxed; Codex sets CODEX_SANDBOX the same way.
  env2.WARDEN_SANDBOX = found.type;
  if (!spec.network) env2.WARDEN_SANDBOX_NETWORK_DISABLED = '1';
  // What the writable roots are planned from, for either sandbox: $TMPDIR, and the person's homes
  // (the command's $HOME and warden's own: an agent may pass another one).
  // and warden's own code, which it runs later outside any sandbox (ownCode.ts).
  const rootsEnv = { TMPDIR: env2.TMPDIR, homes: personalDirs([env2, process.env]), code: wardenCodePaths };
  if (found.type === 'bwrap') {
    const allowed = (spec.allowUnixSockets ?? []).map(canonicalOrSelf);
    const unixByPath = allowed.length > 0;
    // With sockets allowed by path, seccomp lets AF_UNIX through and every other socket is masked.
    // Behind the domain proxy too, all but the run's own proxy socket: see outerSeccomp below.
    const ownSockets = net?.readOnly ?? [];
    // Without any network, connect is refused but a datagram needs none: sendto(path) reached the
    // host's datagram sockets (red team: journald's and syslog's, a service's notify socket), so
    // those are masked too.
    const socketMasks =
      unixByPath || net !== null
        ? hostUnixSockets().filter((p) => !allowed.includes(canonicalOrSelf(p)) && !ownSockets.some((dir) => p.startsWith(`${dir}/`)))
        : spec.network
          ? []
          : hostUnixSockets(true);
    // Behind the domain proxy the command keeps its empty network namespace but may make TCP sockets
    // (they reach only the relay on its loopback): the network-on filter (no AF_UNIX socket), installed
    // by the relay on the command alone, since the relay itself must reach the proxy's Unix socket.
    // Behind the proxy the command may not reach into PID 1 (seccomp.ts noTrace; bwrapArgs maskInitMemory).
    const seccomp = sandboxSeccompFilter({ network: spec.network || net !== null, unixByPath, ...(net !== null ? { noTrace: true } : {}) });
    if (net !== null && seccomp === null) {
      throw new SandboxUnavailableError(`no seccomp table for ${process.arch}: allowed domains need one to keep host sockets closed`);
    }
    if (net !== null) Object.assign(env2, net.env);
    const hiddenSpec = socketMasks.length === 0 ? spec : { ...spec, hidden: [...(spec.hidden ?? []), ...socketMasks] };
    const theDecoy = decoy();
    const covers = spec.network || net !== null || spec.domains !== undefined ? [] : credentialFreeGitConfigs(req.cwd, [env2, process.env]);
    const plan = buildBwrapArgs({
      covers: covers.map((c) => c.path),
      spec: hiddenSpec,
      cwd: req.cwd,
      command: net === null ? req.command : net.wrap(req.command, SECCOMP_FD),
      readOnlyBinds: net?.readOnly ?? [],
      socketRoot: proxySocketRoot(),
      maskInitMemory: net !== null,
      env: rootsEnv,
      probe: nodeFsProbe,
      infoFd: INFO_FD,
      decoy: theDecoy.file,
      decoyDir: decoyRoot(),
      decoyFds: true,
      ...(seccomp === null || net !== null ? {} : { seccompFd: SECCOMP_FD }),
      bindFdBase: BIND_FD_BASE,
      ...(req.opensNoSockets === true && net === null ? { opensNoSockets: true } : {}),
    });
    // A run that finds another run's mask file (an empty file it sees as an existing entry) holds it too,
    // so the first run to finish does not remove it from under the second.
    const masks = [...plan.masks, ...plan.readOnly.filter((p) => maskUsers.has(p))];
    const hidden = [...plan.hides.dirs, ...plan.hides.files];
    const inv: Invocation = { sandboxType: 'bwrap', containment: 'sandbox', file: found.executable, args: plan.args, env: env2, masks, infoFd: true, seccomp, hidden, rwBinds: plan.rwBinds, decoyFds: Array(plan.decoyFds).fill(theDecoy.fd) };
    const bound = covers.filter((c) => plan.covered.includes(c.path));
    releaseCovers(covers.filter((c) => !bound.includes(c)));
    if (bound.length > 0) inv.covers = bound;
    // Red team: behind the proxy only the command carried a filter, and bwrap's own PID 1 (same uid,
    // dumpable) none: a command that ptraced it (or wrote its /proc/1/mem) made it call
    // socket(AF_UNIX) and connect to any Unix socket of the host (the session bus, docker.sock).
    // Everything in the sandbox now gets the sockets-by-path program, which the relay needs to reach
    // the proxy, with every other host socket masked above; the command keeps its stricter one.
    if (net !== null) inv.outerSeccomp = sandboxSeccompFilter({ network: true, unixByPath: true })!;
    const linked = plan.hides.linked[0];
    // Fail closed: the file's other name would show it unmasked (hiddenPaths.ts linkedElsewhere).
    if (linked !== undefined) inv.refused = `sandbox set-up failed: the hidden file ${linked.path} has ${linked.links} names (hard links); a name the hidden list does not give it would show its contents to the command. Remove the other link, or hide it too (--hide)`;
    return inv;
  }
  const argv = seatbeltArgv(buildSeatbeltProfile(spec, req.cwd, rootsEnv, nodeFsProbe), req.command);
  return { sandboxType: 'seatbelt', containment: 'sandbox', file: argv[0]!, args: argv.slice(1), env: env2, masks: [], infoFd: false, seccomp: null, hidden: spec.hidden ?? [] };
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
  /** Puts `chunk` before what is kept, as if it had come first (the cap then drops from the end). */
  prepend(chunk: Buffer): void {
    const rest = this.chunks;
    const restDropped = this.dropped;
    this.chunks = [];
    this.kept = 0;
    this.total = 0;
    this.push(chunk);
    for (const c of rest) this.push(c);
    this.total += restDropped;
  }
  get dropped(): number {
    return this.total - this.kept;
  }
  /**
   * The kept bytes: as text when they are UTF-8 (a character the cap cut in two at the end does not
   * count against that), else as base64, so binary output is never stored or sent lossily.
   */
  decode(): { text: string; base64: boolean } {
    const bytes = Buffer.concat(this.chunks);
    const marker = this.dropped > 0 ? `\n[warden: output truncated, ${this.dropped} bytes dropped]` : '';
    const body = utf8(bytes) ?? (this.dropped > 0 ? cutUtf8(bytes) : null);
    if (body !== null) return { text: body + marker, base64: false };
    return { text: bytes.toString('base64') + marker, base64: true };
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** UTF-8 once up to 3 trailing bytes (a sequence the cap cut) are left off; null when still not. */
function cutUtf8(bytes: Buffer): string | null {
  for (let drop = 1; drop <= 3 && drop <= bytes.length; drop++) {
    const text = utf8(bytes.subarray(0, bytes.length - drop));
    if (text !== null) return text;
  }
  return null;
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

/**
 * Whether `pid` (our child) has exited but is not reaped yet: a zombie in /proc (Linux). Elsewhere
 * false, and the setImmediate turn in the deadline timer is what catches an exit during a stall.
 */
function hasExited(pid: number): boolean {
  return readProcStat(pid)?.field(3) === 'Z';
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already
  }
}

/** A git config without its credentials (gitCredentials.ts), written for one run: its file and an open fd of it. */
interface Cover {
  /** The config it is bound over. */
  path: string;
  /** '' for the decoy's own fd (shared, never closed here). */
  file: string;
  fd: number;
}

let covers = 0;
/**
 * The git configs a run without the network gets without their credentials (gitCredentials.ts),
 * each written to a file of its own in this process's decoy directory (out of every sandbox's
 * reach, decoy.ts; bwrap binds a file from an fd only while it has a name) until the run ends
 * (releaseCovers; decoy.ts's sweep removes what a killed process left). Fails closed: a config
 * whose copy cannot be made is covered with the decoy (mode 000: git then fails to read it), so no
 * token shows. The environments are the command's and warden's own (their $HOME may differ).
 * Does I/O.
 */
function credentialFreeGitConfigs(cwd: string, envs: ReadonlyArray<NodeJS.ProcessEnv>): Cover[] {
  const paths = gitConfigFiles(cwd, envs, nodeFsProbe);
  const out: Cover[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue; // unreadable to warden: unreadable to the command too
    }
    const clean = withoutCredentials(text);
    if (clean === null) continue;
    const file = `${dirname(decoyFile())}/cover-${process.pid}-${++covers}`;
    let fd = -1;
    try {
      fd = openSync(file, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
      writeSync(fd, clean);
      out.push({ path, file, fd });
    } catch {
      if (fd >= 0) releaseCovers([{ path, file, fd }]);
      out.push({ path, file: '', fd: decoy().fd });
    }
  }
  return out;
}

/** Closes and removes the covers' files (idempotent: each once). */
function releaseCovers(list: Cover[] | undefined): void {
  for (const c of list ?? []) {
    if (c.fd < 0 || c.file === '') continue;
    try {
      closeSync(c.fd);
      unlinkSync(c.file);
    } catch {
      // already gone
    }
    c.fd = -1;
  }
}

/** Runs a command; resolves with its result (a RunResult). Throws only SandboxUnavailableError (and TypeError on an empty command). */
export async function runCommand(req: CommandRun, options: RunOptions = {}): Promise<RunResult> {
  const detection = () => options.detection ?? sandboxDetection();
  let net: SandboxNetwork | null = null;
  if (wantsProxy(req, detection)) {
    try {
      // Imported here: the proxy's modules (dns, net servers) cost every other run's start-up.
      const { openSandboxNetwork } = await import('../network/sandboxNetwork.ts');
      net = await openSandboxNetwork(req.sandboxSpec!.domains!);
    } catch (err) {
      // Fail closed: without the proxy the run does not start (it would have no network anyway).
      return failed('bwrap', monotonicMs(), `the domain proxy could not start: ${(err as Error).message}`);
    }
  }
  for (let attempt = 1; ; attempt++) {
    let inv: Invocation;
    try {
      inv = invocation(req, detection, net);
    } catch (err) {
      await net?.finish();
      throw err;
    }
    const result = await spawnAndWait(req, inv, options);
    // Planned again, not failed: see vanishedDuringSetUp. Bounded, so a path that keeps coming and
    // going cannot hold a run in this loop.
    if (attempt < SETUP_ATTEMPTS && vanishedDuringSetUp(result, inv) !== null) continue;
    return net !== null ? withNetworkUse(result, net) : result;
  }
}

const SETUP_ATTEMPTS = 3;

let marks = 0;
/**
 * The set-up mark: an fd of an unlinked one-byte file that bwrap reads a byte from (`--block-fd`)
 * after its whole set-up, just before its exec, and then closes (the command never has it). The
 * byte left unread after bwrap's end says that its set-up died and nothing of the command ran; the
 * command cannot unread it. The file is made in this process's decoy directory (out of every
 * sandbox's reach, decoy.ts) and unlinked at once; the offset bwrap's read moves is the one this fd
 * shares. Null where it cannot be made: then no exit counts as a set-up failure after the info fd.
 * Does I/O.
 */
function setUpMark(): number | null {
  try {
    const path = `${dirname(decoyFile())}/mark-${process.pid}-${++marks}`;
    const fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
    unlinkSync(path);
    writeSync(fd, Buffer.from('x'), 0, 1, 0); // at offset 0, leaving the fd's offset at 0 for bwrap's read
    return fd;
  } catch {
    return null;
  }
}

/** Whether bwrap left the mark's byte unread (its set-up did not finish). */
function setUpMarkLeft(fd: number): boolean {
  try {
    return readSync(fd, Buffer.alloc(1), 0, 1, null) === 1;
  } catch {
    return false;
  }
}

/**
 * The hidden path whose disappearance failed bwrap's set-up, or null. A path is hidden by binding the
 * decoy over it, and bwrap must create the mount point when the path is gone by then: inside a
 * read-only parent that fails ("Can't create file at …: Read-only file system"). The paths that come
 * and go are other processes' files: another run's domain-proxy socket (masked for a run that allows
 * Unix sockets by path) that ended between the plan and the mount, the store's `-wal` after a
 * checkpoint. Nothing of the command ran (bwrap died before its exec), and a path that is gone has
 * nothing left to hide, so the run is planned again from what is there now; the same when what is
 * gone is a directory above a hidden path, bound onto itself as a pin (another run's proxy socket
 * directory, masked for every run behind the proxy). A command that prints
 * that line itself and exits 1 just as a hidden path goes away is not taken for bwrap: a set-up
 * failure needs bwrap's set-up mark left unread (setUpMark), so the command is never run twice.
 */
function vanishedDuringSetUp(result: RunResult, inv: Invocation): string | null {
  if (inv.sandboxType !== 'bwrap' || result.error === undefined || !result.error.startsWith('sandbox set-up failed: ')) return null;
  const failure = result.error.slice('sandbox set-up failed: '.length);
  const m =
    /^bwrap: (?:Can't create file at|Can't mkdir parents for|Can't mkdir|Can't create dir at|Can't get type of source) (.+?): /m.exec(failure) ??
    /^(\/.*?) changed while the sandbox was being set up /.exec(failure); // openBindFds, before bwrap
  // A read-write bind from an fd whose directory was removed after openBindFds opened it.
  const fd = /^bwrap: Can't find source path \/proc\/self\/fd\/(\d+): /m.exec(failure)?.[1];
  const path = m?.[1] ?? (fd === undefined ? undefined : inv.rwBinds?.[Number(fd) - BIND_FD_BASE]);
  // The hidden path itself, or a directory above one that is bound onto itself (a pin, bwrapArgs.ts
  // pinsFor): another run's proxy socket directory, removed when that run ended.
  if (path === undefined || !inv.hidden.some((h) => h === path || h.startsWith(`${path}/`))) return null;
  try {
    lstatSync(path);
    return null;
  } catch {
    return path;
  }
}

/**
 * Records what the run's connections did; a refused host behind a failed run is a sandbox denial
 * naming it. The proxy knows better than the output heuristics: its refusal replaces a denial they
 * read as a network one ("connection refused" is what a tool says after the proxy's 403). The names
 * no list mentions (`not-allowed`) go with the denial: those, and only those, may be asked about.
 */
export function withRefusals(result: RunResult, use: NetworkUse): RunResult {
  result.network = use;
  const refused = use.refused[0];
  const networkDenial = !result.denial.denied || (result.denial.what ?? '').startsWith('network ');
  if (refused !== undefined && result.exitCode !== 0 && networkDenial && result.error === undefined && !result.timedOut) {
    const askable = use.refused.filter((r) => r.kind === 'not-allowed').map((r) => r.host);
    const first = use.refused.find((r) => r.kind === 'not-allowed') ?? refused;
    result.denial = {
      denied: true,
      what: `network access to ${first.host} refused: ${first.reason}`,
      ...(askable.length > 0 ? { domains: askable } : {}),
    };
  }
  return result;
}

async function withNetworkUse(result: RunResult, net: SandboxNetwork): Promise<RunResult> {
  return withRefusals(result, await net.finish());
}

async function spawnAndWait(req: CommandRun, inv: Invocation, options: RunOptions): Promise<RunResult> {
  const cap = req.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
  const stdout = new CappedBuffer(cap);
  const stderr = new CappedBuffer(cap);
  const started = monotonicMs();
  if (inv.refused !== undefined) {
    releaseCovers(inv.covers);
    return failed(inv.sandboxType, started, inv.refused);
  }
  takeMasks(inv.masks);

  let child: ChildProcess;
  const ownInput = req.stdin !== undefined || req.converse !== undefined;
  const stdio: Array<'pipe' | 'ignore' | 'inherit' | number> = [ownInput ? 'pipe' : options.stdin === 'inherit' ? 'inherit' : 'ignore', 'pipe', 'pipe'];
  if (inv.infoFd) stdio.push('pipe');
  if (inv.seccomp !== null) stdio.push('pipe');
  let bindFds: number[] = [];
  if (inv.rwBinds !== undefined && inv.rwBinds.length > 0) {
    const opened = openBindFds(inv.rwBinds);
    if (opened.changed !== null) {
      releaseMasks(inv.masks);
      releaseCovers(inv.covers);
      return failed(inv.sandboxType, started, `sandbox set-up failed: ${opened.changed} changed while the sandbox was being set up (it is no longer the directory that was planned)`);
    }
    bindFds = opened.fds;
    while (stdio.length < BIND_FD_BASE) stdio.push('ignore');
    stdio.push(...bindFds);
  }
  if (inv.decoyFds !== undefined && inv.decoyFds.length > 0) {
    while (stdio.length < BIND_FD_BASE + bindFds.length) stdio.push('ignore');
    stdio.push(...inv.decoyFds);
  }
  if (inv.covers !== undefined) {
    while (stdio.length < BIND_FD_BASE + bindFds.length + (inv.decoyFds?.length ?? 0)) stdio.push('ignore');
    stdio.push(...inv.covers.map((c) => c.fd));
  }
  const closeBindFds = () => {
    for (const fd of bindFds) closeSync(fd);
    bindFds = [];
  };
  let bwrapArgv = inv.args;
  const outerSeccompFd = inv.outerSeccomp === undefined ? null : stdio.length;
  if (outerSeccompFd !== null) {
    stdio.push('pipe');
    bwrapArgv = ['--seccomp', String(outerSeccompFd), ...bwrapArgv];
  }
  const mark = inv.containment === 'sandbox' && inv.sandboxType === 'bwrap' && inv.infoFd ? setUpMark() : null;
  if (mark !== null) {
    bwrapArgv = ['--block-fd', String(stdio.length), ...bwrapArgv];
    stdio.push(mark);
  }
  const closeMark = () => {
    if (mark !== null) closeSync(mark);
  };
  // Sandboxed runs get a process limit of their own (pidsLimit.ts); a bare run is the person's.
  const limited = inv.containment === 'sandbox' && req.makesNoProcesses !== true;
  const pids: PidsCgroup | null = limited ? makePidsCgroup(req.pidsMax ?? SANDBOX_PIDS_MAX) : null;
  const argv = pids === null ? { file: inv.file, args: bwrapArgv } : joinCgroupArgv(pids, inv.file, bwrapArgv);
  try {
    child = spawn(argv.file, argv.args, { cwd: req.cwd, env: inv.env, stdio, detached: true });
  } catch (err) {
    closeMark();
    closeBindFds();
    releaseMasks(inv.masks);
    releaseCovers(inv.covers);
    pids?.remove();
    return failed(inv.sandboxType, started, (err as Error).message);
  }
  // the child holds its copies; bwrap closes them once bound (the command never sees them)
  closeBindFds();

  // A conversation's outcome, or its failure as an outcome (it is its own code's to never reject).
  const talk: Promise<Conversation> | null =
    req.converse === undefined
      ? null
      : req.converse({ input: child.stdin!, output: child.stdout! }).catch((e: unknown) => ({ stdout: '', stderr: `${(e as Error).message}\n`, exitCode: 1 }));

  return await new Promise<RunResult>((resolvePromise) => {
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
      for (const [signal, handler] of forwarding) process.off(signal, handler);
      // Whatever is still in the group (a bare run's background jobs) goes now.
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      for (const s of child.stdio) s?.destroy();
      releaseMasks(inv.masks);
      releaseCovers(inv.covers);
      pids?.remove();
      // With its pipes gone a conversation settles at its next call at the latest.
      if (talk === null) settle(null);
      else void talk.then(settle);
    };

    const settle = (said: Conversation | null) => {
      const durationMs = monotonicMs() - started;
      if (spawnError !== null) {
        closeMark();
        resolvePromise(failed(inv.sandboxType, started, spawnError));
        return;
      }
      const processExit = exit?.code ?? null;
      const signal = exit?.signal ?? null;
      // bwrap's own lines are read from the process's stderr alone, before a conversation's are added
      const own = stderr.decode().text;
      if (said !== null) {
        stdout.push(Buffer.from(said.stdout, 'utf8'));
        stderr.prepend(Buffer.from(said.stderr, 'utf8'));
        // the person watching sees the conversation's account, never its frames
        options.tee?.stdout.write(said.stdout);
        options.tee?.stderr.write(said.stderr);
      }
      const exitCode = said !== null && processExit === 0 ? said.exitCode : processExit;
      const decodedOut = stdout.decode();
      const decodedErr = stderr.decode();
      const out = decodedOut.text;
      const err = decodedErr.text;
      // bwrap exits 1 with "bwrap: …" when it cannot build the sandbox; the info fd tells that apart
      // from the command itself failing.
      // bwrap writes the info fd right after its clone, before it mounts anything: a mount that fails
      // after that ends bwrap with exit 1 and its one `bwrap: …` line, the command never started.
      // Red team: the command itself could print such a line and exit 1 (and, just as a hidden path
      // went away, be run again by runCommand's retry without a decision): only a mark bwrap never
      // took (setUpMark) says the command did not start.
      const diedInSetUp =
        sandboxReady && inv.infoFd && processExit === 1 && /^bwrap: (?!execvp )[^\n]*\n?$/.test(own) && mark !== null && setUpMarkLeft(mark);
      let setupError =
        (!sandboxReady || diedInSetUp) && !timedOut ? `sandbox set-up failed: ${own.trim() || `exit ${processExit ?? signal}`}` : undefined;
      // The machine may no longer allow what an earlier probe found working (probeMemo.ts): the next
      // start probes again, and says why when the sandbox is gone.
      if (setupError !== undefined && inv.sandboxType === 'bwrap') forgetBwrapProbe();
      // bwrap's own exec of the command failed (ENOENT, EACCES): report it like a bare spawn failure.
      // Behind the domain proxy the relay execs the command and says so the same way (exit 127).
      const execFailed =
        inv.containment !== 'process-group' && inv.sandboxType !== 'seatbelt' && (processExit === 1 || processExit === 127)
          ? (processExit === 1 ? /^bwrap: execvp (.*)$/m : /^warden-netns: execvp (.*)$/m).exec(own)
          : null;
      if (setupError === undefined && execFailed) setupError = `spawn ${execFailed[1]}`;
      const result: RunResult = {
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
              network: req.sandboxSpec?.network ?? true,
              hidden: inv.hidden,
              cwd: req.cwd,
            }),
      };
      if (setupError) result.error = setupError;
      result.containment = inv.containment;
      if (limited) result.pidsLimit = pids?.max ?? null;
      if (decodedOut.base64) result.stdoutEncoding = 'base64';
      if (decodedErr.base64) result.stderrEncoding = 'base64';
      closeMark();
      resolvePromise(result);
    };

    if (talk === null) child.stdout?.on('data', (c: Buffer) => stdout.push(c));
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    if (options.tee) {
      const signalCommand = (signal: NodeJS.Signals) => child.pid !== undefined && exit === null && signalRun(child.pid, inv.file === bwrapOf(inv), signal);
      if (talk === null) teeInto(child.stdout, options.tee.stdout, () => signalCommand('SIGPIPE'));
      teeInto(child.stderr, options.tee.stderr, () => signalCommand('SIGPIPE'));
    }
    const forwarding = (options.forwardSignals ?? []).map((signal) => {
      const handler = () => {
        if (child.pid !== undefined && exit === null) signalRun(child.pid, inv.file === bwrapOf(inv), signal);
      };
      process.on(signal, handler);
      return [signal, handler] as const;
    });
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
      if (inv.containment === 'process-group' && child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      timers.push(setTimeout(finish, DRAIN_MS));
    });
    child.on('close', () => finish());

    const outerPipe = outerSeccompFd === null ? undefined : child.stdio[outerSeccompFd];
    if (inv.outerSeccomp !== undefined && outerPipe && 'end' in outerPipe) {
      outerPipe.on('error', () => {});
      outerPipe.end(inv.outerSeccomp);
    }
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
      const kill = () => {
        if (exit !== null || child.pid === undefined || hasExited(child.pid)) return;
        timedOut = true;
        killGroup(child.pid, 'SIGTERM');
        timers.push(setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS));
      };
      // After a stall of warden's own (SIGSTOP, a blocked event loop) the deadline timer runs before
      // the child's exit is processed: libuv runs timers before it polls for SIGCHLD. A child that is
      // already a zombie exited by itself; and one more turn of the loop (setImmediate runs after the
      // poll) lets an exit that arrived during the stall be seen before anything is called a timeout.
      timers.push(setTimeout(() => setImmediate(() => !done && kill()), req.timeoutMs));
    }
  });
}

/**
 * Copies a child's output stream into `sink` as it comes, pausing the child's pipe while the sink
 * is full (the command then blocks on its own writes, as it would on a slow terminal).
 */
function teeInto(from: NodeJS.ReadableStream | null, sink: NodeJS.WritableStream, onBroken: () => void): void {
  if (from === null) return;
  let broken = false;
  const breakOff = () => {
    if (broken) return;
    broken = true;
    onBroken();
  };
  sink.on('error', breakOff);
  from.on('data', (c: Buffer) => {
    if (broken) return;
    if (!sink.write(c)) {
      from.pause();
      sink.once('drain', () => from.resume());
    }
  });
  from.on('close', () => sink.off('error', breakOff));
}

/** Whether the run was started through bwrap (the sandbox, or a bare run's pid namespace). */
function bwrapOf(inv: Invocation): string | null {
  return inv.containment === 'pid-namespace' || inv.sandboxType === 'bwrap' ? inv.file : null;
}

/**
 * Sends `signal` to the command of a run (signals.ts says where it goes under bwrap); a run
 * started without bwrap is its own process group.
 */
export function signalRun(pid: number, underBwrap: boolean, signal: NodeJS.Signals): void {
  if (!underBwrap) {
    killGroup(pid, signal);
    return;
  }
  const processes = readProcesses();
  const own = readProcStat('self');
  const self = (own === null ? null : intField(own, 5)) ?? -1;
  const root = processes.find((p) => p.pid === pid) ?? { pid, ppid: process.pid, pgid: pid };
  const targets = signalTargets(root, processes, self);
  for (const group of targets.groups) killGroup(group, signal);
  for (const target of targets.pids) {
    try {
      process.kill(target, signal);
    } catch {
      // gone since the listing
    }
  }
}

function failed(sandboxType: SandboxType, started: number, message: string): RunResult {
  return {
    sandboxType,
    exitCode: null,
    signal: null,
    timedOut: false,
    durationMs: monotonicMs() - started,
    stdout: '',
    stderr: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    truncated: false,
    denial: { denied: false },
    error: message,
  };
}
