/**
 * bench/replay: events per second for replay (every request rebuilt through the pure machine) and
 * for the audit projection, over a SQLite store of about a million events, beside a plain paged
 * read of the same events in the same run (the baseline both include).
 *
 *   node --import tsx bench/replay.ts [requests=125000]
 *
 * The store is generated from real recorded streams (two paths through the machine, 6 and 10
 * events, so 8 on average) appended as valid, hash-chained events in big group-committed batches.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../src/events/sqliteEventStore.ts';
import type { EventStore } from '../src/events/eventStore.ts';
import type { NewEvent, StoredEvent } from '../src/events/types.ts';
import { runRequest } from '../src/requests/runRequest.ts';
import { replayStream } from '../src/machines/replay.ts';
import { applyEvent } from '../src/projections/projection.ts';
import { requestsProjection } from '../src/projections/requests.projection.ts';
import { classification, decisions, execRequest, runs } from '../test/support/fixtures.ts';
import { scenarioEffects } from '../test/support/scripted.ts';

const REQUESTS = Number(process.argv[2] ?? 125_000);
const PAGE = 50_000;
const BATCH = 2_000;

async function templates(store: EventStore): Promise<NewEvent[][]> {
  const asked = await runRequest({
    store,
    sessionId: 'bench',
    request: execRequest(),
    effects: scenarioEffects({ classify: { value: classification.ask() }, runSandboxed: { value: runs.ok() }, decide: { value: decisions.approved!() }, execute: { value: runs.ok() } }),
  });
  const escalated = await runRequest({
    store,
    sessionId: 'bench',
    request: execRequest(),
    effects: scenarioEffects({ classify: { value: classification.sandboxed() }, runSandboxed: { value: runs.denied() }, decide: { value: decisions.approved!() }, execute: { value: runs.exit1() } }),
  });
  const strip = (events: StoredEvent[]): NewEvent[] => events.map((e) => ({ type: e.type, data: e.data, sessionId: 'bench' }) as NewEvent);
  return [strip(asked.events), strip(escalated.events)];
}

async function generate(store: EventStore): Promise<number> {
  const kinds = await templates(store);
  let written = (await store.headPosition());
  for (let i = 0; i < REQUESTS; i += BATCH) {
    const appends: Array<Promise<unknown>> = [];
    for (let j = i; j < Math.min(REQUESTS, i + BATCH); j++) {
      const events = kinds[j % 2]!;
      written += events.length;
      appends.push(store.append(`bench-${j}`, 0, events));
    }
    await Promise.all(appends); // concurrent appends share one transaction (group commit)
  }
  return written;
}

async function pages(store: EventStore, each: (page: StoredEvent[]) => void): Promise<number> {
  let n = 0;
  for (let from = 1; ; ) {
    const page = await store.readAll(from, PAGE);
    if (page.length === 0) break;
    each(page);
    n += page.length;
    from = page[page.length - 1]!.position + 1;
  }
  return n;
}

const TERMINAL = new Set(['ExecutionFinished', 'Rejected', 'Aborted', 'Interrupted']);

/** Wall time, and this process's CPU time (user + system): on a busy machine the CPU figure is the steadier one. */
async function time<T>(label: string, fn: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, value };
}

const dir = mkdtempSync(join(tmpdir(), 'warden-bench-replay-'));
const store = createSqliteEventStore(join(dir, 'events.db'));
try {
  const gen = await time('generate', () => generate(store));
  console.log(`generated ${gen.value} events (${REQUESTS} requests) in ${(gen.ms / 1000).toFixed(1)} s`);

  const read = await time('read', () => pages(store, () => {}));
  let bad = 0;
  let replayed = 0;
  const replay = await time('replay', () =>
    pages(store, (page) => {
      // streams are contiguous per append here, but replay them as they end to keep memory flat
      const open = new Map<string, StoredEvent[]>();
      for (const e of page) {
        let list = open.get(e.stream);
        if (!list) open.set(e.stream, (list = []));
        list.push(e);
        if (TERMINAL.has(e.type)) {
          const r = replayStream(list);
          replayed++;
          if (!r.ok || !r.final) bad++;
          open.delete(e.stream);
        }
      }
      for (const list of open.values()) if (!replayStream(list).ok) bad++;
    }),
  );
  let doc = requestsProjection.init();
  const audit = await time('audit', () => pages(store, (page) => {
    for (const e of page) doc = applyEvent(requestsProjection, doc, e);
  }));

  const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
  const line = (label: string, m: { ms: number; cpuMs: number; value: number }, extra = '') =>
    `${label.padEnd(22)} ${rate(m.value, m.ms).toLocaleString('en').padStart(10)} events/s wall (${(m.ms / 1000).toFixed(2)} s), ` +
    `${rate(m.value, m.cpuMs).toLocaleString('en').padStart(10)} events/s of CPU (${(m.cpuMs / 1000).toFixed(2)} s)` +
    (m === read ? '' : `, ${(read.cpuMs / m.cpuMs).toFixed(2)}x the read's rate`) + extra;
  console.log(line('plain read (baseline)', read));
  console.log(line('replay', replay, `; ${replayed} requests, ${bad} with problems`));
  console.log(line('audit projection', audit, `; ${doc.byId.size} rows`));
  const replayRate = rate(replay.value, replay.cpuMs);
  console.log(`goal >= 100,000 events/s replayed (CPU): ${replayRate >= 100_000 ? 'met' : 'NOT met'}`);
  if (bad > 0) process.exitCode = 1;
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
