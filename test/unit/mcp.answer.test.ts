import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpretAnswer, MAX_ANSWER_CHARS } from '../../src/mcp/answer.ts';
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
  test(`a refusal is the person's denial: ${label}`, () => {
    const a = interpretAnswer(answer, ALL_OFFERED, 'mcp:test');
    assert.equal(a.decision, decision);
    assert.equal(a.source, 'user');
  });
}

for (const decision of DECISIONS) {
  test(`accept with exactly {decision: '${decision}'} is that decision`, () => {
    const a = interpretAnswer({ action: 'accept', content: { decision } }, ALL_OFFERED, 'mcp:test');
    assert.deepEqual([a.decision, a.source, a.user], [decision, 'user', 'mcp:test']);
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
  assert.deepEqual([a.decision, a.source], ['approved', 'user']);
});
