/**
 * Who owns a name in a shared place (the pids cgroup hierarchy, /dev/shm, the temp directory): the
 * owner's pid, its start time and its pid namespace, written into the name by the warden process
 * that made it and read back by a later one that sweeps what dead owners left (pidsLimit.ts run
 * cgroups, decoy.ts decoy directories). One reading of "this owner is gone" for both. Does I/O (/proc).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { readProcStat } from './procStat.ts';

/** A process's start time (clock ticks after boot, /proc/PID/stat field 22), or null when it is gone. */
export function processStart(pid: number | 'self'): string | null {
  return readProcStat(pid)?.field(22) ?? null;
}

/**
 * This process's pid namespace (the inode number of /proc/self/ns/pid), or null where it cannot be
 * read. A pid and a start time name a process only inside one pid namespace: the pids hierarchy and
 * the temp directory are shared by wardens in other ones (containers, `unshare --pid`), whose pids
 * mean other processes here.
 */
export function pidNamespace(): string | null {
  try {
    return /^pid:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? null;
  } catch {
    return null;
  }
}

let tag: { start: string | null; ns: string | null; text: string } | null = null;

/**
 * This process as a name part: `PID-START-pNS-` (`PID-START-` where the namespace cannot be read),
 * and its start time, null where /proc has none (then a name carries no owner a sweep could judge).
 * Read once: none of it changes while the process runs.
 */
export function ownTag(): { start: string | null; ns: string | null; text: string } {
  if (tag === null) {
    const start = processStart('self');
    const ns = pidNamespace();
    tag = { start, ns, text: `${process.pid}-${start ?? '0'}-${ns === null ? '' : `p${ns}-`}` };
  }
  return tag;
}

/** The owner part of a name as a pattern: pid, start time, and the pid namespace where it is written. */
export const OWNER_PATTERN = '(\\d+)-(\\d+)-(?:p(\\d+)-)?';

/**
 * What the owner a name records is to this process. `foreign`: of another pid namespace, whose pid
 * means another process here, so never this process's to judge. `gone`: no process has that pid with
 * that start time (or, without a recorded start time, none has that pid). `alive` otherwise.
 */
export function ownerState(pid: string, start: string | undefined, ns: string | undefined): 'foreign' | 'alive' | 'gone' {
  if (ns !== undefined && ns !== ownTag().ns) return 'foreign';
  const now = processStart(Number(pid));
  const gone = start === undefined ? now === null : now !== start;
  return gone ? 'gone' : 'alive';
}

/**
 * The entries of `root` whose name matches `pattern` (groups 1-3: pid, start time, pid namespace, as
 * OWNER_PATTERN) and records an owner that is gone; none when `root` cannot be read.
 */
export function namesOfGoneOwners(root: string, pattern: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.filter((name) => {
    const m = pattern.exec(name);
    return m !== null && ownerState(m[1]!, m[2], m[3]) === 'gone';
  });
}
