/**
 * The embedded EventStore: one SQLite file (better-sqlite3, WAL, synchronous=FULL so an append that
 * has returned survives a crash or power loss). Every append is one IMMEDIATE transaction: it takes
 * the database's write lock first, so the stream-version check, the position (head + 1: gap-free,
 * never an AUTOINCREMENT hole after a rollback) and the hash-chain link are all computed under the
 * lock, across processes. Subscribers hear in-process appends at once and other processes' appends
 * through a light poll of max(position). A file that is not a warden store, is corrupt, or comes
 * from a newer warden is a StoreError naming the path; nothing is ever reset or overwritten.
 * Does I/O (the file); the pure parts live in appendPlan.ts, chainWalker.ts, subscriptionPump.ts.
 */
import Database from 'better-sqlite3';
import { EventEmitter } from 'eventemitter3';
import { chmodSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ExpectedVersionConflictError, StoreError } from '../errors.ts';
import { stampEvents, validateAppend, type ChainHead } from './appendPlan.ts';
import { ChainWalker } from './chainWalker.ts';
import type { AppendResult, ChainVerdict, EventStore, Subscription } from './eventStore.ts';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, SQLITE_UNFINISHED_STREAMS, STORE_FORMAT, decodeHead, encodeHead } from './migrations/sqlite.ts';
import { SubscriptionPump } from './subscriptionPump.ts';
import type { NewEvent, StoredEvent } from './types.ts';

/** How often other processes' appends are looked for: one indexed max() per tick, only while subscribed. */
const POLL_MS = 100;
/** How long to wait for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 10_000;

interface Row {
  position: number;
  stream: string;
  version: number;
  session_id: string;
  type: string;
  data: string;
  time: string;
  prev_hash: string;
  hash: string;
}

interface PendingAppend {
  stream: string;
  expectedVersion: number;
  events: NewEvent[];
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/** Appends made through any store object of this process, keyed by file: other objects on the same file hear them at once. */
const localAppends = new EventEmitter<Record<string, []>>();

function rowToEvent(r: Row): StoredEvent {
  return {
    type: r.type,
    data: JSON.parse(r.data),
    stream: r.stream,
    sessionId: r.session_id,
    version: r.version,
    position: r.position,
    time: r.time,
    prevHash: r.prev_hash,
    hash: r.hash,
  } as StoredEvent;
}

function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Turns a damaged-file error into a StoreError naming the file; passes every other error through. */
function mapError(path: string, error: unknown): unknown {
  const code = sqliteCode(error);
  if (code === 'SQLITE_NOTADB') return new StoreError(`${path} is not a warden event store (not an SQLite database)`, { cause: error });
  if (code?.startsWith('SQLITE_CORRUPT')) return new StoreError(`${path} is corrupt (${(error as Error).message}); it was left untouched`, { cause: error });
  if (code === 'SQLITE_CANTOPEN') return new StoreError(`cannot open the event store ${path}: ${(error as Error).message}`, { cause: error });
  if (code === 'SQLITE_READONLY' || code?.startsWith('SQLITE_READONLY_')) {
    return new StoreError(`the event store ${path} is read-only here: ${(error as Error).message}`, { cause: error });
  }
  return error;
}

type Inspection = { kind: 'empty' } | { kind: 'store'; version: number } | { kind: 'foreign'; why: string };

function inspect(db: Database.Database): Inspection {
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((t) => t.name);
  if (tables.length === 0) return { kind: 'empty' };
  if (!tables.includes('meta') || !tables.includes('events')) return { kind: 'foreign', why: 'it has no warden meta/events tables' };
  const rows = db.prepare(`SELECT key, value FROM meta WHERE key IN ('format', 'schema_version')`).all() as { key: string; value: string }[];
  const meta = new Map(rows.map((r) => [r.key, String(r.value)]));
  if (meta.get('format') !== STORE_FORMAT) return { kind: 'foreign', why: `its meta table has no format = '${STORE_FORMAT}' row` };
  const version = Number(meta.get('schema_version'));
  if (!Number.isSafeInteger(version) || version < 0) return { kind: 'foreign', why: `its schema_version ${JSON.stringify(meta.get('schema_version'))} is not a number` };
  return { kind: 'store', version };
}

/** Brings the schema to SQLITE_SCHEMA_VERSION inside one IMMEDIATE transaction, re-checking under the lock (another process may be doing the same). */
function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    const found = inspect(db);
    if (found.kind === 'foreign') throw new StoreError(`${path} is not a warden event store: ${found.why}`);
    const from = found.kind === 'empty' ? 0 : found.version;
    if (from > SQLITE_SCHEMA_VERSION) {
      throw new StoreError(`${path} was created by a newer warden (schema ${from}), this warden knows ${SQLITE_SCHEMA_VERSION}`);
    }
    for (const step of SQLITE_MIGRATIONS) {
      if (step.to <= from) continue;
      step.up(db);
      db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema_version'`).run(String(step.to));
    }
  }).immediate();
}

function openDatabase(path: string): Database.Database {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st?.isDirectory()) throw new StoreError(`${path} is a directory, not a warden event store file`);
    if (!st) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const db = new Database(path);
    if (!st) chmodSync(path, 0o600); // the log holds commands and their output: owner only
    return db;
  } catch (error) {
    if (error instanceof StoreError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new StoreError(`cannot open the event store ${path}: ${code ?? (error as Error).message}`, { cause: error });
  }
}

/** Opens (creating when missing) the store file at `path`. Does I/O; throws StoreError as described above. */
export function createSqliteEventStore(path: string): EventStore {
  const file = resolve(path);
  const db = openDatabase(file);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Look before touching anything: switching a foreign database to WAL would already modify it.
    const found = inspect(db);
    if (found.kind === 'foreign') throw new StoreError(`${file} is not a warden event store: ${found.why}`);
    if (found.kind === 'store' && found.version > SQLITE_SCHEMA_VERSION) {
      throw new StoreError(`${file} was created by a newer warden (schema ${found.version}), this warden knows ${SQLITE_SCHEMA_VERSION}`);
    }
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreError(`${file}: cannot switch the store to WAL mode (got ${String(mode)})`);
    db.pragma('synchronous = FULL');
    if (found.kind !== 'store' || found.version < SQLITE_SCHEMA_VERSION) migrate(db, file);
  } catch (error) {
    db.close();
    throw mapError(file, error);
  }
  return new SqliteEventStore(db, file);
}

class SqliteEventStore implements EventStore {
  readonly location: string;
  private readonly key: string;
  private readonly pumps = new Set<SubscriptionPump>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private readonly stmt: {
    head: Database.Statement<[], { value: string }>;
    last: Database.Statement<[], { position: number; hash: string }>;
    streamVersion: Database.Statement<[string], { v: number | null }>;
    insert: Database.Statement<[number, string, number, string, string, string, string, string, string]>;
    setHead: Database.Statement<[string]>;
    read: Database.Statement<[string], Row>;
    readSession: Database.Statement<[string], Row>;
    unfinished: Database.Statement<[], { stream: string }>;
    readAll: Database.Statement<[number, number], Row>;
    max: Database.Statement<[], { m: number | null }>;
    iterate: Database.Statement<[], Row>;
  };
  private readonly appendTx: Database.Transaction<(stream: string, expectedVersion: number, events: NewEvent[]) => StoredEvent[]>;
  private readonly groupTx: Database.Transaction<(batch: PendingAppend[], outcomes: Array<StoredEvent[] | { error: unknown }>) => void>;
  private pendingAppends: PendingAppend[] = [];

  constructor(
    private readonly db: Database.Database,
    file: string,
  ) {
    this.location = file;
    this.key = realpathSync(file);
    this.stmt = {
      head: db.prepare(`SELECT value FROM meta WHERE key = 'head'`),
      last: db.prepare(`SELECT position, hash FROM events ORDER BY position DESC LIMIT 1`),
      streamVersion: db.prepare(`SELECT max(version) AS v FROM events WHERE stream = ?`),
      insert: db.prepare(
        `INSERT INTO events (position, stream, version, session_id, type, data, time, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      setHead: db.prepare(`UPDATE meta SET value = ? WHERE key = 'head'`),
      read: db.prepare(`SELECT * FROM events WHERE stream = ? ORDER BY version`),
      readSession: db.prepare(`SELECT * FROM events WHERE session_id = ? ORDER BY position`),
      unfinished: db.prepare(SQLITE_UNFINISHED_STREAMS),
      readAll: db.prepare(`SELECT * FROM events WHERE position >= ? ORDER BY position LIMIT ?`),
      max: db.prepare(`SELECT max(position) AS m FROM events`),
      iterate: db.prepare(`SELECT * FROM events ORDER BY position`),
    };
    const appendTx = db.transaction((stream: string, expectedVersion: number, events: NewEvent[]) => {
      const head = this.recordedHead();
      const last = this.stmt.last.get();
      // Refuse to extend a log whose end no longer matches what warden last wrote: the chain would
      // otherwise paper over deleted or forged trailing events. Fail closed; `warden verify` says where.
      if ((last?.position ?? 0) !== head.position || (last && last.hash !== head.hash)) {
        throw new StoreError(`${this.location}: the last event does not match the recorded head (the log was altered outside warden); run warden verify`);
      }
      const actual = this.stmt.streamVersion.get(stream)?.v ?? 0;
      if (actual !== expectedVersion) throw new ExpectedVersionConflictError(stream, expectedVersion, actual);
      const stored = stampEvents(head, stream, actual, events, new Date().toISOString());
      for (const e of stored) {
        this.stmt.insert.run(e.position, e.stream, e.version, e.sessionId, e.type, JSON.stringify(e.data), e.time, e.prevHash, e.hash);
      }
      const end = stored[stored.length - 1]!;
      this.stmt.setHead.run(encodeHead(end.position, end.hash));
      return stored;
    });
    this.appendTx = appendTx;
    // A nested transaction function runs as a SAVEPOINT: a failing append rolls back alone.
    this.groupTx = db.transaction((batch: PendingAppend[], outcomes: Array<StoredEvent[] | { error: unknown }>) => {
      for (const a of batch) {
        try {
          outcomes.push(appendTx(a.stream, a.expectedVersion, a.events));
        } catch (error) {
          // A broken log (head mismatch) or a failing disk fails the whole group; a conflict only its append.
          if (!(error instanceof ExpectedVersionConflictError)) throw error;
          outcomes.push({ error });
        }
      }
    });
    this.onLocalAppend = this.onLocalAppend.bind(this);
    localAppends.on(this.key, this.onLocalAppend);
  }

  private recordedHead(): ChainHead {
    const raw = this.stmt.head.get()?.value;
    const head = raw === undefined ? undefined : decodeHead(raw);
    if (!head) throw new StoreError(`${this.location}: the recorded head is missing or malformed (the store was altered outside warden)`);
    return head;
  }

  private guard<T>(fn: () => T): T {
    if (this.closed) throw new StoreError(`${this.location}: the store is closed`);
    try {
      return fn();
    } catch (error) {
      throw mapError(this.location, error);
    }
  }

  /**
   * Group commit: appends made in the same turn of the event loop (concurrent requests) share one
   * IMMEDIATE transaction and so one fsync; each runs in its own savepoint, so a version conflict or
   * an invalid batch fails alone and writes nothing, while the others commit. No append resolves
   * before the shared commit is durable.
   */
  append(stream: string, expectedVersion: number, events: NewEvent[]): Promise<AppendResult> {
    let valid: NewEvent[];
    try {
      valid = validateAppend(stream, expectedVersion, events);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pendingAppends.push({ stream, expectedVersion, events: valid, resolve, reject });
      if (this.pendingAppends.length === 1) setImmediate(() => this.commitPending());
    });
  }

  private commitPending(): void {
    const batch = this.pendingAppends;
    this.pendingAppends = [];
    if (batch.length === 0) return;
    const outcomes: Array<StoredEvent[] | { error: unknown }> = [];
    try {
      // Another process holding the write lock is waited for by SQLite's busy handler (busy_timeout).
      this.guard(() => this.groupTx.immediate(batch, outcomes));
    } catch (error) {
      for (const a of batch) a.reject(error);
      return;
    }
    localAppends.emit(this.key);
    batch.forEach((a, i) => {
      const outcome = outcomes[i]!;
      if (!Array.isArray(outcome)) {
        a.reject(outcome.error);
        return;
      }
      const end = outcome[outcome.length - 1]!;
      a.resolve({ nextExpectedVersion: end.version, lastPosition: end.position, events: outcome });
    });
  }

  async read(stream: string): Promise<StoredEvent[]> {
    return this.guard(() => this.stmt.read.all(stream).map(rowToEvent));
  }

  async readAll(fromPosition = 1, limit?: number): Promise<StoredEvent[]> {
    return this.readPage(fromPosition, limit ?? -1);
  }

  async readSession(sessionId: string): Promise<StoredEvent[]> {
    return this.guard(() => this.stmt.readSession.all(sessionId).map(rowToEvent));
  }

  async unfinishedStreams(): Promise<string[]> {
    return this.guard(() => this.stmt.unfinished.all().map((r) => r.stream));
  }

  private readPage(fromPosition: number, limit: number): StoredEvent[] {
    return this.guard(() => this.stmt.readAll.all(Math.max(1, Math.floor(fromPosition)), limit).map(rowToEvent));
  }

  async headPosition(): Promise<number> {
    return this.guard(() => this.stmt.max.get()?.m ?? 0);
  }

  subscribe(fromPosition: number, onEvent: (event: StoredEvent) => void, onError?: (error: unknown) => void): Subscription {
    if (this.closed) throw new StoreError(`${this.location}: the store is closed`);
    const pump: SubscriptionPump = new SubscriptionPump(
      fromPosition,
      (from, limit) => this.readPage(from, limit),
      onEvent,
      onError,
      () => {
        this.pumps.delete(pump);
        if (this.pumps.size === 0) this.stopPolling();
      },
    );
    this.pumps.add(pump);
    this.startPolling();
    // Catch-up starts after subscribe() has returned its handle.
    setImmediate(() => pump.poke());
    return pump;
  }

  private onLocalAppend(): void {
    for (const pump of this.pumps) pump.poke();
  }

  private startPolling(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      let max: number;
      try {
        max = this.stmt.max.get()?.m ?? 0;
      } catch {
        // a busy or failing read this tick: the next tick (or the pump's own read) will report it
        return;
      }
      for (const pump of this.pumps) if (max >= pump.nextPosition) pump.poke();
    }, POLL_MS);
    this.timer.unref();
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async verify(): Promise<ChainVerdict> {
    return this.guard(() => {
      // One read transaction, so concurrent appends cannot make the rows and the head disagree.
      return this.db.transaction(() => {
        const walker = new ChainWalker();
        for (const row of this.stmt.iterate.iterate()) {
          let event: StoredEvent;
          try {
            event = rowToEvent(row);
          } catch {
            return { ok: false, checked: 0, firstBadPosition: row.position, reason: 'event data is not valid JSON (edited)' };
          }
          if (!walker.push(event)) break;
        }
        const raw = this.stmt.head.get()?.value;
        const head = raw === undefined ? undefined : decodeHead(raw);
        if (raw !== undefined && !head) return { ok: false, checked: 0, firstBadPosition: 1, reason: 'the recorded head is malformed' };
        if (raw === undefined) return { ...walker.finish(undefined), ok: false, reason: 'the recorded head is missing' };
        return walker.finish(head);
      }).deferred();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Appends already accepted are committed (or rejected) before the file is closed, never dropped.
    this.commitPending();
    for (const pump of [...this.pumps]) pump.close();
    this.stopPolling();
    localAppends.off(this.key, this.onLocalAppend);
    this.closed = true;
    this.db.close();
  }
}
