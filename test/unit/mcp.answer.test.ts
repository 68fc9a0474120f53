import { test } from 'node:test';
import assert from 'node:assert/strict';
import { automaticAnswer, clientAction, DEFAULT_MIN_DECISION_MS, interpretAnswer, MAX_ANSWER_CHARS } from '../../src/mcp/answer.ts';
import { ALL_OFFERED, MALFORMED_ANSWERS, REFUSALS } from '../../src/mcp/answer.cases.ts';
import { DECISIONS } from '../../src/policy.ts';

test('the malformed table has at least 50 cases', () => {
  assert.ok(MALFORMED_ANSWERS.length >= 50, String(MALFORMED_ANSWERS.length));
});

for (const [label, answer] of MALFORMED_ANSWERS) {
  test(`a malformed answer is a denial with source malformed: ${label}`, () => {
    const a = interpretAnswer(answer, ALL_OFFERED, 'mcp:test');
    assert.equal(a.decision, 'denied');
    assert.equal(a.source, 'malformed');
    assert.ok(a.raw !== undefined && a.raw.length > 0, 'the raw answer is kept');
    assert.equal(a.user, undefined, 'a malformed answer is nobody\'s decision');
  });
}

for (const [label, answer, decision] of REFUSALS) {
  test(`a refusal is the client's denial (never a person's): ${label}`, () => {
    const a = interpretAnswer(answer, ALL_OFFERED, 'mcp:test');
    assert.equal(a.decision, decision);
    assert.equal(a.source, 'client');
  });
}

for (const decision of DECISIONS) {
  test(`accept with exactly {decision: '${decision}'} is that decision`, () => {
    const a = interpretAnswer({ action: 'accept', content: { decision } }, ALL_OFFERED, 'mcp:test');
    assert.deepEqual([a.decision, a.source, a.user], [decision, 'client', 'mcp:test']);
    assert.equal(a.raw, JSON.stringify({ action: 'accept', content: { decision } }));
  });
}

test('a decision that was not offered is malformed, even a real one', () => {
  const offered = ['approved', 'approved_for_session', 'denied', 'abort'] as const;
  const a = interpretAnswer({ action: 'accept', content: { decision: 'approved_always' } }, [...offered]);
  assert.deepEqual([a.decision, a.source], ['denied', 'malformed']);
});

test('nothing offered: even a perfect answer is malformed', () => {
  const a = interpretAnswer({ action: 'accept', content: { decision: 'approved' } }, []);
  assert.deepEqual([a.decision, a.source], ['denied', 'malformed']);
});

test('an answer over the size limit is not parsed', () => {
  const a = interpretAnswer({ action: 'accept', content: { decision: 'approved' }, _meta: { pad: 'x'.repeat(MAX_ANSWER_CHARS) } }, ALL_OFFERED);
  assert.deepEqual([a.decision, a.source], ['denied', 'malformed']);
  assert.match(a.reason ?? '', /too large/);
});

test('_meta beside a valid answer is allowed (MCP results may carry it)', () => {
  const a = interpretAnswer({ action: 'accept', content: { decision: 'approved' }, _meta: { x: 1 } }, ALL_OFFERED);
  assert.deepEqual([a.decision, a.source], ['approved', 'client']);
});

// Issue 13: a client's answer faster than a person can read is the client's own, never an approval.
for (const [label, answer] of [
  ['cancel', { action: 'cancel' }],
  ['decline', { action: 'decline' }],
  ['accept approved', { action: 'accept', content: { decision: 'approved' } }],
  ['accept approved_for_session', { action: 'accept', content: { decision: 'approved_for_session' } }],
  ['accept abort', { action: 'accept', content: { decision: 'abort' } }],
] as const) {
  test(`an answer in 5 ms is client-auto and a denial: ${label}`, () => {
    const read = interpretAnswer(answer, ALL_OFFERED, 'mcp:test');
    const auto = automaticAnswer(read, 5, DEFAULT_MIN_DECISION_MS);
    assert.ok(auto);
    assert.deepEqual([auto.answer.decision, auto.answer.source, auto.answer.user], ['denied', 'client-auto', 'mcp:test']);
    assert.equal(auto.approving, label.startsWith('accept approved'));
    assert.equal(auto.answer.raw, JSON.stringify(answer), 'what the client sent is kept');
    assert.doesNotMatch(auto.answer.reason ?? '', /person (said|declined|cancel)/);
    if (label === 'cancel') assert.match(auto.answer.reason ?? '', /dismissed the question without showing it/);
  });
  test(`the same answer after 1 s stays the client's: ${label}`, () => {
    const read = interpretAnswer(answer, ALL_OFFERED, 'mcp:test');
    assert.equal(automaticAnswer(read, 1000, DEFAULT_MIN_DECISION_MS), null);
    assert.equal(read.source, 'client');
  });
}

test('cancel is the client dismissing the question, never the person cancelling', () => {
  const a = interpretAnswer({ action: 'cancel' }, ALL_OFFERED, 'mcp:test');
  assert.equal(a.reason, 'the MCP client dismissed the question');
  assert.equal(clientAction(a.raw), 'cancel');
});

test('a malformed answer stays malformed however fast it came', () => {
  const a = interpretAnswer({ action: 'accept', content: { decision: 'yes' } }, ALL_OFFERED, 'mcp:test');
  assert.equal(automaticAnswer(a, 1, DEFAULT_MIN_DECISION_MS), null);
  assert.equal(a.source, 'malformed');
});
