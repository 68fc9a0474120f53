/**
 * Crash recovery: closes the requests whose owning process died, so every request in the store
 * ends in a final state and nothing runs without a live owner. The rules (docs/recovery.md):
 *
 * - a run in progress (ExecutionStarted or SandboxRunStarted without its ...Finished) gets
 *   `Interrupted`. Its processes should have died with their owner (the sandbox's and a bare run's
 *   pid namespace with --die-with-parent); recovery does not take that on trust: it looks in /proc
 *   for processes carrying the run's WARDEN_RUN_ID, kills them, and the reason says which it was
 *   (none found, found and killed, could not be stopped, or not checked where there is no /proc);
 * - a question nobody answered gets DecisionRecorded {denied, source: restart} and the machine's
 *   own Rejected;
 * - a question answered but not acted on: the stored decision stands as the record. A denial or
 *   abort ends the request exactly as the machine would (Rejected / Aborted); an approval is
 *   recorded as not run (`Interrupted`, naming the decision), because the process that should have
 *   run it, and the caller waiting for its output, are gone: nobody else may run it for them;
 * - a request that never got past classifying is rejected (the classify effect's error path,
 *   reason "restart: ...").
 *
 * Every closing event comes from replaying the stream (src/machines/replay.ts) and stepping the
 * pure machine one more step, so a recovered stream still replays. Only requests whose owner is
 * provably gone are touched: same host, pid not alive (or reused by a younger process). Appends use
 * the stream's version: a conflict means someone else is handling it, and it is skipped.
 * I/O: reads and appends to the store, probes local processes.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import type { EventStore } from '../events/eventStore.ts';
import type { DomainEvent, EventData, StoredEvent } from '../events/types.ts';
import { isEndingEvent } from '../events/lifecycle.ts';
import { isExpectedVersionConflictError } from '../errors.ts';
import { stateAfterSandboxRun, type ApprovalRequest } from '../machines/approval.machine.ts';
import { INTERRUPTIBLE, nextStep, replayStream, type ReplayResult } from '../machines/replay.ts';
import { bootTimeMs, processMark, readStat } from './processIdentity.ts';

type Origin = ApprovalRequest['origin'];

export interface ProcessProbe {
  hostname: string;
  selfPid: number;
  /**
   * This process's pid namespace (`pid:[4026531836]`), when known. An owner whose mark names another
   * one is not judged: its pid means another process here (a container sharing the host's name and
   * the store, `unshare -p`). Red team: a host warden closed such a live request as gone.
   */
  pidNs?: string | null;
  /** Whether `pid` is a live process that started no later than `since` (ms epoch). */
  isAlive(pid: number, since: number): boolean;
  /**
   * The live processes of each run, by the WARDEN_RUN_ID in their environment; null where that
   * cannot be looked at (no /proc). Absent: not checked.
   */
  runProcesses?(): Map<string, number[]> | null;
  /** SIGKILLs what is left of a run; says which pids are gone afterwards and which are not. */
  stopRun?(runId: string, pids: number[]): Promise<{ killed: number[]; survived: Array<{ pid: number; why: string }> }>;
}

/** Must match src/sandbox's RUN_ID_ENV (the sandbox is not imported here for one string). */
const RUN_ID_ENV = 'WARDEN_RUN_ID';
/** How long killed processes get to disappear before they are reported as not stopped. */
const STOP_WAIT_MS = 2000;

/** The run id in a process's initial environment (/proc/PID/environ), or null. */
function runIdOf(pid: number): string | null {
  let env: string;
  try {
    env = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return null; // gone, or another user's (not ours to find)
  }
  const key = `${RUN_ID_ENV}=`;
  for (const entry of env.split('\0')) if (entry.startsWith(key)) return entry.slice(key.length);
  return null;
}

function isZombie(pid: number): boolean {
  return procInfo(pid)?.zombie ?? false;
}

/** Every live process carrying a run id, by run (Linux); null without /proc. */
export function procRunProcesses(selfPid = process.pid): Map<string, number[]> | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  if (!entries.includes('self')) return null;
  const out = new Map<string, number[]>();
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === selfPid) continue;
    const id = runIdOf(pid);
    if (id === null || id === '' || isZombie(pid)) continue;
    out.set(id, [...(out.get(id) ?? []), pid]);
  }
  return out;
}

async function stopRunProcesses(runId: string, pids: number[]): Promise<{ killed: number[]; survived: Array<{ pid: number; why: string }> }> {
  const refused = new Map<number, string>();
  for (const pid of pids) {
    // The pid may have been reused since the scan: only a process still carrying the id is killed.
    if (runIdOf(pid) !== runId) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ESRCH') refused.set(pid, code ?? String(error));
    }
  }
  const alive = (pid: number) => runIdOf(pid) === runId && !isZombie(pid);
  const deadline = Date.now() + STOP_WAIT_MS;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const survived = pids.filter(alive).map((pid) => ({ pid, why: refused.get(pid) ?? 'still running after SIGKILL' }));
  return { killed: pids.filter((p) => !survived.some((s) => s.pid === p)), survived };
}

/** Linux ticks per second for /proc/<pid>/stat start times (USER_HZ; 100 on every mainstream build). */
const USER_HZ = 100;
/** Start times are known to about a second (btime is whole seconds): allow slack before calling a pid reused. */
const START_SLACK_MS = 2000;

/** When the process started and whether it is a zombie, from /proc (Linux); null elsewhere. */
function procInfo(pid: number): { startedAt: number | null; zombie: boolean } | null {
  const stat = readStat(pid);
  if (!stat) return null;
  const boot = bootTimeMs();
  return { zombie: stat.state === 'Z', startedAt: boot !== null ? boot + (stat.start * 1000) / USER_HZ : null };
}

export function localProbe(): ProcessProbe {
  return {
    hostname: hostname(),
    selfPid: process.pid,
    pidNs: processMark(process.pid)?.pidNs ?? null,
    isAlive(pid, since) {
      try {
        process.kill(pid, 0);
      } catch (error) {
        // EPERM: it exists but belongs to someone else, so it is alive
        if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
      }
      const info = procInfo(pid);
      if (info?.zombie) return false;
      // a process younger than the request cannot be the one that made it: the pid was reused
      if (info?.startedAt != null && info.startedAt > since + START_SLACK_MS) return false;
      return true;
    },
    runProcesses: () => procRunProcesses(process.pid),
    stopRun: stopRunProcesses,
  };
}

/** Whether the replayed request had a run under way (started, not finished). Pure. */
export function runWasUnderWay(replay: ReplayResult): boolean {
  if (!replay.ok || !replay.snapshot || !INTERRUPTIBLE.has(replay.state)) return false;
  return !replay.pending.some((e) => e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted');
}

/** What recovery found of a run in progress, in the words of its Interrupted reason. Pure. */
export function runLeftWords(
  who: string,
  found: { checked: false } | { checked: true; killed: number[]; survived: Array<{ pid: number; why: string }> },
): string {
  const died = `${who} died while it ran`;
  if (!found.checked) return `${died}; whether the run's processes ended with it could not be checked (no /proc here)`;
  const list = (pids: number[]) => pids.join(', ');
  if (found.survived.length > 0) {
    const killed = found.killed.length > 0 ? `; ${found.killed.length} were killed at recovery (pids ${list(found.killed)})` : '';
    const why = found.survived.map((s) => `${s.pid}: ${s.why}`).join(', ');
    return `${died}; ${found.survived.length} of its processes could not be stopped (${why})${killed}`;
  }
  if (found.killed.length > 0) return `${died}; ${found.killed.length} of its processes were still running and were killed at recovery (pids ${list(found.killed)})`;
  return `${died}; no process of the run was still running (none carried its ${RUN_ID_ENV} in /proc)`;
}

/**
 * Whether the process that owns a request is gone. Anything we cannot prove dead is left alone:
 * another host's process (a shared PostgreSQL store), this process, or an origin we cannot read.
 */
export function ownerIsGone(origin: Origin | undefined, requestedAt: string, probe: ProcessProbe): boolean {
  if (!origin || origin.host !== probe.hostname) return false;
  if (!Number.isInteger(origin.pid) || origin.pid <= 0 || origin.pid === probe.selfPid) return false;
  // another pid namespace: its pid is not ours to look up (and cannot be proved dead from here)
  if (origin.proc && origin.proc.pidNs !== (probe.pidNs ?? origin.proc.pidNs)) return false;
  const since = Date.parse(requestedAt);
  return !probe.isAlive(origin.pid, Number.isFinite(since) ? since : Date.now());
}

function decisionText(d: EventData<'DecisionRecorded'> | null): string {
  if (!d) return 'approved';
  return `${d.decision} by ${d.user ?? d.source}`;
}

/** How a closing explains itself: after a crash (`restart`) or after the owner lost its store. */
export interface ClosingWords {
  /** Prefix of every reason, e.g. `restart`. */
  prefix: string;
  /** Source of the denial recorded for an open question. */
  source: 'restart' | 'error';
  /** Why nobody will continue the request. */
  gone: string;
  /** Why an approved run never started. */
  notStarted: string;
  /** Why a run in progress has no recorded end. */
  cutOff: string;
  /** Why nobody waits for the open question any more. */
  unanswered: string;
}

export function restartWords(who: string): ClosingWords {
  return {
    prefix: 'restart',
    source: 'restart',
    gone: `${who} is gone`,
    notStarted: `${who} died before starting it`,
    cutOff: `${who} died while it ran; whether the run's processes ended with it was not checked`,
    unanswered: `${who} is gone; nobody is waiting for this decision`,
  };
}

/** For a request its own (live) process gave up on because the store refused a write. */
export function storeFailureWords(): ClosingWords {
  const why = 'the store failed while warden handled this request, and the caller was told it failed';
  return {
    prefix: 'store failure',
    source: 'error',
    gone: why,
    notStarted: `${why} before it started`,
    cutOff: 'the store failed while it ran; its end was not recorded',
    unanswered: `${why}; nobody is waiting for this decision`,
  };
}

/**
 * The events that close a stream nobody will continue, computed from its replay by stepping the
 * pure machine (so the closed stream replays). Empty when the stream is already final. Pure.
 */
export function closingEvents(replay: ReplayResult, events: readonly StoredEvent[], who: string | ClosingWords): DomainEvent[] {
  const words = typeof who === 'string' ? restartWords(who) : who;
  const terminal = events.some(isEndingEvent);
  if (!replay.ok || !replay.snapshot) {
    // A record that does not replay is not trusted to continue; close it without running anything.
    if (terminal || replay.final) return [];
    const why = replay.problems[0]?.message ?? 'unreadable';
    return [{ type: 'Interrupted', data: { reason: `${words.prefix}: ${words.gone} and its record does not replay (${why}); closed without running` } }];
  }
  if (replay.final && replay.pending.length === 0) return [];
  const state = replay.state;
  if (INTERRUPTIBLE.has(state)) {
    const neverStarted = replay.pending.some((e) => e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted');
    const reason = neverStarted
      ? `${words.prefix}: not run: ${decisionText(replay.snapshot.context.decision)}, but ${words.notStarted}`
      : `${words.prefix}: ${words.cutOff}`;
    return [{ type: 'Interrupted', data: { reason } }];
  }
  const out: DomainEvent[] = [...replay.pending];
  if (state === 'classifying') {
    out.push(...nextStep(replay.snapshot, { type: 'xstate.error.actor.classify', error: new Error(`${words.prefix}: ${words.gone}`) }).emitted);
  } else if (state === 'awaitingDecision') {
    const decision: EventData<'DecisionRecorded'> = { decision: 'denied', source: words.source, reason: words.unanswered };
    out.push({ type: 'DecisionRecorded', data: decision });
    out.push(...nextStep(replay.snapshot, { type: 'xstate.done.actor.decide', output: decision }).emitted);
  }
  return out;
}

interface OpenRequest {
  origin: Origin | undefined;
  requestedAt: string;
  approval: ApprovalRequest['policy']['approval'] | undefined;
}

/** Whether an event ends its stream, given what is known of the request. Pure. */
function endsStream(e: StoredEvent, open: OpenRequest | undefined): boolean {
  switch (e.type) {
    case 'Rejected':
    case 'Aborted':
    case 'Interrupted':
    case 'ExecutionFinished':
      return true;
    case 'SandboxRunFinished':
      return open?.approval !== undefined && stateAfterSandboxRun(e.data, open.approval) !== 'escalating';
    default:
      return false;
  }
}

export interface RecoveryReport {
  scanned: number;
  open: number;
  /** Requests closed here, with the types appended. */
  closed: Array<{ requestId: string; appended: string[]; owner: Origin }>;
  /** Left alone: another live process (or host) owns them. */
  leftAlone: number;
  /** Someone else appended first: they are handling it. */
  conflicts: number;
}

export async function recoverRequests(store: EventStore, probe: ProcessProbe = localProbe()): Promise<RecoveryReport> {
  const report: RecoveryReport = { scanned: 0, open: 0, closed: [], leftAlone: 0, conflicts: 0 };
  // The store names the candidates from an index; each is then judged from its own events.
  const open = new Map<string, OpenRequest>();
  for (const stream of await store.unfinishedStreams()) {
    const events = await store.read(stream);
    report.scanned += events.length;
    const first = events[0];
    if (first?.type !== 'ApprovalRequested') continue;
    const req: OpenRequest = { origin: first.data.origin, requestedAt: first.time, approval: first.data.policy?.approval };
    if (!events.some((e) => endsStream(e, req))) open.set(stream, req);
  }
  report.open = open.size;
  let running: Map<string, number[]> | null | undefined;
  for (const [requestId, req] of open) {
    if (!ownerIsGone(req.origin, req.requestedAt, probe)) {
      report.leftAlone++;
      continue;
    }
    const events = await store.read(requestId);
    const replay = replayStream(events);
    const who = `its process (pid ${req.origin!.pid} on ${req.origin!.host})`;
    const words = restartWords(who);
    if (runWasUnderWay(replay)) {
      // One scan of /proc for every request closed in this pass, made when the first one needs it.
      if (running === undefined) running = probe.runProcesses?.() ?? null;
      if (running === null || probe.stopRun === undefined) words.cutOff = runLeftWords(who, { checked: false });
      else words.cutOff = runLeftWords(who, { checked: true, ...(await probe.stopRun(requestId, running.get(requestId) ?? [])) });
    }
    const closing = closingEvents(replay, events, words);
    if (closing.length === 0) continue;
    try {
      await store.append(requestId, events.length, closing.map((e) => ({ ...e, sessionId: events[0]!.sessionId })));
      report.closed.push({ requestId, appended: closing.map((e) => e.type), owner: req.origin! });
    } catch (error) {
      if (!isExpectedVersionConflictError(error)) throw error;
      report.conflicts++;
    }
  }
  return report;
}
