/**
 * The embedded EventStore: one SQLite file (better-sqlite3, WAL, synchronous=FULL so an append that
 * has returned survives a crash or power loss). Every append is one IMMEDIATE transaction: it takes
 * the database's write lock first, so the stream-version check, the position (head + 1: gap-free,
 * never an AUTOINCREMENT hole after a rollback) and the hash-chain link are all computed under the
 * lock, across processes. Subscribers hear in-process appends at once and other processes' appends
 * through a light poll of max(position). A file that is not a warden store, is corrupt, or comes
 * from a newer warden is a StoreError naming the path; nothing is ever reset or overwritten. The
 * file's identity (device and inode) is taken at open and checked before and after every commit and
 * on each poll tick: a store deleted or replaced under warden is a StoreLostError from then on (no
 * append, no read), since SQLite would otherwise keep writing to the unlinked file nobody reads.
 * Does I/O (the file); the pure parts live in appendPlan.ts, chainWalker.ts, subscriptionPump.ts.
 */
import Database from 'better-sqlite3';
import { EventEmitter } from 'eventemitter3';
import { accessSync, chmodSync, constants as fsConstants, closeSync, copyFileSync, existsSync, linkSync, openSync, readSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ExpectedVersionConflictError, StoreError, StoreLostError } from '../errors.ts';
import { logger } from '../log.ts';
import { stampEvents, validateAppend, type ChainHead } from './appendPlan.ts';
import { ChainWalker } from './chainWalker.ts';
import { checkLink } from './hashChain.ts';
import { quickCheckMemo, storeStamps, type QuickCheckMemo, type StoreStamps } from './quickCheckMemo.ts';
import type { AppendResult, ChainVerdict, EventStore, Subscription } from './eventStore.ts';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, SQLITE_UNFINISHED_STREAMS, STORE_FORMAT, decodeHead, encodeHead } from './migrations/sqlite.ts';
import { PumpSet } from './subscriptionPump.ts';
import type { Decision } from '../policy.ts';
import type { NewEvent, StoredEvent } from './types.ts';

/** How often other processes' appends are looked for: one indexed max() per tick, only while subscribed. */
const POLL_MS = 100;
/**
 * Start-up check bounds. SQLite's quick_check reads every page (about 4 ms per MB here, measured on
 * a 95 MB store: 340 ms): run on stores up to this size, so starting stays under a second or two;
 * a larger store gets only the chain-tail check and `warden verify` does the rest.
 */
const QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024;
/** How many of the last events have their links and hashes recomputed at start. */
const TAIL_EVENTS = 256;
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

/**
 * mapError, and at open also an I/O error or a full disk: SQLite reports a full file system as a bare
 * "disk I/O error" (its WAL index cannot grow), printed as a stack trace. Only at open: during the
 * start-up check a StoreError is read as "the store is damaged", which an I/O error does not say.
 */
function mapOpenError(path: string, error: unknown): unknown {
  const code = sqliteCode(error);
  if (code === 'SQLITE_FULL' || code?.startsWith('SQLITE_IOERR')) {
    return new StoreError(`cannot open the event store ${path}: ${code} (${(error as Error).message}); is the disk full or failing?`, { cause: error });
  }
  return mapError(path, error);
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

export interface SqliteOpenOptions {
  /**
   * Create the file (and its directory) when it is missing. Commands that only read or decide
   * (`audit`, `verify`, `replay`, `approve`, `inspect`) pass false: a mistyped path is an error,
   * never an empty store reported as "ok: 0 events". Default true (the commands that record).
   */
  create?: boolean;
  /**
   * The folder where this user's start-up checks of store files are remembered (quickCheckMemo.ts),
   * so a store left as warden closed it skips SQLite's quick_check for a while; none: always checked.
   */
  checkMemoDir?: string;
}

/**
 * The missing directories of `dir`, made one level at a time from the deepest one that exists.
 * Node's recursive mkdirSync spins forever on a path under /proc (`/proc/nope/x.db`: mkdir keeps
 * answering ENOENT); this walk is bounded by the path's depth and fails on the first error.
 */
function makeParents(dir: string): void {
  const missing: string[] = [];
  let at = dir;
  for (;;) {
    const st = statSync(at, { throwIfNoEntry: false });
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`${at} is not a directory`), { code: 'ENOTDIR' });
      break;
    }
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const d of missing.reverse()) mkdirSync(d, { mode: 0o700 });
}

/**
 * Makes a new, empty, current-schema store at `path` in one step: built under a private name beside
 * it, in WAL mode, then hard-linked into place. Built in place, the new file is visible while its
 * first transactions still use a rollback journal (until it switches to WAL), and a second process
 * opening it then (two hooks of one agent starting at once on a fresh machine) found a `-journal`
 * beside a file whose header already said WAL and refused it as planted. Linked, every process sees
 * either no file or a whole WAL store; link(2) never replaces, so when another process won the race
 * its store is kept and this one's copy is dropped. A file system without hard links gets the old
 * in-place creation.
 */
function createStoreFile(path: string): void {
  const building = join(dirname(path), `.${basename(path)}.creating-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const db = new Database(building);
    try {
      chmodSync(building, 0o600); // the log holds commands and their output: owner only
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new StoreError(`${path}: cannot switch the store to WAL mode (got ${String(mode)})`);
      migrate(db, path);
    } finally {
      db.close(); // the last connection checkpoints the WAL into the file and removes it
    }
    try {
      linkSync(building, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return; // another process created it first: open that one
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw error;
      const db2 = new Database(path);
      db2.close();
      chmodSync(path, 0o600);
    }
  } finally {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${building}${suffix}`, { force: true });
  }
}

/** True when this process may write the file (an auditor with read permission opens it read-only). */
function writable(path: string): boolean {
  try {
    accessSync(path, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A file this process may only read. SQLite reads a WAL-mode file only where it can make the
 * `-shm` index beside it; in a directory the auditor cannot write, a file at rest (no `-wal`: every
 * event is in the main file) is copied to a private temporary directory and the copy is read.
 * With a `-wal` present a writer is live and its index exists, so the file is read in place.
 */
function openReadOnly(path: string): { db: Database.Database; cleanup?: () => void } {
  const inPlace = new Database(path, { readonly: true, fileMustExist: true });
  try {
    inPlace.prepare(`SELECT count(*) FROM sqlite_master`).get();
    return { db: inPlace };
  } catch (error) {
    inPlace.close();
    const code = sqliteCode(error);
    if (code !== 'SQLITE_READONLY_DIRECTORY' && code !== 'SQLITE_CANTOPEN') throw error;
    if (existsSync(`${path}-wal`)) throw error;
  }
  const dir = mkdtempSync(join(tmpdir(), 'warden-readonly-'));
  const copy = join(dir, 'events.db');
  copyFileSync(path, copy);
  chmodSync(copy, 0o600);
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    return { db: new Database(copy, { readonly: true, fileMustExist: true }), cleanup };
  } catch (error) {
    cleanup();
    throw error;
  }
}

const cleanups = new WeakMap<Database.Database, () => void>();

/**
 * Whether the database file's header says WAL (bytes 18 and 19 of the 100-byte header are 2). An
 * unreadable or short file is taken as WAL: for the journal check that is the stricter answer.
 */
function inWalMode(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const header = Buffer.alloc(20);
      const n = readSync(fd, header, 0, 20, 0);
      if (n < 20) return statSync(path).size > 0;
      return header[18] === 2 && header[19] === 2;
    } finally {
      closeSync(fd);
    }
  } catch {
    return true;
  }
}

function openDatabase(path: string, create: boolean): Database.Database {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st?.isDirectory()) throw new StoreError(`${path} is a directory, not a warden event store file`);
    // A device or FIFO (the store path replaced by a symlink to /dev/null) fails deep in SQLite with a bare I/O error.
    if (st && !st.isFile()) throw new StoreError(`${path} is not a regular file (a device, FIFO or socket), not a warden event store file`);
    // A planted rollback journal (red team, issue #13): SQLite plays a "hot" `-journal` back into the
    // file on the first read of any new connection, before it looks at the WAL, so 512 bytes written
    // by a command that can create files beside the store (a store inside the workspace) truncate it
    // and every record is lost. A warden store is always in WAL mode and never has a journal of its
    // own with content, so one is refused, not played back: the person looks at it and removes it.
    // Only once the file says it is in WAL mode: while a store is being created (another process's
    // first transaction, before it switches to WAL) SQLite's own journal is legitimately there.
    const journal = statSync(`${path}-journal`, { throwIfNoEntry: false });
    if (st && journal && (!journal.isFile() || journal.size > 0) && inWalMode(path)) {
      throw new StoreError(
        `${path}-journal exists beside the event store: a warden store keeps no rollback journal (it uses WAL), and opening the store would let SQLite write this file into it. Not opened; check where it came from (a command that could write that directory may have planted it) and remove it`,
      );
    }
    if (!st && !create) {
      throw new StoreError(`no warden event store at ${path}: the file does not exist (nothing was created; check --store or WARDEN_STORE)`);
    }
    if (st && !writable(path)) {
      const { db, cleanup } = openReadOnly(path);
      if (cleanup) cleanups.set(db, cleanup);
      return db;
    }
    if (!st) {
      try {
        makeParents(dirname(path));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new StoreError(`cannot create the directory for the event store ${path}: ${code ?? (error as Error).message} (check --store or WARDEN_STORE)`, { cause: error });
      }
    }
    if (!st) createStoreFile(path);
    return new Database(path);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new StoreError(`cannot open the event store ${path}: ${code ?? (error as Error).message}`, { cause: error });
  }
}

/**
 * Opens the store file at `path` (creating it when missing, unless `create` is false). A file this
 * process may not write is opened read-only: reading, verifying and auditing work, appends fail
 * with "read-only". Does I/O; throws StoreError as described above.
 */
export function createSqliteEventStore(path: string, options: SqliteOpenOptions = {}): EventStore {
  const file = resolve(path);
  const stampsAtOpen = options.checkMemoDir === undefined ? undefined : storeStamps(file);
  const db = openDatabase(file, options.create !== false);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Look before touching anything: switching a foreign database to WAL would already modify it.
    const found = inspect(db);
    if (found.kind === 'foreign') throw new StoreError(`${file} is not a warden event store: ${found.why}`);
    if (found.kind === 'store' && found.version > SQLITE_SCHEMA_VERSION) {
      throw new StoreError(`${file} was created by a newer warden (schema ${found.version}), this warden knows ${SQLITE_SCHEMA_VERSION}`);
    }
    if (found.kind === 'empty' && options.create === false) {
      throw new StoreError(`${file} is an empty SQLite file, not a warden event store (nothing was written to it)`);
    }
    const readOnly = db.readonly || cleanups.has(db);
    if (readOnly) {
      // Read-only: nothing may be changed, so an old schema cannot be brought up to date here.
      if (found.kind !== 'store' || found.version !== SQLITE_SCHEMA_VERSION) {
        throw new StoreError(`${file} is read-only here and needs an upgrade (schema ${found.kind === 'store' ? found.version : 'none'}, this warden knows ${SQLITE_SCHEMA_VERSION}); open it once with write access`);
      }
      return new SqliteEventStore(db, file, { readOnly: true });
    }
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreError(`${file}: cannot switch the store to WAL mode (got ${String(mode)})`);
    db.pragma('synchronous = FULL');
    if (found.kind !== 'store' || found.version < SQLITE_SCHEMA_VERSION) migrate(db, file);
  } catch (error) {
    db.close();
    cleanups.get(db)?.();
    throw mapOpenError(file, error);
  }
  return new SqliteEventStore(db, file, options.checkMemoDir === undefined || stampsAtOpen === undefined ? {} : { checkMemo: { dir: options.checkMemoDir, stampsAtOpen } });
}

class SqliteEventStore implements EventStore {
  readonly location: string;
  private readonly key: string;
  /** The file opened, by device and inode. */
  private readonly identity: { dev: number; ino: number };
  private lost: StoreLostError | null = null;
  /** Where this store's quick_check is remembered (null: always checked), and when the check this process relies on ran. */
  private readonly checkMemo: { memo: QuickCheckMemo; seen: StoreStamps } | null;
  private quickCheckedAt: number | null = null;
  private readonly pumps = new PumpSet((from, limit) => this.readPage(from, limit), { start: () => this.startPolling(), stop: () => this.stopPolling() });
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
    readSessionDecided: Database.Statement<[string, string, string], Row>;
    unfinished: Database.Statement<[], { stream: string }>;
    readAll: Database.Statement<[number, number], Row>;
    max: Database.Statement<[], { m: number | null }>;
    iterate: Database.Statement<[], Row>;
  };
  private readonly appendTx: Database.Transaction<(stream: string, expectedVersion: number, events: NewEvent[]) => StoredEvent[]>;
  private readonly groupTx: Database.Transaction<(batch: PendingAppend[], outcomes: Array<StoredEvent[] | { error: unknown }>) => void>;
  private pendingAppends: PendingAppend[] = [];

  /** True when this process may only read the file: appends fail before touching anything. */
  private readonly readOnly: boolean;

  constructor(
    private readonly db: Database.Database,
    file: string,
    options: { readOnly?: boolean; checkMemo?: { dir: string; stampsAtOpen: StoreStamps } } = {},
  ) {
    this.readOnly = options.readOnly === true;
    this.location = file;
    this.key = realpathSync(file);
    this.checkMemo = options.checkMemo === undefined ? null : { memo: quickCheckMemo(options.checkMemo.dir, this.key), seen: options.checkMemo.stampsAtOpen };
    const st = statSync(file);
    this.identity = { dev: st.dev, ino: st.ino };
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
      readSessionDecided: db.prepare(
        `SELECT * FROM events WHERE session_id = ? AND stream IN (SELECT stream FROM events WHERE session_id = ? AND type = 'DecisionRecorded' AND json_extract(data, '$.decision') IN (SELECT value FROM json_each(?))) ORDER BY position`,
      ),
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

  /**
   * Whether the path still names the file that was opened. Once it does not, the store is lost for
   * good: every pending append is refused, subscribers hear it, and the error is logged once.
   */
  private checkFile(): StoreLostError | null {
    if (this.lost) return this.lost;
    let why: string | null = null;
    try {
      const st = statSync(this.location);
      if (st.dev !== this.identity.dev || st.ino !== this.identity.ino) why = 'replaced by another file';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      why = code === 'ENOENT' ? 'deleted' : `no longer readable (${code ?? String(error)})`;
    }
    if (why === null) return null;
    this.lost = new StoreLostError(
      `the event store ${this.location} was ${why} while warden was running; nothing more is recorded or run through it ` +
        `(restart warden; \`warden verify\` checks what the file holds)`,
    );
    logger().error({ store: this.location }, this.lost.message);
    const pending = this.pendingAppends;
    this.pendingAppends = [];
    for (const a of pending) a.reject(this.lost);
    this.pumps.reportAll(this.lost);
    return this.lost;
  }

  private guard<T>(fn: () => T): T {
    if (this.closed) throw new StoreError(`${this.location}: the store is closed`);
    const lost = this.checkFile();
    if (lost) throw lost;
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
    // a file this process may only read: say so before anything is attempted (SQLite would refuse too)
    if (this.readOnly) return Promise.reject(new StoreError(`the event store ${this.location} is read-only here (this user may read it, not write it)`));
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
      // Replaced between the check and the commit: what was just written went to a file nobody reads.
      const lost = this.checkFile();
      if (lost) throw lost;
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

  async readSessionDecided(sessionId: string, decisions: readonly Decision[]): Promise<StoredEvent[]> {
    return this.guard(() => this.stmt.readSessionDecided.all(sessionId, sessionId, JSON.stringify(decisions)).map(rowToEvent));
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
    return this.pumps.subscribe(fromPosition, onEvent, onError);
  }

  private onLocalAppend(): void {
    this.pumps.pokeAll();
  }

  private startPolling(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.checkFile()) {
        this.stopPolling();
        return;
      }
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

  async checkAtStart(): Promise<ChainVerdict> {
    return this.guard(() => {
      let quickCheck: ChainVerdict['quickCheck'] = 'too-large';
      let checkedAt: number | null = null;
      if (statSync(this.location).size <= QUICK_CHECK_MAX_BYTES) {
        checkedAt = this.checkMemo?.memo.lastCheck(this.checkMemo.seen) ?? null;
        quickCheck = 'remembered';
        if (checkedAt === null) {
          checkedAt = Date.now();
          quickCheck = 'ran';
          // A damaged page makes this either report problems or throw SQLITE_CORRUPT (mapped by guard).
          const found = (this.db.pragma('quick_check(5)') as Array<Record<string, string>>).map((r) => Object.values(r)[0]);
          if (found.length !== 1 || found[0] !== 'ok') return { ok: false, checked: 0, reason: `SQLite's quick_check found damage: ${found.join('; ')}`, quickCheck };
        }
      }
      const tail = this.checkTail();
      // Only a store that passed both checks is remembered at close as checked (quickCheckMemo.ts).
      if (tail.ok && checkedAt !== null) this.quickCheckedAt = checkedAt;
      return { ...tail, quickCheck };
    });
  }

  /** The last TAIL_EVENTS events' links and hashes, and the head they end at. */
  private checkTail(): ChainVerdict {
    return this.db.transaction((): ChainVerdict => {
      const rows = this.db.prepare(`SELECT * FROM events ORDER BY position DESC LIMIT ?`).all(TAIL_EVENTS) as Row[];
      rows.reverse();
      let prev: StoredEvent | null = null;
      for (const row of rows) {
        let event: StoredEvent;
        try {
          event = rowToEvent(row);
        } catch {
          return { ok: false, checked: 0, firstBadPosition: row.position, reason: 'event data is not valid JSON (edited)' };
        }
        // The first event of the tail is checked against its own stored link: its hash is recomputed.
        const bad = checkLink(prev?.hash ?? event.prevHash, (prev?.position ?? event.position - 1) + 1, event);
        if (bad) return { ok: false, checked: rows.length, firstBadPosition: bad.position, reason: bad.reason };
        prev = event;
      }
      const raw = this.stmt.head.get()?.value;
      const head = raw === undefined ? undefined : decodeHead(raw);
      if (!head) return { ok: false, checked: rows.length, reason: 'the recorded head is missing or malformed' };
      if ((prev?.position ?? 0) !== head.position || (prev !== null && prev.hash !== head.hash)) {
        return { ok: false, checked: rows.length, firstBadPosition: prev?.position ?? 1, reason: 'the last event does not match the recorded head' };
      }
      return { ok: true, checked: rows.length };
    }).deferred();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Appends already accepted are committed (or rejected) before the file is closed, never dropped.
    this.commitPending();
    this.pumps.closeAll();
    this.stopPolling();
    localAppends.off(this.key, this.onLocalAppend);
    this.closed = true;
    this.db.close();
    cleanups.get(this.db)?.();
    // the file as this process leaves it, after its own appends (and the last connection's checkpoint)
    if (this.quickCheckedAt !== null && this.lost === null && !this.readOnly) this.checkMemo?.memo.record(this.quickCheckedAt);
  }
}
