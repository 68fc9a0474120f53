/**
 * One reading of /proc/<pid>/stat (Linux) for every place that asks about a process: the signal
 * targets of a run (pid, ppid, pgid), a zombie, the start time that names an owner, a hook's client
 * and a decider's ancestors, the terminal session. The command name may hold spaces and parentheses
 * (`4242 (a (b) c) S …`): the fields after it start after the last `)`. Fields are numbered as in
 * proc(5): 3 is the state, 4 the ppid, 5 the pgid, 6 the session, 7 the tty, 22 the start time.
 * Callers check the fields they use (a cut line still gives the ones it has).
 */
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** Field 1, NaN when it does not parse. */
  pid: number;
  comm: string;
  /** Field N of proc(5) as written (field 3 and later), undefined past the end of the line. */
  field(n: number): string | undefined;
}

/** Parses one stat line; null when it has no `(comm)`. Pure. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const after = text.slice(close + 2).trim().split(' ');
  return { pid: Number(text.slice(0, open).trim()), comm: text.slice(open + 1, close), field: (n) => after[n - 3] };
}

/** A field as an integer, or null when it is missing or not one. Pure. */
export function intField(stat: ProcStat, n: number): number | null {
  const text = stat.field(n);
  const value = text === undefined || text === '' ? NaN : Number(text);
  return Number.isInteger(value) ? value : null;
}

/** /proc/<pid>/stat parsed, or null when the process is gone or there is no /proc. I/O. */
export function readProcStat(pid: number | 'self'): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}
