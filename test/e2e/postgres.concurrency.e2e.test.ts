/**
 * Four real processes each record 1,000 requests (five events each, one append per event, as the
 * approval machine does) into one store at the same time: nothing lost or duplicated, positions
 * gap-free, every stream's versions contiguous, and the hash chain verifies. Run against
 * PostgreSQL and, for comparison, against one SQLite file.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openStore } from '../../src/events/openStore.ts';
import { APPEND_CHILD, runChild } from '../contract/fixtures/child.ts';
import { createTempDatabase } from '../contract/fixtures/pgDatabase.ts';

const PROCESSES = 4;
const REQUESTS = 1_000;
const PER_REQUEST = 5;

async function fourWriters(location: string): Promise<void> {
  const started = Date.now();
  await Promise.all(Array.from({ length: PROCESSES }, (_, p) => runChild(APPEND_CHILD, [location, `w${p}`, String(REQUESTS), 'lifecycles'], 600_000)));
  const seconds = (Date.now() - started) / 1000;
  const store = await openStore(location);
  try {
    const all = await store.readAll();
    const total = PROCESSES * REQUESTS * PER_REQUEST;
    assert.equal(all.length, total);
    assert.equal(await store.headPosition(), total);
    all.forEach((e, i) => assert.equal(e.position, i + 1));
    const versions = new Map<string, number[]>();
    for (const e of all) versions.set(e.stream, [...(versions.get(e.stream) ?? []), e.version]);
    assert.equal(versions.size, PROCESSES * REQUESTS);
    for (const [stream, vs] of versions) assert.deepEqual(vs, [1, 2, 3, 4, 5], stream);
    // Each stream's events are the lifecycle, in order.
    const first = await store.read('w3-999');
    assert.deepEqual(first.map((e) => e.type), ['ApprovalRequested', 'Classified', 'DecisionRecorded', 'ExecutionStarted', 'ExecutionFinished']);
    assert.deepEqual(await store.verify(), { ok: true, checked: total });
    console.error(`# ${location.startsWith('postgres') ? 'postgres' : 'sqlite'}: ${total} events by ${PROCESSES} processes in ${seconds.toFixed(1)} s`);
  } finally {
    await store.close();
  }
}

describe('four processes writing 1,000 requests each to one store', () => {
  test('PostgreSQL: no lost or duplicated events, contiguous versions, chain verifies', async () => {
    const db = await createTempDatabase();
    try {
      // Create the schema first so the children do not all race to (each would wait on the set-up lock anyway).
      await (await openStore(db.url)).close();
      await fourWriters(db.url);
    } finally {
      await db.drop();
    }
  });

  test('SQLite: the same holds for one file shared by four processes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-conc-'));
    try {
      await fourWriters(join(dir, 'events.db'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
