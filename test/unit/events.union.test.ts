/**
 * The events union is derived from one table (src/events/types.ts `eventSchemas`): every listed
 * type parses with its own data, a type not in the table is refused, and a type's data is checked
 * against that type's schema (not any schema in the union).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_TYPES, parseDomainEvent } from '../../src/events/types.ts';

test('events union: an unknown type is refused', () => {
  assert.throws(() => parseDomainEvent({ type: 'Approved', data: {} }));
  assert.throws(() => parseDomainEvent({ type: 'rejected', data: { reason: 'x' } }));
});

test('events union: data is checked against its own type', () => {
  assert.deepEqual(parseDomainEvent({ type: 'Rejected', data: { reason: 'no' } }), { type: 'Rejected', data: { reason: 'no' } });
  assert.throws(() => parseDomainEvent({ type: 'Rejected', data: { denial: 'no' } }));
  assert.deepEqual(parseDomainEvent({ type: 'Escalated', data: { denial: 'blocked' } }), { type: 'Escalated', data: { denial: 'blocked' } });
  assert.throws(() => parseDomainEvent({ type: 'Escalated', data: { reason: 'no' } }));
});

test('events union: every listed type has a variant (an empty data object is judged by that type\'s schema)', () => {
  for (const type of EVENT_TYPES) {
    let refusedFor: string | null = null;
    try {
      parseDomainEvent({ type, data: {} });
    } catch (e) {
      // a refusal must be about the data, not about an unknown discriminator
      refusedFor = String((e as Error).message);
      assert.doesNotMatch(refusedFor, /Invalid discriminator|No matching discriminator/i, type);
    }
  }
});
