/**
 * Replay: rebuilds a request's actor from its stored events with XState's pure transition
 * functions (nothing runs, nobody is asked) and checks that the machine passes through the same
 * states and announces the same events, type and data, as were recorded. Each stored effect result
 * is fed back as the invoked actor's done (or error) event; an asked decision, which the `decide`
 * effect stores itself, is consumed as that effect's output.
 *
 * Two kinds of event are written by crash recovery (src/requests/recovery.ts) rather than by the
 * live actor: `Interrupted`, which ends a stream whose run (or approved start) was cut off, and a
 * `DecisionRecorded` with source `restart`, which is an ordinary decide output. A stream may also
 * stop short (a live request, or a crash between two appends): replay reports it as open together
 * with the events the machine still owes (`pending`), which is what recovery completes. Pure.
 */
import { createActor, getInitialMicrosteps, getMicrosteps, type AnyEventObject, type InspectionEvent } from 'xstate';
import { isDeepStrictEqual } from 'node:util';
import type { DomainEvent, FailedEffect, StoredEvent, StoredEventOf } from '../events/types.ts';
import { canonicalJson } from '../events/hashChain.ts';
import { isSideEvent } from '../events/lifecycle.ts';
import { isAskedSource, isFailClosedSource } from '../policy.ts';
import { approvalMachine, isFinalState, unfinishedRun, type ApprovalInput } from './approval.machine.ts';
import { streamRuleViolations, type RuleViolation } from './streamRules.ts';
import { fastInitialStep, fastNextStep, type LightSnapshot } from './fastStep.ts';

type Snapshot = ReturnType<typeof getInitialMicrosteps<typeof approvalMachine>>[number][0];

export interface ReplayStep {
  /** Index of the stored event in its stream. */
  index: number;
  version: number;
  position: number;
  time: string;
  type: string;
  /** The machine's state once this event's step was taken. */
  state: string;
  /** Who wrote it: the machine's own announcement, an effect's stored result, or crash recovery. */
  by: 'machine' | 'effect' | 'recovery';
  decision?: string;
  source?: string;
  user?: string;
  exitCode?: number | null;
  reason?: string;
}

export interface ReplayProblem {
  kind: 'divergence' | 'rule';
  /** Index of the first stored event concerned (events.length when an event is missing at the end). */
  index: number;
  message: string;
  expected: { type: string; data: unknown } | null;
  found: { type: string; data: unknown } | null;
  rule?: string;
}

export interface ReplayResult {
  requestId: string;
  sessionId: string;
  /** Every state the machine passed through, transient ones included. */
  states: string[];
  /** The state where the replay stopped. */
  state: string;
  final: boolean;
  /** Ended by an Interrupted event (written by recovery). */
  interrupted: boolean;
  steps: ReplayStep[];
  problems: ReplayProblem[];
  /** Events the machine announced that are not (yet) stored: a live request, or a crash between appends. */
  pending: DomainEvent[];
  /** The machine snapshot where the replay stopped (recovery continues from it). Undefined when the stream is unusable. */
  snapshot?: Snapshot;
  ok: boolean;
}

/** States in which a run may have been cut off: the only ones an Interrupted event may end. */
export const INTERRUPTIBLE = new Set(['executing', 'sandboxedRun']);

/**
 * Which effect's failure a Rejected records. New records say so in `failedEffect`; records made
 * before that field existed are recognised by the prefix the machine put before the error text
 * (the only place the words are read, and only for such old records).
 */
const LEGACY_ERROR_PREFIX = {
  classify: 'classification failed: ',
  decide: 'no decision could be recorded: ',
} as const;

function failedEffectOf(e: StoredEventOf<'Rejected'>): FailedEffect | null {
  if (e.data.failedEffect !== undefined) return e.data.failedEffect;
  if (e.data.reason.startsWith(LEGACY_ERROR_PREFIX.classify)) return 'classify';
  if (e.data.reason.startsWith(LEGACY_ERROR_PREFIX.decide)) return 'decide';
  return null;
}

/** The error text an effect failure carried, without the words the machine put before it. */
function failureMessage(e: StoredEventOf<'Rejected'>, effect: FailedEffect): string {
  const prefix = LEGACY_ERROR_PREFIX[effect];
  return e.data.reason.startsWith(prefix) ? e.data.reason.slice(prefix.length) : e.data.reason;
}

const done = (id: string, output: unknown): AnyEventObject => ({ type: `xstate.done.actor.${id}`, output });
const failure = (id: string, message: string): AnyEventObject => ({ type: `xstate.error.actor.${id}`, error: new Error(message) });

/**
 * Fields the machine announces that records made before them lack: such a record still replays
 * when the rest matches. DecisionRequested's `shown` (the diff digest) and ExecutionStarted's
 * `writable` (a person-approved patch's directories), Rejected's `failedEffect`.
 */
const ADDED_LATER: Record<string, string> = { DecisionRequested: 'shown', ExecutionStarted: 'writable', Rejected: 'failedEffect' };

function sameEvent(a: { type: string; data: unknown }, b: { type: string; data: unknown }): boolean {
  if (a.type !== b.type) return false;
  const later = ADDED_LATER[a.type];
  if (later !== undefined && (a.data as Record<string, unknown>)[later] !== undefined && (b.data as Record<string, unknown>)[later] === undefined) {
    const { [later]: _added, ...rest } = a.data as Record<string, unknown>;
    return sameEvent({ type: a.type, data: rest }, b);
  }
  // Fast path first; canonical JSON settles key order and undefined fields (the store drops both).
  return isDeepStrictEqual(a.data, b.data) || canonicalJson(a.data) === canonicalJson(b.data);
}

function view(e: { type: string; data: unknown } | undefined | null) {
  return e ? { type: e.type, data: e.data } : null;
}

function summary(e: StoredEvent): Pick<ReplayStep, 'decision' | 'source' | 'user' | 'exitCode' | 'reason'> {
  switch (e.type) {
    case 'Classified':
      return { reason: `${e.data.outcome}: ${e.data.reason}` };
    case 'DecisionRequested':
      return { reason: `asked (${e.data.reason})` };
    case 'DecisionRecorded':
      return { decision: e.data.decision, source: e.data.source, ...(e.data.user ? { user: e.data.user } : {}), ...(e.data.reason ? { reason: e.data.reason } : {}) };
    case 'ExecutionFinished':
    case 'ExecutionBlocked':
    case 'SandboxRunFinished':
      return { exitCode: e.data.exitCode, ...(e.data.error ? { reason: e.data.error } : e.data.timedOut ? { reason: 'timed out' } : {}) };
    case 'Rejected':
    case 'Aborted':
    case 'Interrupted':
      return { reason: e.data.reason };
    default:
      return {};
  }
}

/** The event an effect's stored result stands for, given the state waiting for it; null if the stored event cannot answer it. */
export function effectEventFor(state: string, e: StoredEvent): AnyEventObject | null {
  switch (state) {
    case 'classifying':
      if (e.type === 'Classified') return done('classify', e.data);
      if (e.type === 'Rejected' && failedEffectOf(e) === 'classify') return failure('classify', failureMessage(e, 'classify'));
      return null;
    case 'sandboxedRun':
    case 'executing': {
      const id = state === 'executing' ? 'execute' : 'runSandboxed';
      // an approved run the sandbox blocked is recorded as ExecutionBlocked (the machine's guard says which)
      const finishes =
        state === 'executing' ? e.type === 'ExecutionFinished' || e.type === 'ExecutionBlocked' : e.type === 'SandboxRunFinished';
      if (!finishes || (e.type !== 'ExecutionFinished' && e.type !== 'ExecutionBlocked' && e.type !== 'SandboxRunFinished')) return null;
      // onError records unfinishedRun(message): map such a record back to the error it came from.
      if (e.data.error !== undefined && isDeepStrictEqual(e.data, unfinishedRun(e.data.error))) return failure(id, e.data.error);
      return done(id, e.data);
    }
    case 'awaitingDecision':
      if (e.type === 'DecisionRecorded') return done('decide', e.data);
      if (e.type === 'Rejected' && failedEffectOf(e) === 'decide') return failure('decide', failureMessage(e, 'decide'));
      return null;
    default:
      return null;
  }
}

/** What a waiting state expects next, for divergence messages. */
const EXPECTED_NEXT: Record<string, string> = {
  classifying: 'Classified',
  sandboxedRun: 'SandboxRunFinished',
  awaitingDecision: 'DecisionRecorded',
  executing: 'ExecutionFinished',
};


interface Stepped {
  snapshot: Snapshot;
  emitted: DomainEvent[];
  states: string[];
}

type Action = { type: string; params?: unknown };

/**
 * XState's `transition()` / `getMicrosteps()` build a fresh inert actor scope on every call, and
 * building one computes the machine's initial state again: most of the cost of a replay step. The
 * scope is stateless between steps (nothing is started, nothing registers), so one is built here and
 * reused; its action executor collects the actions and the system's inspection reports each
 * microstep's state. The results are those of getMicrosteps (a unit test checks it).
 */
class ReplayScope {
  private actions: Action[] = [];
  private states: string[] = [];
  readonly scope: Parameters<typeof approvalMachine.transition>[2];

  constructor() {
    const dummy: ApprovalInput = {
      requestId: 'replay-scope',
      sessionId: 'replay-scope',
      request: {
        kind: 'exec',
        command: [],
        cwd: '/',
        withEscalatedPermissions: false,
        policy: { approval: 'never', sandbox: 'read-only', writableRoots: [], network: false, tmpWrite: false },
        origin: { surface: 'replay', pid: 0, host: '' },
      },
    };
    const self = createActor(approvalMachine, { input: dummy });
    self.system.inspect({
      next: (e: InspectionEvent) => {
        if (e.type === '@xstate.microstep') this.states.push(String((e.snapshot as unknown as { value: unknown }).value));
      },
    });
    this.scope = {
      self,
      defer: () => {},
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: (action: Action) => {
        this.actions.push(action);
      },
    } as unknown as Parameters<typeof approvalMachine.transition>[2];
  }

  private collect(snapshot: Snapshot, initial: string[]): Stepped {
    const emitted: DomainEvent[] = [];
    for (const a of this.actions) if (a.type === 'xstate.emit') emitted.push((a.params as { event: DomainEvent }).event);
    const states = [...initial, ...this.states];
    this.actions = [];
    this.states = [];
    return { snapshot, emitted, states };
  }

  initial(input: ApprovalInput): Stepped {
    this.actions = [];
    this.states = [];
    const snapshot = approvalMachine.getInitialSnapshot(this.scope, input) as Snapshot;
    // the initial microstep itself is not inspected: its state is the machine's initial one
    return this.collect(snapshot, [String(approvalMachine.config.initial)]);
  }

  next(snapshot: Snapshot, event: AnyEventObject): Stepped {
    this.actions = [];
    this.states = [];
    return this.collect(approvalMachine.transition(snapshot, event as never, this.scope) as Snapshot, []);
  }
}

let shared: ReplayScope | null = null;
const replayScope = () => (shared ??= new ReplayScope());

/** The machine's first macrostep for a request (pure: no actor runs). */
export function initialStep(input: ApprovalInput): Stepped {
  return replayScope().initial(input);
}

/** One macrostep from a snapshot (pure: no actor runs). */
export function nextStep(snapshot: Snapshot, event: AnyEventObject): Stepped {
  return replayScope().next(snapshot, event);
}

/** The same steps through XState's public pure functions, for checking the fast path. */
export function initialStepReference(input: ApprovalInput): Stepped {
  return collectMicrosteps(getInitialMicrosteps(approvalMachine, input) as never);
}

export function nextStepReference(snapshot: Snapshot, event: AnyEventObject): Stepped {
  return collectMicrosteps(getMicrosteps(approvalMachine, snapshot, event as never) as never);
}

function collectMicrosteps(microsteps: Array<[Snapshot, Action[]]>): Stepped {
  const emitted: DomainEvent[] = [];
  const states: string[] = [];
  for (const [snap, actions] of microsteps) {
    states.push(String(snap.value));
    for (const a of actions) if (a.type === 'xstate.emit') emitted.push((a.params as { event: DomainEvent }).event);
  }
  return { snapshot: microsteps[microsteps.length - 1]![0], emitted, states };
}

/**
 * How replay steps the machine: through XState (`plain`), or through fastStep.ts's memoised plans
 * of the same machine, falling back to XState for any step it does not compile (`fast`). A
 * snapshot of either kind may be handed to either stepper's next step.
 */
interface Stepper {
  initial(input: ApprovalInput): { snapshot: Snapshot | LightSnapshot; emitted: DomainEvent[]; states: string[] };
  next(snapshot: Snapshot | LightSnapshot, event: AnyEventObject): { snapshot: Snapshot | LightSnapshot; emitted: DomainEvent[]; states: string[] };
}

const isLight = (s: Snapshot | LightSnapshot): s is LightSnapshot => !('machine' in s);

/** A real XState snapshot with this value and context (for a step XState must take after fast ones). */
function realSnapshot(s: LightSnapshot): Snapshot {
  return approvalMachine.resolveState({ value: s.value, context: s.context }) as Snapshot;
}

const PLAIN: Stepper = {
  initial: initialStep,
  next: (snapshot, event) => nextStep(isLight(snapshot) ? realSnapshot(snapshot) : snapshot, event),
};

const FAST: Stepper = {
  initial: (input) => fastInitialStep(input) ?? initialStep(input),
  next: (snapshot, event) => {
    if (isLight(snapshot)) return fastNextStep(snapshot, event) ?? nextStep(realSnapshot(snapshot), event);
    const real = snapshot as Snapshot;
    return fastNextStep({ value: String(real.value), context: real.context }, event) ?? nextStep(real, event);
  },
};

function ruleProblem(v: RuleViolation, events: readonly StoredEvent[]): ReplayProblem {
  return { kind: 'rule', rule: v.rule, index: v.index, message: v.message, expected: null, found: view(events[v.index]) };
}

/**
 * Replays one stream. The memoised fast path is the default; `{ plain: true }` steps every event
 * through XState's `transition()` (the reference the property test compares the fast path with).
 * Either way `snapshot` is XState's own: after a fast replay it is rebuilt, through XState, the
 * first time it is read (recovery and hand-off read it; bulk replay does not).
 */
export function replayStream(events: readonly StoredEvent[], options: { plain?: boolean } = {}): ReplayResult {
  const stepper = options.plain ? PLAIN : FAST;
  const result = replayWith(events, stepper);
  if (!options.plain && result.snapshot !== undefined && isLight(result.snapshot as Snapshot | LightSnapshot)) {
    let real: Snapshot | undefined;
    Object.defineProperty(result, 'snapshot', {
      enumerable: true,
      configurable: true,
      get: () => (real ??= replayWith(events, PLAIN).snapshot),
      set: (value: Snapshot | undefined) => {
        real = value;
      },
    });
  }
  return result;
}

function replayWith(events: readonly StoredEvent[], stepper: Stepper): ReplayResult {
  const first = events[0];
  const result: ReplayResult = {
    requestId: first?.stream ?? '',
    sessionId: first?.sessionId ?? '',
    states: [],
    state: 'received',
    final: false,
    interrupted: false,
    steps: [],
    problems: streamRuleViolations(events).map((v) => ruleProblem(v, events)),
    pending: [],
    ok: false,
  };
  if (!first || first.type !== 'ApprovalRequested') {
    if (!first) result.problems.push({ kind: 'rule', rule: 'starts-with-request', index: 0, message: 'empty stream', expected: null, found: null });
    result.ok = false;
    return result;
  }

  const diverge = (index: number, message: string, expected: { type: string; data: unknown } | null) => {
    result.problems.push({ kind: 'divergence', index, message, expected, found: view(events[index]) });
  };
  const record = (i: number, by: ReplayStep['by']) => {
    const e = events[i]!;
    result.steps.push({ index: i, version: e.version, position: e.position, time: e.time, type: e.type, state: result.state, by, ...summary(e) });
  };

  let stepped = stepper.initial({ requestId: first.stream, sessionId: first.sessionId, request: first.data });
  let cursor = 0;
  let stopped = false;
  let effectIndex = -1;
  while (!stopped) {
    result.states.push(...stepped.states);
    result.state = String(stepped.snapshot.value);
    result.snapshot = stepped.snapshot as Snapshot;
    // Match what this macrostep announced against the record, in order.
    for (let k = 0; k < stepped.emitted.length; k++) {
      const expected = stepped.emitted[k]!;
      const found = events[cursor];
      if (!found) {
        result.pending = stepped.emitted.slice(k);
        stopped = true;
        break;
      }
      if (found.type === 'Interrupted' && INTERRUPTIBLE.has(result.state)) {
        // Recovery closed a run (or an approved start) whose process died before this was written.
        result.pending = stepped.emitted.slice(k);
        break;
      }
      if (!sameEvent(expected, found)) {
        diverge(cursor, `expected ${expected.type}, found ${found.type}${expected.type === found.type ? ' with different data' : ''}`, view(expected));
        stopped = true;
        break;
      }
      record(cursor, cursor === effectIndex ? 'effect' : 'machine');
      cursor++;
    }
    if (stopped) break;

    const e = events[cursor];
    if (isFinalState(result.state) && result.pending.length === 0) {
      result.final = true;
      if (e) diverge(cursor, `${e.type} after the final state ${result.state}`, null);
      break;
    }
    if (!e) break; // open: a live request, or one recovery has not closed yet
    if (e.type === 'Interrupted') {
      if (!INTERRUPTIBLE.has(result.state)) {
        diverge(cursor, `Interrupted in state ${result.state}: only a run in progress can be interrupted`, null);
        break;
      }
      result.state = 'failed';
      result.states.push('failed');
      result.pending = [];
      result.final = true;
      result.interrupted = true;
      record(cursor, 'recovery');
      cursor++;
      if (events[cursor]) diverge(cursor, `${events[cursor]!.type} after the stream was interrupted`, null);
      break;
    }
    if (result.pending.length > 0) {
      diverge(cursor, `expected ${result.pending[0]!.type}, found ${e.type}`, view(result.pending[0]));
      break;
    }
    const event = effectEventFor(result.state, e);
    if (!event) {
      const want = EXPECTED_NEXT[result.state];
      diverge(cursor, `in state ${result.state} expected ${want ?? 'no further event'}, found ${e.type}`, want ? { type: want, data: null } : null);
      break;
    }
    if (result.state === 'awaitingDecision' && e.type === 'DecisionRecorded') {
      // The decide effect stores the decision itself; it must answer the question that was asked.
      const asked = [...events.slice(0, cursor)].reverse().find((x) => x.type === 'DecisionRequested');
      if (asked?.type === 'DecisionRequested' && !asked.data.offered.includes(e.data.decision)) {
        diverge(cursor, `decision '${e.data.decision}' was not offered (${asked.data.offered.join(', ')})`, null);
        break;
      }
      if (!isAskedSource(e.data.source)) {
        diverge(cursor, `an asked decision cannot come from '${e.data.source}'`, null);
        break;
      }
      if (isFailClosedSource(e.data.source) && e.data.decision !== 'denied') {
        diverge(cursor, `a decision from '${e.data.source}' can only be a denial, found '${e.data.decision}'`, null);
        break;
      }
    }
    stepped = stepper.next(stepped.snapshot, event);
    if (e.type === 'DecisionRecorded') {
      // Stored by the decide effect itself: the machine consumes it and does not announce it again.
      result.state = String(stepped.snapshot.value);
      record(cursor, e.data.source === 'restart' ? 'recovery' : 'effect');
      cursor++;
    } else {
      // Any other effect result is also the first thing the machine announces: the match loop checks it.
      effectIndex = cursor;
    }
  }
  result.problems.sort((a, b) => a.index - b.index);
  result.ok = result.problems.length === 0;
  return result;
}

/** Groups a position-ordered event list by stream, keeping first-seen order. */
/** The request streams among `events`; events of streams of their own (SIDE_EVENTS) are left out. */
export function groupByStream(events: Iterable<StoredEvent>): Map<string, StoredEvent[]> {
  const streams = new Map<string, StoredEvent[]>();
  for (const e of events) {
    if (isSideEvent(e)) continue;
    let list = streams.get(e.stream);
    if (!list) streams.set(e.stream, (list = []));
    list.push(e);
  }
  return streams;
}

export function replayAll(events: Iterable<StoredEvent>): ReplayResult[] {
  return [...groupByStream(events).values()].map((stream) => replayStream(stream));
}
