/**
 * Crash recovery: closes the requests whose owning process died, so every request in the store
 * ends in a final state and nothing runs without a live owner. The rules (docs/recovery.md):
 *
 * - a run in progress (ExecutionStarted or SandboxRunStarted without its ...Finished) gets
 *   `Interrupted`: the sandbox's die-with-parent and the process group ended it with its owner;
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
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { EventStore } from '../events/eventStore.ts';
import type { DomainEvent, EventData, StoredEvent } from '../events/types.ts';
import { isEndingEvent } from '../events/lifecycle.ts';
import { isExpectedVersionConflictError } from '../errors.ts';
import { stateAfterSandboxRun, type ApprovalRequest } from '../machines/approval.machine.ts';
import { INTERRUPTIBLE, nextStep, replayStream, type ReplayResult } from '../machines/replay.ts';

type Origin = ApprovalRequest['origin'];

export interface ProcessProbe {
  hostname: string;
  selfPid: number;
  /** Whether `pid` is a live process that started no later than `since` (ms epoch). */
  isAlive(pid: number, since: number): boolean;
}

/** Linux ticks per second for /proc/<pid>/stat start times (USER_HZ; 100 on every mainstream build). */
const USER_HZ = 100;
/** Start times are known to about a second (btime is whole seconds): allow slack before calling a pid reused. */
const START_SLACK_MS = 2000;

function bootTimeMs(): number | null {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) * 1000 : null;
  } catch {
    return null;
  }
}

/** When the process started and whether it is a zombie, from /proc (Linux); null elsewhere. */
function procInfo(pid: number): { startedAt: number | null; zombie: boolean } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const boot = bootTimeMs();
    const ticks = Number(fields[19]);
    return { zombie: fields[0] === 'Z', startedAt: boot !== null && Number.isFinite(ticks) ? boot + (ticks * 1000) / USER_HZ : null };
  } catch {
    return null;
  }
}

export function localProbe(): ProcessProbe {
  return {
    hostname: hostname(),
    selfPid: process.pid,
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
  };
}

/**
 * Whether the process that owns a request is gone. Anything we cannot prove dead is left alone:
 * another host's process (a shared PostgreSQL store), this process, or an origin we cannot read.
 */
export function ownerIsGone(origin: Origin | undefined, requestedAt: string, probe: ProcessProbe): boolean {
  if (!origin || origin.host !== probe.hostname) return false;
  if (!Number.isInteger(origin.pid) || origin.pid <= 0 || origin.pid === probe.selfPid) return false;
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
    cutOff: `${who} died while it ran; the run ended with it`,
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
  for (const [requestId, req] of open) {
    if (!ownerIsGone(req.origin, req.requestedAt, probe)) {
      report.leftAlone++;
      continue;
    }
    const events = await store.read(requestId);
    const replay = replayStream(events);
    const who = `its process (pid ${req.origin!.pid} on ${req.origin!.host})`;
    const closing = closingEvents(replay, events, who);
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
