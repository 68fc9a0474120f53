/**
 * The statechart as a plain graph, read from the machine definition itself: one node per state of
 * `machine.root.states`, one edge per transition (`on`, invoke `onDone`/`onError`, `always`), each
 * labelled with its event and guard and with the same in words. Nothing here is hand-drawn, so changing the machine changes
 * the chart. Pure; chartLayout.ts places it and renders SVG.
 */
import type { AnyStateMachine } from 'xstate';
import { stateLabel, transitionLabel } from '../present/labels.ts';

export type ChartNodeKind = 'initial' | 'step' | 'waiting' | 'final';

export interface ChartNode {
  id: string;
  label: string;
  /** The state as a person says it (labels.ts); the chart shows it unless internal names are asked for. */
  plain: string;
  kind: ChartNodeKind;
  /** The effect the state invokes, if any (e.g. `classify`). */
  invokes: string | null;
}

export interface ChartEdge {
  id: string;
  source: string;
  target: string;
  /** The event as the machine names it, e.g. `xstate.done.actor.classify`. */
  event: string;
  guard: string | null;
  /** The machine's name for it, e.g. `done.classify [isSandboxedAttempt]`. */
  label: string;
  /** The same in words, e.g. `try it in the sandbox` (labels.ts). */
  plain: string;
}

export interface ChartGraph {
  id: string;
  initial: string;
  nodes: ChartNode[];
  edges: ChartEdge[];
}

/** Minimal structural view of xstate's StateNode; the fields the chart reads. */
interface NodeView {
  key: string;
  type: string;
  transitions: Map<string, TransitionView[]>;
  always?: TransitionView[];
  invoke: Array<{ id: string; src: unknown }>;
}
interface TransitionView {
  target?: ReadonlyArray<{ key: string }>;
  guard?: unknown;
}

/** `xstate.done.actor.classify` reads as `done.classify`; anything else is shown as named. */
export function shortEventName(event: string): string {
  const m = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event);
  if (m) return `${m[1]}.${m[2]}`;
  return event === '' ? 'always' : event;
}

function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'guard';
  if (typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') return (guard as { type: string }).type;
  return 'guard';
}

export function edgeLabel(event: string, guard: string | null): string {
  return guard ? `${shortEventName(event)} [${guard}]` : shortEventName(event);
}

/** States whose actor waits for a person, from the machine's own waiting list. */
export function buildChartGraph(machine: AnyStateMachine, waitingStates: readonly string[] = []): ChartGraph {
  const root = machine.root;
  const initialKey = (root.initial as { target?: ReadonlyArray<{ key: string }> } | undefined)?.target?.[0]?.key ?? '';
  const nodes: ChartNode[] = [];
  const edges: ChartEdge[] = [];
  for (const [key, raw] of Object.entries(root.states)) {
    const node = raw as unknown as NodeView;
    const kind: ChartNodeKind =
      node.type === 'final' ? 'final' : waitingStates.includes(key) ? 'waiting' : key === initialKey ? 'initial' : 'step';
    const invoked = node.invoke[0];
    nodes.push({ id: key, label: key, plain: stateLabel(key), kind, invokes: invoked ? String(invoked.id) : null });
    const add = (event: string, t: TransitionView) => {
      for (const target of t.target ?? []) {
        const guard = guardName(t.guard);
        const label = edgeLabel(event, guard);
        edges.push({ id: `e${edges.length}`, source: key, target: target.key, event, guard, label, plain: transitionLabel(label) });
      }
    };
    for (const [event, list] of node.transitions) for (const t of list) add(event, t);
    for (const t of node.always ?? []) add('', t);
  }
  return { id: machine.id, initial: initialKey, nodes, edges };
}

/** The edge a replay highlights between two consecutive states (the first one declared). */
export function edgeBetween(graph: ChartGraph, from: string, to: string): ChartEdge | undefined {
  return graph.edges.find((e) => e.source === from && e.target === to);
}
