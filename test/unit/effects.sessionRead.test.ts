/**
 * A classification reads its session's events once (src/requests/effects.ts): the session-approval
 * check and the domain lists both ask, and one read of the store answers both; the next
 * classification reads afresh, so an approval recorded in between counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEffects } from '../../src/requests/effects.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { classification, execRequest } from '../support/fixtures.ts';

test('one read of the session per classification, shared by both questions; a fresh one for the next', async () => {
  const reads: string[] = [];
  const seen: Array<{ by: string; events: readonly StoredEvent[] }> = [];
  const snapshots = [[] as StoredEvent[], [{ type: 'stand-in' } as unknown as StoredEvent]];
  const effects = createEffects({
    classifier: { exec: () => classification.sandboxed(), patch: () => classification.sandboxed() },
    platformSandbox: 'bwrap',
    readSession: async (sessionId) => {
      reads.push(sessionId);
      return snapshots[reads.length - 1]!;
    },
    approvedForSession: async (_sessionId, _key, session) => {
      seen.push({ by: 'approved', events: await session() });
      return false;
    },
    networkFor: async (_sessionId, _request, session) => {
      seen.push({ by: 'network', events: await session() });
      return undefined;
    },
    run: async () => {
      throw new Error('not run here');
    },
    patchCommand: ['true'],
    decide: async () => ({ decision: 'denied', source: 'user', user: 'tester' }),
  });
  const input = { requestId: 'r1', sessionId: 's1', request: execRequest() };
  await effects.classify(input);
  assert.deepEqual(reads, ['s1']);
  assert.deepEqual(seen.map((s) => s.by).sort(), ['approved', 'network']);
  assert.ok(seen.every((s) => s.events === snapshots[0]));
  seen.length = 0;
  await effects.classify({ ...input, requestId: 'r2' });
  assert.deepEqual(reads, ['s1', 's1']);
  assert.ok(seen.every((s) => s.events === snapshots[1]), 'the second classification sees what was recorded since');
});
