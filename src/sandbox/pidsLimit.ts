/**
 * A process limit for sandboxed runs, so a fork bomb is stopped by warden and not by whatever
 * ulimit the caller happened to set: a pids cgroup of the run's own with `pids.max`. RLIMIT_NPROC is
 * not used: it counts every process of the user on the machine (not the run's), and root ignores it.
 * Where no pids cgroup can be made (no writable cgroup v1 `pids` hierarchy), there is no limit and
 * the run says so in its outcome (`pidsLimit: null`); the pid namespace still ends everything at
 * the run's end or timeout. Does I/O (the cgroup file system).
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { namesOfGoneOwners, ownTag } from './processOwner.ts';
import { join } from 'node:path';

/** Tasks (processes and threads) a sandboxed run may have at once: room for a parallel build, not a bomb. */
export const SANDBOX_PIDS_MAX = 2048;
const V1_PIDS = '/sys/fs/cgroup/pids';

export interface PidsCgroup {
  /** The cgroup's `tasks` file, which the run's first process writes `0` (itself) into before it execs. */
  tasks: string;
  max: number;
  remove(): void;
}

/** How long a run's end waits for its cgroup to empty before leaving it to a later sweep. */
const REMOVE_WAIT_MS = 500;
/** Never notified: Atomics.wait on it is a synchronous sleep that uses no CPU. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

let counter = 0;
let swept = false;
/** This process's cgroups whose removal failed (tasks still being reaped): tried again later. */
const pending = new Set<string>();

export { pidNamespace, processStart } from './processOwner.ts';

/**
 * This process's cgroup name prefix: `warden-PID-START-pNS-` (the start time tells a reused pid
 * apart, the pid namespace whose pid it is; processOwner.ts).
 */
function ownPrefix(): string {
  return `warden-${ownTag().text}`;
}

/** A run cgroup's name: `warden-PID-START-pNS-N`; older wardens wrote no START or no NS. */
const RUN_CGROUP = /^warden-(\d+)-(?:(\d+)-)?(?:p(\d+)-)?\d+$/;

/**
 * Removes the run cgroups nobody owns any more, and this process's own that could not be removed
 * at the end of their run. Red team (issue #13): empty `warden-*` cgroups piled up (53 seen on one
 * machine), one per run whose warden process was killed (SIGKILL, a crash, exit mid-run): no code of
 * that process runs again to remove it. The next warden process does, once: a cgroup whose owner
 * (by pid and start time) is gone. rmdir only ever removes an empty cgroup, so one whose tasks are
 * still dying is left for a later sweep; a live owner's (even one of an older warden, named
 * `warden-PID-N`, whose pid is alive) is never touched. What still runs in a dead owner's cgroup is
 * killed (killOrphans), but only where the name says the owner's pid is of this process's pid
 * namespace. Red team: a warden in another pid namespace sharing the hierarchy (a container, an
 * `unshare --pid`) has pids that name other processes here, so its live runs looked like a dead
 * owner's and were SIGKILLed by this sweep (reproduced by a run under `unshare --pid --fork`). A
 * name of another namespace is not this sweep's to judge and is left alone; one without a namespace
 * (made before names carried it) is only ever rmdir'ed, never killed. Does I/O.
 */
export function sweepPidsCgroups(root = V1_PIDS): string[] {
  const removed: string[] = [];
  const tryRemove = (dir: string) => {
    try {
      rmdirSync(dir);
      removed.push(dir);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT';
    }
  };
  for (const dir of [...pending]) if (tryRemove(dir)) pending.delete(dir);
  for (const name of namesOfGoneOwners(root, RUN_CGROUP)) {
    const dir = join(root, name);
    const namesItsNamespace = RUN_CGROUP.exec(name)![3] !== undefined;
    if (!tryRemove(dir) && namesItsNamespace && killOrphans(dir) > 0) pending.add(dir);
  }
  return removed;
}

/**
 * Kills what is left in a run cgroup whose warden is gone; how many it signalled. A sandboxed run
 * dies with its warden (bwrap --die-with-parent), except in bwrap's own window: a warden killed
 * between bwrap's clone and its release of the child leaves the child blocked for ever on an event
 * nobody will send (seen here: one waited an hour, in the cgroup of a crash test's killed warden,
 * holding the workspace bound). It belongs to no one, so it goes; a cgroup only holds runs of the
 * warden it is named for. Each pid is checked to be in this cgroup just before its signal, so a pid
 * that exited and was reused outside it is spared.
 */
function killOrphans(dir: string): number {
  let pids: number[];
  try {
    pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return 0;
  }
  const line = `:pids:/${dir.slice(dir.lastIndexOf('/') + 1)}\n`;
  let killed = 0;
  for (const pid of pids) {
    try {
      if (!readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(line)) continue;
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // gone already
    }
  }
  return killed;
}

/** Makes the run's cgroup, or null where none can be made. */
export function makePidsCgroup(max: number): PidsCgroup | null {
  if (!swept) {
    swept = true;
    sweepPidsCgroups();
    // What is left of this process's own at its exit (a removal that gave up) goes with it.
    process.once('exit', () => {
      for (const dir of pending) {
        try {
          rmdirSync(dir);
        } catch {
          // still busy: the next warden process's sweep takes it
        }
      }
    });
  } else if (pending.size > 0) {
    sweepPidsCgroups();
  }
  const dir = join(V1_PIDS, `${ownPrefix()}${++counter}`);
  try {
    mkdirSync(dir);
  } catch {
    return null;
  }
  try {
    writeFileSync(join(dir, 'pids.max'), String(max));
  } catch {
    try {
      rmdirSync(dir);
    } catch {
      pending.add(dir); // tried again at the next run and at exit
    }
    return null;
  }
  return {
    tasks: join(dir, 'tasks'),
    max,
    remove() {
      // Empty once the run's pid namespace is gone; tries for up to REMOVE_WAIT_MS while the kernel
      // reaps the last tasks, asleep between tries: a busy wait took the CPU that reaping needs (on
      // the 2-core machine under load one run's removal spun for 25 ms), and 10 ms steps overshot.
      const until = Date.now() + REMOVE_WAIT_MS;
      for (;;) {
        try {
          rmdirSync(dir);
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
          if (Date.now() >= until) break;
          Atomics.wait(PAUSE, 0, 0, 1);
        }
      }
      // Still busy: tried again at this process's next run and at its exit (sweepPidsCgroups).
      pending.add(dir);
    },
  };
}

/**
 * argv that first moves itself into the cgroup, then execs `file args` (so every process the run
 * makes is counted from its first fork). Fails closed: a run that cannot join is not started.
 *
 * It writes `0` (the writing thread) to `tasks`, not its pid to `cgroup.procs`: moving a whole
 * thread group takes the kernel's global threadgroup lock, whose write side waits for an RCU grace
 * period (10-15 ms per run on an idle machine, measured here on 6.18), while a thread moving itself
 * alone skips that lock on current kernels (and takes it on older ones, only slower). /bin/sh has one
 * thread, so moving it moves the process, and what it execs and forks is born inside.
 */
export function joinCgroupArgv(cgroup: PidsCgroup, file: string, args: string[]): { file: string; args: string[] } {
  const script = 'echo 0 > "$0" || { echo "warden: could not join the run\'s process limit cgroup" >&2; exit 125; }; exec "$@"';
  return { file: '/bin/sh', args: ['-c', script, cgroup.tasks, file, ...args] };
}
