/**
 * Replay's fast path (issue #14: replay at >= 100,000 events/s). XState's `transition()` redoes,
 * on every step, work that depends only on where the machine is and what kind of event came: which
 * transitions the state has for that event type, which states a transition exits and enters, the
 * eventless `always` chain after it, and which action implementations run in what order. That
 * work is done here once per (state, event type), read from the real machine definition at run
 * time (not a hand-copied table), and kept; each step then only evaluates the machine's own guard
 * and action implementations on the step's data, exactly as XState's resolve functions do
 * (guards with `{context, event}` and their params; `assign` merging each key's value computed from
 * the context before it; `emit` building its event), in XState's order: exit actions, transition
 * actions, entry actions, then each `always` hop.
 *
 * Only what this machine uses is compiled: top-level atomic or final states, named guards, `assign`
 * and `emit` actions, single-target transitions to another state, unguarded single-target
 * `always`, no delays. Anything else (a guarded `always`, a custom action, a self-transition, a
 * nested state) makes the pair uncompilable, and that step goes through XState itself. The
 * snapshot here is only `{value, context}`; replay.ts builds the real one through XState when
 * asked. A property test checks this against plain `transition()` on generated streams. Pure.
 */
import type { AnyEventObject } from 'xstate';
import type { DomainEvent } from '../events/types.ts';
import { approvalMachine, type ApprovalContext, type ApprovalInput } from './approval.machine.ts';

export interface LightSnapshot {
  value: string;
  context: ApprovalContext;
}

export interface LightStepped {
  snapshot: LightSnapshot;
  emitted: DomainEvent[];
  states: string[];
}

type Params = ((args: { context: ApprovalContext; event: AnyEventObject }) => unknown) | { value: unknown } | null;
type CompiledAction =
  | { kind: 'assign'; assignment: Record<string, unknown> | ((args: unknown, params: unknown) => Record<string, unknown>); params: Params }
  | { kind: 'emit'; event: unknown; params: Params };
interface CompiledGuard {
  check: (args: { context: ApprovalContext; event: AnyEventObject }, params: unknown) => boolean;
  params: Params;
}
interface Candidate {
  guard: CompiledGuard | null;
  /** The states entered, one per microstep (the transition's target, then each `always` hop). */
  states: string[];
  actions: CompiledAction[];
}

interface StateNodeLike {
  key: string;
  type: string;
  parent?: unknown;
  entry: unknown[];
  exit: unknown[];
  always?: TransitionLike[];
  after?: unknown[];
  transitions: Map<string, TransitionLike[]>;
}
interface TransitionLike {
  target?: StateNodeLike[];
  actions: unknown[];
  guard?: unknown;
  reenter?: boolean;
}

class Uncompilable extends Error {}

const root = approvalMachine.root as unknown as { states: Record<string, StateNodeLike> };
const implementations = approvalMachine.implementations as unknown as {
  actions: Record<string, { type?: string; assignment?: unknown; event?: unknown }>;
  guards: Record<string, unknown>;
};

function stateNode(name: string): StateNodeLike {
  const node = root.states[name];
  if (!node || (node.type !== 'atomic' && node.type !== 'final')) throw new Uncompilable(`state ${name}`);
  if ((node.after ?? []).length > 0) throw new Uncompilable(`delays in ${name}`);
  // XState matches wildcard descriptors (`xstate.done.actor.*`) too; only exact ones are compiled
  for (const descriptor of node.transitions.keys()) if (descriptor.includes('*')) throw new Uncompilable(`wildcard in ${name}`);
  return node;
}

function params(ref: object): Params {
  if (!('params' in ref)) return null;
  const p = (ref as { params: unknown }).params;
  return typeof p === 'function' ? (p as Params) : { value: p };
}

function resolveParams(p: Params, context: ApprovalContext, event: AnyEventObject): unknown {
  if (p === null) return undefined;
  return typeof p === 'function' ? p({ context, event }) : p.value;
}

function compileAction(ref: unknown): CompiledAction {
  const name = typeof ref === 'string' ? ref : typeof ref === 'object' && ref !== null && typeof (ref as { type?: unknown }).type === 'string' ? (ref as { type: string }).type : null;
  if (name === null) throw new Uncompilable('an inline action');
  const impl = implementations.actions[name];
  const p = typeof ref === 'string' ? null : params(ref as object);
  if (impl?.type === 'xstate.assign' && impl.assignment !== undefined) return { kind: 'assign', assignment: impl.assignment as Record<string, unknown>, params: p };
  if (impl?.type === 'xstate.emit' && impl.event !== undefined) return { kind: 'emit', event: impl.event, params: p };
  throw new Uncompilable(`action ${name}`);
}

function compileGuard(ref: unknown): CompiledGuard | null {
  if (ref === undefined) return null;
  const name = typeof ref === 'string' ? ref : typeof ref === 'object' && ref !== null ? (ref as { type?: unknown }).type : null;
  const impl = typeof name === 'string' ? implementations.guards[name] : undefined;
  // a built-in guard (and/or/not) has `check`; only plain guard functions are compiled
  if (typeof impl !== 'function' || 'check' in impl) throw new Uncompilable(`guard ${String(name)}`);
  return { check: impl as CompiledGuard['check'], params: typeof ref === 'string' ? null : params(ref as object) };
}

/** From entering `target`: its entry actions, then the unguarded `always` hops after it. */
function enter(target: StateNodeLike, states: string[], actions: CompiledAction[]): void {
  let node = target;
  for (let hops = 0; ; hops++) {
    if (hops > 32) throw new Uncompilable('an always loop');
    states.push(node.key);
    actions.push(...node.entry.map(compileAction));
    const always = node.always ?? [];
    if (always.length === 0) return;
    const [hop] = always;
    if (always.length !== 1 || hop!.guard !== undefined || hop!.target?.length !== 1) throw new Uncompilable(`always in ${node.key}`);
    const next = stateNode(hop!.target[0]!.key);
    if (next === node) throw new Uncompilable(`always to itself in ${node.key}`);
    actions.push(...node.exit.map(compileAction), ...hop!.actions.map(compileAction));
    node = next;
  }
}

function compilePair(state: string, eventType: string): Candidate[] {
  const source = stateNode(state);
  return (source.transitions.get(eventType) ?? []).map((t) => {
    if (t.target?.length !== 1) throw new Uncompilable(`a transition without one target from ${state}`);
    const target = stateNode(t.target[0]!.key);
    if (target === source) throw new Uncompilable(`a self-transition in ${state}`);
    const states: string[] = [];
    const actions = [...source.exit.map(compileAction), ...t.actions.map(compileAction)];
    enter(target, states, actions);
    return { guard: compileGuard(t.guard), states, actions };
  });
}

/** The memo: (state, event type) to its candidates, or null when XState must take that step. */
const compiled = new Map<string, Map<string, Candidate[] | null>>();

function candidatesFor(state: string, eventType: string): Candidate[] | null {
  let byType = compiled.get(state);
  if (!byType) compiled.set(state, (byType = new Map()));
  let found = byType.get(eventType);
  if (found === undefined) {
    try {
      found = compilePair(state, eventType);
    } catch (error) {
      if (!(error instanceof Uncompilable)) throw error;
      found = null;
    }
    byType.set(eventType, found);
  }
  return found;
}

function run(actions: readonly CompiledAction[], start: ApprovalContext, event: AnyEventObject, emitted: DomainEvent[]): ApprovalContext {
  let context = start;
  for (const a of actions) {
    const p = resolveParams(a.params, context, event);
    if (a.kind === 'emit') {
      emitted.push((typeof a.event === 'function' ? (a.event as (args: unknown, params: unknown) => unknown)({ context, event }, p) : a.event) as DomainEvent);
      continue;
    }
    const args = { context, event };
    let update: Record<string, unknown>;
    if (typeof a.assignment === 'function') update = a.assignment(args, p);
    else {
      update = {};
      for (const key of Object.keys(a.assignment)) {
        const v = a.assignment[key];
        update[key] = typeof v === 'function' ? (v as (args: unknown, params: unknown) => unknown)(args, p) : v;
      }
    }
    context = Object.assign({}, context, update);
  }
  return context;
}

/** One macrostep from `snapshot`, or null when this (state, event type) is left to XState. */
export function fastNextStep(snapshot: LightSnapshot, event: AnyEventObject): LightStepped | null {
  const candidates = candidatesFor(snapshot.value, event.type);
  if (candidates === null) return null;
  const args = { context: snapshot.context, event };
  const chosen = candidates.find((c) => c.guard === null || c.guard.check(args, resolveParams(c.guard.params, snapshot.context, event)));
  // No enabled transition: XState records a microstep that stays (and an unhandled actor error
  // puts the machine in error status); rare in a stored stream, so XState takes it.
  if (!chosen) return null;
  const emitted: DomainEvent[] = [];
  const context = run(chosen.actions, snapshot.context, event, emitted);
  return { snapshot: { value: chosen.states[chosen.states.length - 1]!, context }, emitted, states: chosen.states };
}

let initialPlan: Candidate | null | undefined;

/** The first macrostep for a request, or null when the machine's start is left to XState. */
export function fastInitialStep(input: ApprovalInput): LightStepped | null {
  if (initialPlan === undefined) {
    try {
      const states: string[] = [];
      const actions: CompiledAction[] = [];
      enter(stateNode(String(approvalMachine.config.initial)), states, actions);
      if (typeof approvalMachine.config.context !== 'function') throw new Uncompilable('a context that is not a factory');
      initialPlan = { guard: null, states, actions };
    } catch (error) {
      if (!(error instanceof Uncompilable)) throw error;
      initialPlan = null;
    }
  }
  if (initialPlan === null) return null;
  const event = { type: 'xstate.init', input } as AnyEventObject;
  const start = (approvalMachine.config.context as (args: { input: ApprovalInput }) => ApprovalContext)({ input });
  const emitted: DomainEvent[] = [];
  const context = run(initialPlan.actions, start, event, emitted);
  return { snapshot: { value: initialPlan.states[initialPlan.states.length - 1]!, context }, emitted, states: initialPlan.states };
}
