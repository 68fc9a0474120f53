/**
 * Who a process is, read from /proc (Linux): its start time, boot, namespaces, user, terminal and
 * the chain of its ancestors up to pid 1. Two uses: the mark a request's owner leaves in its
 * `origin` (so a later check can tell the owner from a process that reuses its pid), and the
 * identity of a process that makes an out-of-band decision (deciderCheck.ts judges it; the
 * decision records it). Nothing here decides anything: an identity that could not be read in full
 * carries a `problem`, and the check refuses it. I/O: reads /proc and /etc/passwd.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { Decider, Launcher, ProcessMark } from '../events/types.ts';
import { intField, parseProcStat, readProcStat, type ProcStat } from '../sandbox/procStat.ts';

export interface ProcessStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  ttyNr: number;
  /** Clock ticks after boot (field 22): with the pid, names one process for the life of the boot. */
  start: number;
}

/** Parses /proc/<pid>/stat text; the command name may hold spaces and parentheses. Pure. */
export function parseStat(pid: number, text: string): ProcessStat | null {
  const stat = parseProcStat(text);
  return stat === null ? null : identityStat(pid, stat);
}

export function readStat(pid: number): ProcessStat | null {
  const stat = readProcStat(pid);
  return stat === null ? null : identityStat(pid, stat);
}

function identityStat(pid: number, stat: ProcStat): ProcessStat | null {
  const ppid = intField(stat, 4);
  const ttyNr = intField(stat, 7);
  const start = intField(stat, 22);
  if (ppid === null || ttyNr === null || start === null) return null;
  return { pid, comm: stat.comm, state: stat.field(3) ?? '?', ppid, ttyNr, start };
}

/** When this boot began, in ms since the epoch (btime of /proc/stat; whole seconds), or null off Linux. */
export function bootTimeMs(): number | null {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) * 1000 : null;
  } catch {
    return null;
  }
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

function namespace(pid: number, kind: 'pid' | 'user'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return null;
  }
}

/** The mark of a live process (an owner's), or null when /proc does not tell it in full. */
export function processMark(pid: number): ProcessMark | null {
  const stat = readStat(pid);
  const boot = bootId();
  const pidNs = namespace(pid, 'pid');
  const userNs = namespace(pid, 'user');
  if (!stat || boot === null || pidNs === null || userNs === null) return null;
  return { start: stat.start, boot, pidNs, userNs };
}

/** The real uid from /proc/<pid>/status. */
function realUid(pid: number): number | null {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function userName(uid: number | null): string {
  if (uid === null) return 'unknown';
  try {
    const self = userInfo();
    if (self.uid === uid) return self.username;
  } catch {
    // no passwd entry for this process: look it up below
  }
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return name;
    }
  } catch {
    // no /etc/passwd: the uid alone names the user
  }
  return `uid ${uid}`;
}

/** The terminal of a stat's tty_nr (dev_t): `/dev/pts/N`, `/dev/ttyN`, or the number. Pure. */
export function ttyName(ttyNr: number): string | null {
  if (ttyNr === 0) return null;
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `/dev/pts/${(major - 136) * 256 + minor}`;
  if (major === 4 && minor < 64) return `/dev/tty${minor}`;
  if (major === 4) return `/dev/ttyS${minor - 64}`;
  return `tty ${major}:${minor}`;
}

/** More ancestors than this is not a process tree a person built: the walk stops and says so. */
const MAX_DEPTH = 128;

/**
 * The identity of the process `pid` as a decider: its mark, user, terminal and ancestry. `found`
 * says how warden knows the pid (`self`: it is warden's own process; `socket`: the inspector found
 * the peer of a connection). Never throws; what could not be read is named in `problem`.
 */
export function readDecider(pid: number, found: Decider['found']): Decider {
  const base = { pid, host: hostname(), found };
  const self = readStat(pid);
  if (!self) return { ...base, user: 'unknown', uid: null, tty: null, mark: null, chain: [], problem: `cannot read /proc/${pid}/stat` };
  const uid = realUid(pid);
  const mark = processMark(pid);
  const chain: Decider['chain'] = [{ pid, comm: self.comm, start: self.start }];
  let problem: string | undefined = mark === null ? `cannot read the namespaces or boot id of pid ${pid}` : undefined;
  let child = self;
  while (problem === undefined && child.ppid > 0) {
    if (chain.length >= MAX_DEPTH) {
      problem = `more than ${MAX_DEPTH} ancestors`;
      break;
    }
    const parent = readStat(child.ppid);
    // The parent exited (or /proc hides it) between two reads: the chain has a hole.
    if (!parent) {
      problem = `cannot read /proc/${child.ppid}/stat (parent of ${child.pid})`;
      break;
    }
    // A parent younger than its child is a reused pid: the real parent is gone, so is the chain.
    if (parent.start > child.start) {
      problem = `pid ${parent.pid} started after its child ${child.pid}: the chain changed while it was read`;
      break;
    }
    chain.push({ pid: parent.pid, comm: parent.comm, start: parent.start });
    child = parent;
  }
  return { ...base, user: userName(uid), uid, tty: ttyName(self.ttyNr), mark, chain, ...(problem === undefined ? {} : { problem }) };
}

/** The identity of the process running this code. */
export function readSelfDecider(): Decider {
  return readDecider(process.pid, 'self');
}

/**
 * Programs that only start another one (`npx warden serve`, `env … warden serve`): never the client
 * that started warden.
 */
const LAUNCHERS = new Set(['env', 'timeout', 'nice', 'nohup', 'setsid', 'stdbuf', 'ionice', 'npx', 'pnpm', 'yarn', 'bunx', 'uvx']);
export function isLauncher(comm: string): boolean {
  return LAUNCHERS.has(comm) || /^npm( |$)/.test(comm);
}
/**
 * Shells, passed on the way up like launchers (an agent's tool runs `bash -c "warden exec …"` in a
 * fresh shell per call), except a shell that leads its session: that is a person's terminal shell,
 * and walking past it would reach the terminal (a tmux server), whose every pane would be refused.
 */
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'fish', 'busybox']);
export function isShell(comm: string): boolean {
  return SHELLS.has(comm);
}
/** The roots of a person's processes: marking one would refuse every process they start. */
const SESSION_ROOTS = new Set(['systemd', 'init', 'launchd']);

/**
 * The process that started `pid` (the MCP client that started warden serve; the agent client whose
 * tool ran `warden exec` without a terminal), past launchers and shells that do not lead their
 * session, with its mark; null when that is pid 1, a service manager, or /proc does not tell it in full.
 */
export function launcherOf(pid: number): Launcher | null {
  let at = readStat(pid)?.ppid ?? 0;
  for (let hops = 0; hops < 16 && at > 1; hops++) {
    const stat = readProcStat(at);
    const s = stat === null ? null : identityStat(at, stat);
    if (!stat || !s) return null;
    const leads = intField(stat, 6) === at;
    if (isLauncher(s.comm) || (isShell(s.comm) && !leads)) {
      at = s.ppid;
      continue;
    }
    if (SESSION_ROOTS.has(s.comm)) return null;
    const proc = processMark(at);
    return proc ? { pid: at, comm: s.comm, proc } : null;
  }
  return null;
}
