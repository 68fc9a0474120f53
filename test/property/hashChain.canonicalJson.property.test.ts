/**
 * canonicalJson (src/events/hashChain.ts) writes, byte for byte, what the hash chain was defined
 * with: the recursive form below, kept here as the reference. Every stored event's hash depends on
 * it, so a difference in any value (key order, undefined members, holes, integer-like keys,
 * non-JSON values) would make every store's chain look broken, or make two events hash alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson, eventHash } from '../../src/events/hashChain.ts';

/** The definition (warden's canonicalJson before it was rewritten for speed). */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

// keys that sort differently by code unit than by number or locale, and lone surrogates
const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('0', '1', '10', '9', '-1', '1.5', 'a', 'B', '\u00e9', '\ud83d', '\ud83d\ude00', '__proto__', ''));
const leaf = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constantFrom(Number.NaN, Infinity, -0),
  fc.constant(() => 1),
  fc.constant(Symbol('s')),
);
const value = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.oneof(fc.array(tie('any'), { maxLength: 5 }), fc.array(leaf, { maxLength: 8 }), fc.sparseArray(leaf, { maxLength: 5 })),
  object: fc.dictionary(key, tie('any'), { maxKeys: 6 }),
})).any;

test('canonicalJson writes exactly what the reference writes, for any value', () => {
  fc.assert(
    fc.property(value, (v) => {
      assert.equal(canonicalJson(v), reference(v));
    }),
    { numRuns: 3000 },
  );
});

test('for any JSON a store holds, and a run\'s event shapes, the same string and so the same hash', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (data) => {
      assert.equal(canonicalJson(data), reference(data));
      const e = { position: 7, stream: 'req-1', sessionId: 's', version: 2, time: '2026-12-04T00:00:00.000Z', type: 'ApprovalRequested', data };
      assert.equal(eventHash('a'.repeat(64), e), eventHash('a'.repeat(64), { ...e, data: JSON.parse(JSON.stringify(data) ?? 'null') }));
    }),
    { numRuns: 2000 },
  );
  const event = { kind: 'exec', command: ['true'], policy: { hidden: ['/a', '/b'], network: false, writableRoots: [] }, origin: { pid: 1, proc: { start: 2 } } };
  assert.equal(canonicalJson(event), reference(event));
  assert.equal(canonicalJson(event), '{"command":["true"],"kind":"exec","origin":{"pid":1,"proc":{"start":2}},"policy":{"hidden":["/a","/b"],"network":false,"writableRoots":[]}}');
});
