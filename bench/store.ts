/**
 * bench/store: request lifecycles per second through the EventStore, on PostgreSQL and SQLite in
 * the same run, with 1 and 8 concurrent writers (8 async loops in one process, and 8 processes).
 * A lifecycle is the five events of an auto-approved executed request (ApprovalRequested,
 * Classified, DecisionRecorded, ExecutionStarted, ExecutionFinished), appended as the approval
 * machine does: one durable append per event with its expectedVersion. The baseline is bare SQLite
 * inserts of the same rows, one durable (WAL, synchronous=FULL) commit per row, in the same run
 * (measured first and last; the better of the two is the ratio's base).
 *
 *   node --import tsx bench/store.ts [--lifecycles N] [--pg postgres://...] [--no-processes]
 *
 * PostgreSQL: a throw-away database is created on the server (default 127.0.0.1:5432, user
 * postgres, database test) and dropped afterwards.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openStore } from '../src/events/openStore.ts';
import type { EventStore } from '../src/events/eventStore.ts';
import { lifecycleEvents } from '../test/contract/fixtures/events.ts';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};

async function runLifecycles(store: EventStore, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    let version = 0;
    for (const event of lifecycleEvents(`${prefix}-session`, i)) {
      version = (await store.append(`${prefix}-${i}`, version, [event])).nextExpectedVersion;
    }
  }
}

// ---- child mode: one writer process, started by the parent, waits for "go" on stdin ----
if (args[0] === '--child') {
  const [, location, prefix, count] = args;
  const store = await openStore(location!);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  await runLifecycles(store, prefix!, Number(count));
  await store.close();
  process.stdout.write('done\n');
  process.exit(0);
}

const LIFECYCLES = Number(opt('--lifecycles', '2000'));
const PG_ADMIN = opt('--pg', process.env.WARDEN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test');
const withProcesses = !args.includes('--no-processes');

interface Row {
  backend: string;
  writers: string;
  lifecycles: number;
  seconds: number;
}
const rows: Row[] = [];

async function timed(backend: string, writers: string, lifecycles: number, fn: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  await fn();
  rows.push({ backend, writers, lifecycles, seconds: (performance.now() - t0) / 1000 });
  console.error(`  ${backend} ${writers}: done`);
}

async function inOneProcess(location: string, backend: string, writers: number, total: number): Promise<void> {
  const store = await openStore(location);
  try {
    const per = Math.floor(total / writers);
    await timed(backend, writers === 1 ? '1' : `${writers} loops`, per * writers, () =>
      Promise.all(Array.from({ length: writers }, (_, w) => runLifecycles(store, `${backend}-${writers}-${w}-${randomBytes(3).toString('hex')}`, per))).then(() => {}),
    );
  } finally {
    await store.close();
  }
}

async function inProcesses(location: string, backend: string, writers: number, total: number): Promise<void> {
  const per = Math.floor(total / writers);
  const self = fileURLToPath(import.meta.url);
  const children = Array.from({ length: writers }, (_, w) =>
    spawn(process.execPath, ['--import', 'tsx', self, '--child', location, `${backend}-p${w}-${randomBytes(3).toString('hex')}`, String(per)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const lineFrom = (c: (typeof children)[number], line: string) =>
    new Promise<void>((resolve, reject) => {
      let out = '';
      c.stdout!.on('data', (d) => {
        out += d;
        if (out.includes(`${line}\n`)) resolve();
      });
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
    });
  await Promise.all(children.map((c) => lineFrom(c, 'ready')));
  await timed(backend, `${writers} procs`, per * writers, async () => {
    const done = children.map((c) => lineFrom(c, 'done'));
    for (const c of children) c.stdin!.write('go\n');
    await Promise.all(done);
  });
}

/** The baseline: the same rows inserted straight into SQLite, one durable commit per row. */
function bareSqlite(dir: string, total: number, label: string): void {
  const db = new Database(join(dir, `bare-${label}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT, version INTEGER, session_id TEXT, type TEXT, data TEXT, time TEXT, prev_hash TEXT, hash TEXT, UNIQUE (stream, version))`);
  const insert = db.prepare(`INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const t0 = performance.now();
  let position = 0;
  for (let i = 0; i < total; i++) {
    lifecycleEvents('bare-session', i).forEach((e, v) => {
      position += 1;
      insert.run(position, `bare-${i}`, v + 1, e.sessionId, e.type, JSON.stringify(e.data), new Date().toISOString(), 'p'.repeat(64), 'h'.repeat(64));
    });
  }
  rows.push({ backend: `bare sqlite (${label})`, writers: '1', lifecycles: total, seconds: (performance.now() - t0) / 1000 });
  db.close();
}

const dir = mkdtempSync(join(tmpdir(), 'warden-bench-store-'));
const dbName = `warden_bench_${randomBytes(5).toString('hex')}`;
const admin = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 5000 });
let pgUrl: string | undefined;
try {
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const u = new URL(PG_ADMIN);
  u.pathname = `/${dbName}`;
  pgUrl = u.toString();
} catch (error) {
  console.error(`PostgreSQL unavailable at ${PG_ADMIN} (${(error as Error).message}); SQLite only`);
}

try {
  console.error(`bench/store: ${LIFECYCLES} lifecycles per configuration`);
  // The baseline runs first and last: fsync latency on a shared machine drifts, the better run counts.
  bareSqlite(dir, LIFECYCLES, 'first');
  const sqlitePath = join(dir, 'events.db');
  await inOneProcess(sqlitePath, 'sqlite', 1, LIFECYCLES);
  await inOneProcess(sqlitePath, 'sqlite', 8, LIFECYCLES);
  if (withProcesses) await inProcesses(sqlitePath, 'sqlite', 8, LIFECYCLES);
  if (pgUrl) {
    await (await openStore(pgUrl)).close(); // schema set up outside the timing
    await inOneProcess(pgUrl, 'postgres', 1, LIFECYCLES);
    await inOneProcess(pgUrl, 'postgres', 8, LIFECYCLES);
    if (withProcesses) await inProcesses(pgUrl, 'postgres', 8, LIFECYCLES);
  }
  bareSqlite(dir, LIFECYCLES, 'last');
  for (const location of [sqlitePath, pgUrl].filter((l): l is string => !!l)) {
    const store = await openStore(location);
    const verdict = await store.verify();
    await store.close();
    if (!verdict.ok) throw new Error(`${location}: chain broken after the bench: ${JSON.stringify(verdict)}`);
  }

  const baseline = Math.max(...rows.filter((r) => r.backend.startsWith('bare')).map((r) => r.lifecycles / r.seconds));
  const table = [
    ['backend', 'writers', 'lifecycles', 'seconds', 'lifecycles/s', 'appends/s', 'vs bare sqlite (best)'],
    ...rows.map((r) => {
      const rate = r.lifecycles / r.seconds;
      return [r.backend, r.writers, String(r.lifecycles), r.seconds.toFixed(2), rate.toFixed(0), (rate * 5).toFixed(0), `${(rate / baseline).toFixed(2)}x`];
    }),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  for (const r of table) console.log(r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (pgUrl) await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
  await admin.end().catch(() => {});
}
