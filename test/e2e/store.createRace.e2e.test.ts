/**
 * Several processes opening one store that does not exist yet, at the same instant (an agent's
 * hooks start a process per tool call, several at once, on a fresh machine): every one of them
 * opens it, none refuses it as damaged or planted, and every append is kept in one chain. Before
 * the store was created in one step, a process could see the new file after it had switched to
 * WAL but while its first transaction's `-journal` was still there, and refused it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../../src/events/sqliteEventStore.ts';

const STORE_MODULE = new URL('../../dist/events/sqliteEventStore.js', import.meta.url).href;
const PROCESSES = 6;
const ROUNDS = 8;

/** One child: waits for the shared start instant, opens the store, appends one event, exits 0. */
function child(path: string, name: string, startAt: number): Promise<{ code: number | null; stderr: string }> {
  const script = `
    const { createSqliteEventStore } = await import(${JSON.stringify(STORE_MODULE)});
    while (Date.now() < ${startAt}) {}
    const store = createSqliteEventStore(${JSON.stringify(path)});
    await store.append(${JSON.stringify(name)}, 0, [{ type: 'Interrupted', sessionId: 's', data: { reason: ${JSON.stringify(name)} } }]);
    await store.close();`;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

test('processes creating one store at the same instant all open it, and nothing they append is lost', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-create-race-'));
  for (let round = 0; round < ROUNDS; round++) {
    const path = join(dir, `events-${round}.db`);
    const startAt = Date.now() + 1500; // every child has loaded its module by then
    const results = await Promise.all(Array.from({ length: PROCESSES }, (_, i) => child(path, `p${i}`, startAt)));
    for (const r of results) assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
    const store = createSqliteEventStore(path, { create: false });
    const events = await store.readAll();
    assert.equal(events.length, PROCESSES, `round ${round}: one event per process`);
    assert.deepEqual((await store.verify()).ok, true, `round ${round}: the chain verifies`);
    await store.close();
  }
  // Nothing of the one-step creation is left behind: only the stores and their own files.
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('creating')), []);
});
