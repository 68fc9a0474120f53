import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { interpretAnswer } from '../../src/mcp/answer.ts';
import { ALL_OFFERED } from '../../src/mcp/answer.cases.ts';
import { DECISIONS, isApproving, type Decision } from '../../src/policy.ts';

/** Exactly MCP's accept with one offered decision (and optionally an object `_meta`). */
function isExactAccept(answer: unknown, offered: readonly Decision[]): boolean {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return false;
  const a = answer as Record<string, unknown>;
  const keys = Object.keys(a).sort();
  const okKeys = JSON.stringify(keys) === '["action","content"]' || JSON.stringify(keys) === '["_meta","action","content"]';
  if (!okKeys || a.action !== 'accept') return false;
  if (keys.includes('_meta') && (typeof a._meta !== 'object' || a._meta === null || Array.isArray(a._meta))) return false;
  const c = a.content;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return false;
  const ck = Object.keys(c);
  return ck.length === 1 && ck[0] === 'decision' && offered.includes((c as { decision: Decision }).decision);
}

const nearMiss = fc.record(
  {
    action: fc.oneof(fc.constantFrom('accept', 'decline', 'cancel', 'Accept', 'accept '), fc.jsonValue()),
    content: fc.oneof(
      fc.record({ decision: fc.oneof(fc.constantFrom(...DECISIONS), fc.string(), fc.jsonValue()) }),
      fc.dictionary(fc.constantFrom('decision', 'Decision', 'extra', '_meta'), fc.oneof(fc.constantFrom(...DECISIONS), fc.jsonValue())),
      fc.jsonValue(),
    ),
    _meta: fc.jsonValue(),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

const offeredSets = fc.subarray([...DECISIONS], { minLength: 0 });

test('law: an answer approves only if it is exactly accept with one offered decision', () => {
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), nearMiss), offeredSets, (answer, offered) => {
      const a = interpretAnswer(answer, offered);
      if (isApproving(a.decision)) {
        assert.equal(a.source, 'client');
        assert.ok(isExactAccept(answer, offered), JSON.stringify(answer));
      }
      if (a.source !== 'client') assert.equal(a.decision, 'denied');
      assert.ok(offered.includes(a.decision) || a.decision === 'denied');
    }),
    { numRuns: 3000 },
  );
});

test('law: whatever arrives, the answer as received is kept', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (answer) => {
      const a = interpretAnswer(answer, ALL_OFFERED);
      assert.equal(a.raw, JSON.stringify(answer));
    }),
  );
});
