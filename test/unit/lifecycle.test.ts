/**
 * The stream lifecycle facts live once (src/events/lifecycle.ts, the machine's FINAL_STATES,
 * src/policy.ts's source kinds); these tests hold the places that cannot import them to the same
 * lists: both stores' SQL, and the inspector page, which reads the final states from the chart.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ENDING_EVENTS, QUESTION_CLOSING_EVENTS, closesQuestion, isEndingEvent } from '../../src/events/lifecycle.ts';
import { SQLITE_UNFINISHED_STREAMS } from '../../src/events/migrations/sqlite.ts';
import { POSTGRES_UNFINISHED_STREAMS } from '../../src/events/migrations/postgres.ts';
import { EVENT_TYPES } from '../../src/events/types.ts';
import { FINAL_STATES, WAITING_STATES, approvalMachine } from '../../src/machines/approval.machine.ts';
import { buildChartGraph } from '../../src/inspect/chartGraph.ts';
import { DECISION_SOURCES, isAskedSource, isFailClosedSource } from '../../src/policy.ts';

function inList(sql: string): string[] {
  const m = /t\.type IN \(([^)]*)\)/.exec(sql);
  assert.ok(m, 'the query names the ending events');
  return m[1]!.split(',').map((s) => s.trim().replace(/^'|'$/g, ''));
}

test('lifecycle: both stores\' unfinishedStreams SQL names exactly the ending events', () => {
  assert.deepEqual(inList(SQLITE_UNFINISHED_STREAMS), [...ENDING_EVENTS]);
  assert.deepEqual(inList(POSTGRES_UNFINISHED_STREAMS), [...ENDING_EVENTS]);
});

test('lifecycle: ending and question-closing events are recorded types, and tell apart as listed', () => {
  for (const t of [...ENDING_EVENTS, ...QUESTION_CLOSING_EVENTS]) assert.ok(EVENT_TYPES.includes(t), t);
  for (const t of EVENT_TYPES) {
    assert.equal(isEndingEvent({ type: t }), (ENDING_EVENTS as readonly string[]).includes(t), t);
    assert.equal(closesQuestion({ type: t }), (QUESTION_CLOSING_EVENTS as readonly string[]).includes(t), t);
  }
  // A run cannot finish while a question is open, and an answer does not end a stream.
  assert.equal(closesQuestion({ type: 'ExecutionFinished' }), false);
  assert.equal(isEndingEvent({ type: 'DecisionRecorded' }), false);
});

test('lifecycle: the chart the inspector page reads marks exactly the machine\'s final states', () => {
  const graph = buildChartGraph(approvalMachine, WAITING_STATES);
  assert.deepEqual(graph.nodes.filter((n) => n.kind === 'final').map((n) => n.id).sort(), [...FINAL_STATES].sort());
});

test('lifecycle: fail-closed sources are asked sources, a person is asked, and automatic ones are neither', () => {
  assert.deepEqual(DECISION_SOURCES.filter(isFailClosedSource), ['client-auto', 'malformed', 'timeout', 'error', 'restart']);
  assert.deepEqual(DECISION_SOURCES.filter(isAskedSource), ['user', 'client', 'client-auto', 'malformed', 'timeout', 'error', 'restart']);
  assert.equal(isAskedSource('somebody-new'), false, 'a source not listed is not a person');
  assert.equal(isFailClosedSource('somebody-new'), false);
});
