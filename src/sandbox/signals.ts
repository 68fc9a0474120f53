/**
 * Where a signal meant for a running command goes. A bare run leads its own
 * group (spawned `detached`), so the group is the command. Under bwrap it is not: bwrap does not
 * forward signals (a SIGINT kills it, and `--die-with-parent` then SIGKILLs the command, which never
 * gets to clean up), and `--new-session` puts the sandbox's init and the command in a session of
 * their own. So the signal goes to every group below bwrap's that holds a descendant of it; the
 * sandbox's init (PID 1 of its namespace) ignores signals it has no handler for, the command gets
 * them as it would from a terminal. Pure, but for `readProcesses` (reads /proc).
 */
import { readdirSync } from 'node:fs';
import { intField, parseProcStat, readProcStat, type ProcStat } from './procStat.ts';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  pgid: number;
}

/**
 * What to signal for the run whose spawned process is `root` (bwrap): every group below bwrap's
 * that holds a descendant (the sandbox's `--new-session`), and each descendant still in bwrap's own
 * group one by one (a bare run's pid namespace has no new session: signalling that group would hit
 * bwrap too). Never bwrap itself, never warden's own group.
 */
export function signalTargets(root: ProcessEntry, processes: readonly ProcessEntry[], ownPgid: number): { groups: number[]; pids: number[] } {
  const children = new Map<number, ProcessEntry[]>();
  for (const p of processes) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const groups = new Set<number>();
  const pids: number[] = [];
  const queue = [...(children.get(root.pid) ?? [])];
  const seen = new Set<number>([root.pid]);
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    if (p.pgid === root.pgid) pids.push(p.pid);
    else if (p.pgid !== ownPgid && p.pgid > 1) groups.add(p.pgid);
    queue.push(...(children.get(p.pid) ?? []));
  }
  // Nothing below bwrap yet (still setting up): signalling bwrap's group ends the run the only way left.
  if (groups.size === 0 && pids.length === 0 && root.pgid !== ownPgid) groups.add(root.pgid);
  return { groups: [...groups], pids };
}

/** One /proc/<pid>/stat line to its pid, ppid and pgid; null when it does not parse. */
export function parseStat(line: string): ProcessEntry | null {
  const stat = parseProcStat(line);
  return stat === null ? null : entryOf(stat);
}

function entryOf(stat: ProcStat): ProcessEntry | null {
  const ppid = intField(stat, 4);
  const pgid = intField(stat, 5);
  return Number.isInteger(stat.pid) && ppid !== null && pgid !== null ? { pid: stat.pid, ppid, pgid } : null;
}

/** Every process this user can see (Linux); empty elsewhere. */
export function readProcesses(): ProcessEntry[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcessEntry[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    // null: gone since the listing
    const stat = readProcStat(Number(name));
    const entry = stat === null ? null : entryOf(stat);
    if (entry) out.push(entry);
  }
  return out;
}
