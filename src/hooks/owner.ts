/**
 * The process that owns a hook's request: the agent client, not the hook. A hook process lives
 * for one tool call, but the request it makes is carried on after it exits (by `warden exec
 * --request`, or by the client's own tool and the after-tool hook), so crash recovery must treat it
 * as open while the client lives and close it once the client is gone. Clients start hooks through
 * a shell (`sh -c`), so the owner is the nearest ancestor that is not a shell. I/O: reads /proc.
 */
import { readProcStat } from '../sandbox/procStat.ts';
// Programs that only pass a hook command on (a shell, `env`, `timeout`, `npx`): never the owner.
// The same lists launcherOf walks past (there a shell that leads its session stops the walk).
import { isLauncher, isShell } from '../requests/processIdentity.ts';

function stat(pid: number): { comm: string; ppid: number } | null {
  const s = readProcStat(pid);
  return s === null ? null : { comm: s.comm, ppid: Number(s.field(4)) };
}

/**
 * The client's pid. Without /proc (not Linux) it is the parent process. When the walk finds only
 * shells, the parent is named: if it exits early, recovery closes the request as not run (fail closed).
 */
export function clientProcessId(self: number = process.pid): number {
  const parent = stat(self)?.ppid ?? process.ppid;
  let pid = parent;
  for (let hops = 0; hops < 8 && pid > 1; hops++) {
    const s = stat(pid);
    if (!s) break;
    // `npx warden hook …` (comm `npm exec`): the npm process exits with the hook, and the agent's
    // tools do not descend from it; the owner is the client above it
    if (!isShell(s.comm) && !isLauncher(s.comm)) return pid;
    pid = s.ppid;
  }
  return parent;
}
