/**
 * Whether an out-of-band decision may come from this process: never from a command warden runs.
 * An agent that can run `warden approve --decide` (or reach the inspector) through its own tool
 * would otherwise approve its own waiting request, and the record would say a person did. Every
 * command warden runs for a request descends from the process named in the request's `origin`
 * (warden serve / exec, or the agent client for a hook), so while any request is unfinished a
 * decider whose ancestry holds one of those processes is refused. Pure: the identities are read by
 * processIdentity.ts, the owners from the store by outOfBandDecision.ts.
 *
 * Fail closed, each rule with what it blocks:
 * - an identity with a `problem` (no /proc, a hole in the chain, a reused pid met on the way):
 *   warden cannot see where the process hangs, so it cannot say it is outside;
 * - another pid or user namespace than the owner's: a process in bwrap's pid namespace sees its
 *   own /proc, where the sandbox is pid 1 and warden does not appear at all; a user namespace can
 *   fake what /proc shows;
 * - an ancestor with the owner's pid and start time (only the pid on old records without a mark,
 *   and then also when it started before the request): the decider runs under that owner;
 * - an ancestor with the pid and start time of the owner's `launcher` (the MCP client that started
 *   warden serve): the agent's own tools (the client's built-in shell) descend from the client,
 *   not from warden, and an agent running `warden approve` through one would otherwise be
 *   recorded as a person approving its own waiting request.
 * Owners on another host (a shared PostgreSQL store) cannot be ancestors and are skipped; the host
 * is compared by name, which a sandboxed command cannot change (no capabilities, no user namespace
 * needed for it to be refused above).
 */
import type { Decider, Launcher, ProcessMark } from '../events/types.ts';

export interface RunningOwner {
  requestId: string;
  pid: number;
  host: string;
  /** The surface that made the request (for the reason's words). */
  surface: string;
  requestedAt: string;
  proc?: ProcessMark | undefined;
  /** The process that started the owner (the MCP client), whose descendants are the agent's own tools. */
  launcher?: Launcher | undefined;
}

export type DeciderVerdict = { ok: true } | { ok: false; reason: string };

/** Start times are ticks (1/100 s); an old record's request time is ms. Allow this much before calling a pid reused. */
const START_SLACK_TICKS = 200;

export function judgeDecider(decider: Decider, owners: readonly RunningOwner[], bootTimeMs: number | null = null): DeciderVerdict {
  if (decider.problem !== undefined || decider.mark === null || decider.chain.length === 0) {
    return { ok: false, reason: `warden cannot establish that the deciding process (pid ${decider.pid}) is outside the commands it runs: ${decider.problem ?? 'its /proc entry is incomplete'}` };
  }
  const mark = decider.mark;
  for (const owner of owners) {
    // another machine's process cannot be an ancestor of one here
    if (owner.host !== decider.host) continue;
    const who = `pid ${owner.pid} (${owner.surface}), which runs request ${owner.requestId}`;
    if (owner.proc) {
      if (owner.proc.pidNs !== mark.pidNs || owner.proc.userNs !== mark.userNs) {
        const which = owner.proc.pidNs !== mark.pidNs ? 'pid' : 'user';
        return {
          ok: false,
          reason: `the deciding process (pid ${decider.pid}) is in another ${which} namespace than warden's ${who}; warden cannot see whether it runs inside one of its commands (a sandbox has its own)`,
        };
      }
    }
    const launcher = owner.launcher;
    if (launcher && launcher.proc.boot === mark.boot && decider.chain.some((l) => l.pid === launcher.pid && l.start === launcher.proc.start)) {
      return {
        ok: false,
        reason: `the deciding process (pid ${decider.pid}) descends from pid ${launcher.pid} (${launcher.comm}), the client that started ${who}: the agent's own tools run there, and they cannot decide`,
      };
    }
    for (const link of decider.chain) {
      if (link.pid !== owner.pid) continue;
      if (owner.proc) {
        // same pid, later start (or another boot): a process that reused the owner's pid
        if (owner.proc.boot === mark.boot && owner.proc.start === link.start) {
          return { ok: false, reason: `the deciding process (pid ${decider.pid}) descends from ${who}: a command warden runs cannot decide` };
        }
        continue;
      }
      // an old record without a mark: the pid alone, unless that process provably started after the request
      const requested = Date.parse(owner.requestedAt);
      const startedAfter = bootTimeMs !== null && Number.isFinite(requested) && bootTimeMs + (link.start - START_SLACK_TICKS) * 10 > requested;
      if (!startedAfter) {
        return { ok: false, reason: `the deciding process (pid ${decider.pid}) descends from ${who}: a command warden runs cannot decide` };
      }
    }
  }
  return { ok: true };
}
