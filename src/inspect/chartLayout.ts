/**
 * Places the chart graph with elkjs (layered, left to right, orthogonal edges) and renders it as a
 * self-contained SVG string. Every state is a `<g class="state" data-state="...">` and every
 * transition a `<g class="edge" data-edge="..." data-source data-target>`, so the page highlights
 * live actors and replays by toggling classes, never by redrawing. Pure apart from elkjs's CPU work.
 */
import ElkModule from 'elkjs/lib/elk.bundled.js';
import type { ChartGraph, ChartNode } from './chartGraph.ts';

// elkjs is CommonJS: under NodeNext its default import is typed as the module namespace.
type ElkCtor = new () => { layout(graph: unknown): Promise<unknown> };
const ELK = ((ElkModule as unknown as { default?: ElkCtor }).default ?? ElkModule) as unknown as ElkCtor;

const START = '__start';
/** Monospace label metrics: the SVG uses a monospace font so these estimates hold in any browser. */
const LABEL_CHAR_W = 7.3;
const LABEL_H = 15;
const NODE_H = 58;

export interface Point {
  x: number;
  y: number;
}
export interface PlacedNode extends ChartNode {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface PlacedEdge {
  id: string;
  source: string;
  target: string;
  label: string;
  plain: string;
  points: Point[];
  labelBox: { x: number; y: number; width: number; height: number } | null;
}
export interface ChartLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  start: { x: number; y: number; size: number } | null;
}

/** A label breaks before its guard (`done.classify` / `[isSandboxedAttempt]`) to keep layers narrow. */
export function labelLines(label: string): string[] {
  const at = label.indexOf(' [');
  return at < 0 ? [label] : [label.slice(0, at), label.slice(at + 1)];
}

/** A plain label breaks at the space nearest its middle once it is longer than a short line. */
export function plainLines(label: string): string[] {
  if (label.length <= 16) return [label];
  const mid = label.length / 2;
  let at = -1;
  for (let i = 0; i < label.length; i++) if (label[i] === ' ' && (at < 0 || Math.abs(i - mid) < Math.abs(at - mid))) at = i;
  return at < 0 ? [label] : [label.slice(0, at), label.slice(at + 1)];
}

/** One box holds either wording (the page shows one at a time), so it fits the larger of the two. */
function labelSize(label: string, plain: string): { text: string; width: number; height: number } {
  const lines = [labelLines(label), plainLines(plain)];
  const chars = Math.max(...lines.flat().map((l) => l.length));
  return { text: label, width: Math.ceil(chars * LABEL_CHAR_W) + 8, height: LABEL_H * Math.max(...lines.map((l) => l.length)) + 2 };
}

function nodeWidth(n: ChartNode): number {
  return Math.max(150, Math.round(Math.max(n.label.length, n.plain.length) * 9 + 56));
}

interface ElkOut {
  width?: number;
  height?: number;
  children?: Array<{ id: string; x?: number; y?: number; width?: number; height?: number }>;
  edges?: Array<{
    id: string;
    sections?: Array<{ startPoint: Point; endPoint: Point; bendPoints?: Point[] }>;
    labels?: Array<{ x?: number; y?: number; width?: number; height?: number }>;
  }>;
}

/** Lays the graph out (async: elkjs's API is promise-based, the work is synchronous CPU). */
export async function layoutChart(graph: ChartGraph): Promise<ChartLayout> {
  const elk = new ELK();
  const children = graph.nodes.map((n) => ({ id: n.id, width: nodeWidth(n), height: NODE_H }));
  if (graph.initial) children.push({ id: START, width: 14, height: 14 });
  const edges = graph.edges.map((e) => ({
    id: e.id,
    sources: [e.source],
    targets: [e.target],
    labels: [labelSize(e.label, e.plain)],
  }));
  if (graph.initial) edges.push({ id: '__startEdge', sources: [START], targets: [graph.initial], labels: [] });
  const out = (await elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '20',
      'elk.spacing.nodeNode': '20',
      'elk.spacing.edgeEdge': '14',
      'elk.spacing.edgeLabel': '3',
      'elk.layered.spacing.edgeNodeBetweenLayers': '10',
      'elk.edgeLabels.placement': 'CENTER',
      // label dummies share layers where they can: the chart stays wide enough to read when fitted
      'elk.layered.edgeLabels.centerLabelPlacementStrategy': 'SPACE_EFFICIENT_LAYER',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.padding': '[top=16,left=16,bottom=16,right=16]',
      'elk.json.edgeCoords': 'ROOT',
    },
    children,
    edges,
  })) as ElkOut;

  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const nodes: PlacedNode[] = [];
  let start: ChartLayout['start'] = null;
  for (const c of out.children ?? []) {
    if (c.id === START) {
      start = { x: c.x ?? 0, y: c.y ?? 0, size: c.width ?? 14 };
      continue;
    }
    const n = byId.get(c.id)!;
    nodes.push({ ...n, x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? 0 });
  }
  const edgeMeta = new Map(graph.edges.map((e) => [e.id, e]));
  const placed: PlacedEdge[] = [];
  for (const e of out.edges ?? []) {
    const s = e.sections?.[0];
    const points = s ? [s.startPoint, ...(s.bendPoints ?? []), s.endPoint] : [];
    const meta = edgeMeta.get(e.id);
    const l = e.labels?.[0];
    placed.push({
      id: e.id,
      source: meta?.source ?? START,
      target: meta?.target ?? graph.initial,
      label: meta?.label ?? '',
      plain: meta?.plain ?? '',
      points,
      labelBox: l && meta ? { x: l.x ?? 0, y: l.y ?? 0, width: l.width ?? 0, height: l.height ?? 0 } : null,
    });
  }
  return { width: Math.ceil(out.width ?? 0), height: Math.ceil(out.height ?? 0), nodes, edges: placed, start };
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const f = (n: number) => Number(n.toFixed(1));

function subtitle(n: PlacedNode): string {
  if (n.kind === 'waiting') return 'waits for a person';
  if (n.kind === 'final') return 'final';
  if (n.invokes) return `invokes ${n.invokes}`;
  return n.kind === 'initial' ? 'initial' : 'passes through';
}

/** The subtitle in words: only what a person cares about (waiting, or where a request ends). */
function plainSubtitle(n: PlacedNode): string {
  if (n.kind === 'waiting') return 'waits for a person';
  if (n.kind === 'final') return 'where it ended';
  return n.kind === 'initial' ? 'start' : '';
}

/** Both wordings of a label, one shown at a time by the page (`n-plain` / `n-internal`). */
function labelText(x: number, y: number, lines: string[], cls: string, guard: boolean): string {
  return `<text class="edge-label ${cls}" x="${f(x)}" y="${f(y)}">${lines
    .map((line, i) => `<tspan x="${f(x)}" dy="${i === 0 ? 0 : LABEL_H}"${guard && i > 0 ? ' class="guard"' : ''}>${escapeXml(line)}</tspan>`)
    .join('')}</text>`;
}

/** The chart as one SVG document; classes carry the look (the page's CSS), data-* the identity. */
export function renderChartSvg(layout: ChartLayout): string {
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}" role="img" aria-label="approval statechart">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker>' +
      '<marker id="arrow-hot" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead-hot"/></marker></defs>',
  );
  out.push('<g class="edges">');
  for (const e of layout.edges) {
    if (e.points.length === 0) continue;
    const d = e.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(p.x)},${f(p.y)}`).join(' ');
    out.push(
      `<g class="edge${e.source === START ? ' start-edge' : ''}" data-edge="${escapeXml(e.id)}" data-source="${escapeXml(e.source)}" data-target="${escapeXml(e.target)}">`,
      `<path d="${d}" marker-end="url(#arrow)"/>`,
    );
    if (e.labelBox && e.label) {
      const b = e.labelBox;
      out.push(
        `<rect class="label-bg" x="${f(b.x - 2)}" y="${f(b.y)}" width="${f(b.width)}" height="${f(b.height)}" rx="3"/>`,
        labelText(b.x + 2, b.y + 12, plainLines(e.plain || e.label), 'n-plain', false),
        labelText(b.x + 2, b.y + 12, labelLines(e.label), 'n-internal', true),
      );
    }
    out.push('</g>');
  }
  out.push('</g><g class="states">');
  if (layout.start) {
    const s = layout.start;
    out.push(`<circle class="start" cx="${f(s.x + s.size / 2)}" cy="${f(s.y + s.size / 2)}" r="${f(s.size / 2)}"/>`);
  }
  for (const n of layout.nodes) {
    out.push(`<g class="state kind-${n.kind}" data-state="${escapeXml(n.id)}" transform="translate(${f(n.x)},${f(n.y)})">`);
    out.push(`<title>${escapeXml(n.id)}</title>`);
    out.push(`<rect class="box" width="${f(n.width)}" height="${f(n.height)}" rx="${n.kind === 'final' ? 6 : 12}"/>`);
    if (n.kind === 'final') out.push(`<rect class="inner" x="4" y="4" width="${f(n.width - 8)}" height="${f(n.height - 8)}" rx="4"/>`);
    out.push(`<text class="state-name n-plain" x="14" y="25">${escapeXml(n.plain)}</text>`);
    out.push(`<text class="state-name n-internal" x="14" y="25">${escapeXml(n.label)}</text>`);
    out.push(`<text class="state-sub n-plain" x="14" y="43">${escapeXml(plainSubtitle(n))}</text>`);
    out.push(`<text class="state-sub n-internal" x="14" y="43">${escapeXml(subtitle(n))}</text>`);
    out.push(
      `<g class="count" transform="translate(${f(n.width - 10)},0)"><rect class="count-bg" x="-34" y="-10" width="44" height="20" rx="10"/><text class="count-text" x="-12" y="4.5" text-anchor="middle">0</text></g>`,
    );
    out.push('</g>');
  }
  out.push('</g></svg>');
  return out.join('');
}
