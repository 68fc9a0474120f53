/**
 * bench/lifecycle: request lifecycles per second through the approval machine and the SQLite
 * store with durable commits (effects answered at once, so this measures warden, not processes),
 * beside bare SQLite inserts of the same events in the same run; then the resident memory of
 * 10,000 actors waiting for a decision. Usage: node --import tsx bench/lifecycle.ts [N]
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../src/events/sqliteEventStore.ts';
import { runRequest, type RequestEffects } from '../src/requests/runRequest.ts';
import { askForDecision } from '../src/requests/askForDecision.ts';
import type { RunResult } from '../src/sandbox/types.ts';
import { classification, execRequest } from '../test/support/fixtures.ts';

const N = Number(process.argv[2] ?? 2000);
const WAITING = Number(process.argv[3] ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));

const ok: RunResult = {
  sandboxType: 'bwrap', exitCode: 0, signal: null, timedOut: false, durationMs: 1,
  stdout: '', stderr: '', stdoutBytes: 0, stderrBytes: 0, truncated: false, denial: { denied: false },
};
const autoApproved: RequestEffects = {
  classify: async () => classification.knownSafe(),
  runSandboxed: async () => ok,
  decide: async () => {
    throw new Error('not asked');
  },
  execute: async () => ok,
};

async function lifecycles(concurrency: number): Promise<{ perSecond: number; events: number }> {
  const store = createSqliteEventStore(join(dir, `lifecycle-${concurrency}.db`));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < N) {
        next += 1;
        await runRequest({ store, sessionId: 'bench', request: execRequest({ command: ['ls'] }), effects: autoApproved });
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const events = await store.headPosition();
  await store.close();
  return { perSecond: N / seconds, events };
}

function bareInserts(events: number): number {
  const db = new Database(join(dir, 'bare.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE e (position INTEGER PRIMARY KEY, stream TEXT, version INT, type TEXT, data TEXT, time TEXT, hash TEXT)');
  const insert = db.prepare('INSERT INTO e (stream, version, type, data, time, hash) VALUES (?, ?, ?, ?, ?, ?)');
  const data = JSON.stringify(execRequest({ command: ['ls'] }));
  const t0 = performance.now();
  for (let i = 0; i < events; i++) insert.run(`s${Math.floor(i / 5)}`, (i % 5) + 1, 'Event', data, new Date().toISOString(), 'x'.repeat(64));
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return events / seconds;
}

/**
 * Requests arrive in batches (as they do from agents), each waiting on a person who never answers;
 * measured once all are waiting, after a full GC.
 */
async function waitingMemory(): Promise<{ rssMb: number; baselineMb: number; perActorKb: number; heapPerActorKb: number }> {
  const store = createSqliteEventStore(join(dir, 'waiting.db'));
  global.gc?.();
  const before = process.memoryUsage();
  let waiting = 0;
  let target = 0;
  let release: () => void = () => {};
  const effects: RequestEffects = {
    classify: async () => classification.ask(),
    runSandboxed: async () => ok,
    execute: async () => ok,
    decide: askForDecision({
      store,
      timeoutMs: null,
      channel: {
        ask: (_input, signal) =>
          new Promise((_resolve, reject) => {
            waiting += 1;
            if (waiting === target) release();
            signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
          }),
      },
    }),
  };
  const runs: Array<Promise<unknown>> = [];
  const BATCH = 500;
  for (let i = 0; i < WAITING; i += BATCH) {
    target = Math.min(WAITING, i + BATCH);
    const reached = new Promise<void>((r) => (release = r));
    for (let j = i; j < target; j++) runs.push(runRequest({ store, sessionId: 'mem', request: execRequest(), effects }));
    await reached;
  }
  await new Promise((r) => setTimeout(r, 1000));
  global.gc?.();
  const after = process.memoryUsage();
  return {
    rssMb: after.rss / 2 ** 20,
    baselineMb: before.rss / 2 ** 20,
    perActorKb: (after.rss - before.rss) / 1024 / WAITING,
    heapPerActorKb: (after.heapUsed - before.heapUsed) / 1024 / WAITING,
  };
}

const bare1 = bareInserts(N * 5);
const seq = await lifecycles(1);
const conc = await lifecycles(16);
console.log(`lifecycles (machine + SQLite, durable): ${seq.perSecond.toFixed(0)}/s sequential, ${conc.perSecond.toFixed(0)}/s with 16 in flight (${(seq.events / N).toFixed(1)} events each, goal >= 1000/s)`);
console.log(`bare SQLite inserts, same event count, autocommit: ${bare1.toFixed(0)} events/s = ${(bare1 / 5).toFixed(0)} lifecycles-worth/s`);
console.log(`ratio warden/bare: ${(seq.perSecond / (bare1 / 5)).toFixed(2)} sequential, ${(conc.perSecond / (bare1 / 5)).toFixed(2)} concurrent`);
const mem = await waitingMemory();
console.log(
  `${WAITING} requests waiting for a decision: RSS ${mem.rssMb.toFixed(0)} MB (process baseline ${mem.baselineMb.toFixed(0)} MB; ` +
    `${mem.perActorKb.toFixed(1)} KB RSS and ${mem.heapPerActorKb.toFixed(1)} KB of live heap per waiting request = ` +
    `${((mem.heapPerActorKb * WAITING) / 1024).toFixed(0)} MB live heap for all; goal < 150 MB)`,
);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
