/**
 * The inspector's chart is read from the machine definition: every state and every transition of
 * `approvalMachine` appears, labelled with its event (and guard), and the SVG carries them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMachine } from 'xstate';
import { approvalMachine, FINAL_STATES, WAITING_STATES } from '../../src/machines/approval.machine.ts';
import { buildChartGraph, edgeBetween, shortEventName } from '../../src/inspect/chartGraph.ts';
import { layoutChart, renderChartSvg } from '../../src/inspect/chartLayout.ts';

/** Every transition of the definition, walked independently of chartGraph's own code. */
function definitionTransitions(): Array<{ source: string; target: string; event: string }> {
  const out: Array<{ source: string; target: string; event: string }> = [];
  for (const [key, node] of Object.entries(approvalMachine.root.states)) {
    for (const [event, list] of node.transitions) for (const t of list) for (const target of t.target ?? []) out.push({ source: key, target: target.key, event });
    for (const t of node.always ?? []) for (const target of t.target ?? []) out.push({ source: key, target: target.key, event: '' });
  }
  return out;
}

test('every state of approvalMachine.root.states is a chart node', () => {
  const graph = buildChartGraph(approvalMachine, WAITING_STATES);
  assert.deepEqual(graph.nodes.map((n) => n.id).sort(), Object.keys(approvalMachine.root.states).sort());
  assert.equal(graph.initial, 'received');
});

test('every transition of the definition is a chart edge with its event name', () => {
  const graph = buildChartGraph(approvalMachine, WAITING_STATES);
  const expected = definitionTransitions();
  assert.ok(expected.length >= 15, 'the machine has its transitions');
  assert.equal(graph.edges.length, expected.length);
  for (const t of expected) {
    const found = graph.edges.find((e) => e.source === t.source && e.target === t.target && e.event === t.event);
    assert.ok(found, `missing ${t.source} -> ${t.target} on ${t.event || 'always'}`);
    assert.ok(found.label.startsWith(shortEventName(t.event)), found.label);
  }
  const labels = graph.edges.map((e) => `${e.source}->${e.target}: ${e.label}`);
  assert.ok(labels.includes('classifying->sandboxedRun: done.classify [isSandboxedAttempt]'), labels.join('\n'));
  assert.ok(labels.includes('awaitingDecision->executing: done.decide [isApproval]'));
  assert.ok(labels.includes('executing->failed: error.execute'));
  assert.ok(labels.includes('received->classifying: always'));
});

test('waiting and final states are marked as such', () => {
  const graph = buildChartGraph(approvalMachine, WAITING_STATES);
  const kind = (id: string) => graph.nodes.find((n) => n.id === id)?.kind;
  for (const s of WAITING_STATES) assert.equal(kind(s), 'waiting');
  for (const s of FINAL_STATES) assert.equal(kind(s), 'final');
  assert.equal(kind('received'), 'initial');
  assert.equal(kind('executing'), 'step');
});

test('a different machine gives a different chart (nothing is hand-drawn)', () => {
  const m = createMachine({
    id: 'tiny',
    initial: 'a',
    states: { a: { on: { GO: { target: 'b', guard: 'canGo' } } }, b: { on: { BACK: 'a', END: 'c' } }, c: { type: 'final' } },
  });
  const graph = buildChartGraph(m);
  assert.deepEqual(graph.nodes.map((n) => `${n.id}:${n.kind}`), ['a:initial', 'b:step', 'c:final']);
  assert.deepEqual(graph.edges.map((e) => `${e.source}->${e.target} ${e.label}`), ['a->b GO [canGo]', 'b->a BACK', 'b->c END']);
  assert.equal(edgeBetween(graph, 'b', 'c')?.event, 'END');
});

test('the laid-out SVG has a group per state and per transition, inside its bounds', async () => {
  const graph = buildChartGraph(approvalMachine, WAITING_STATES);
  const layout = await layoutChart(graph);
  const svg = renderChartSvg(layout);
  for (const n of graph.nodes) {
    assert.match(svg, new RegExp(`<g class="state kind-${n.kind}" data-state="${n.id}"`));
    assert.ok(svg.includes(`>${n.id}</text>`), `state name ${n.id} printed`);
  }
  for (const e of graph.edges) assert.ok(svg.includes(`data-edge="${e.id}" data-source="${e.source}" data-target="${e.target}"`), e.label);
  for (const n of layout.nodes) {
    assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.width <= layout.width && n.y + n.height <= layout.height, `${n.id} inside the chart`);
  }
  // nodes do not overlap
  for (const a of layout.nodes) for (const b of layout.nodes) {
    if (a === b) continue;
    const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
    assert.ok(apart, `${a.id} and ${b.id} overlap`);
  }
});

test('labels are XML-escaped in the SVG', async () => {
  const m = createMachine({ id: 'x', initial: 'a', states: { a: { on: { '<b>&"': 'b' } }, b: {} } });
  const svg = renderChartSvg(await layoutChart(buildChartGraph(m)));
  assert.ok(!svg.includes('<b>&"'));
  assert.ok(svg.includes('&lt;b&gt;&amp;&quot;'));
});
