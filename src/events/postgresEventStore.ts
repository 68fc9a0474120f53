/**
 * The shared EventStore on PostgreSQL (`pg`), for many hosts recording into one audit trail.
 *
 * Ordering and the chain under concurrent writers: every append is one call of the server-side
 * function warden_append() (migrations/postgres.ts, v3), in its own transaction, which first takes a
 * transaction-scoped advisory lock (pg_advisory_xact_lock). Holding it, the append reads the
 * recorded head, assigns position = head + 1 onward, links the first hash to the head's hash, and
 * updates the head, so appends from any number of processes and hosts form one chain with gap-free
 * positions; the lock is held for one server-side call and the commit, never across round trips. A sequence would not do: its values are handed out outside the
 * transaction, so a rollback leaves a hole and two writers could commit out of order, and a
 * subscriber following positions would skip the later-committed lower one. The lock is released
 * only after the commit is visible, so position N is visible before anyone can write N + 1: a reader
 * that sees N + 1 also sees N. The UNIQUE (stream, version) constraint backs optimistic
 * concurrency even if the lock were bypassed.
 *
 * Live subscriptions: each append NOTIFYs (delivered at commit); a dedicated client LISTENs and
 * pokes every subscription, which re-reads from its last delivered position, so notifications that
 * are late, merged or lost (during a reconnect) cost nothing. A slow safety poll covers the rest.
 * Server restarts: the pool drops dead clients and opens new ones; the LISTEN client reconnects
 * with backoff and re-reads. Connection attempts are bounded, so a down server is an error, never
 * a hang. Does I/O.
 */
// Types only: the module is imported when a store is opened (createPostgresEventStore), so a
// bundle that inlines this file (dist/cli/main.<command>.js) does not load `pg` at start-up, which
// costs ~40 ms of a command that never names a postgres:// store (esbuild hoists a bundled
// module's static imports of an external package to the bundle's top).
import type pg from 'pg';
import { messageOf, ExpectedVersionConflictError, StoreError } from '../errors.ts';
import { validateAppend } from './appendPlan.ts';
import { canonicalJson } from './hashChain.ts';
import { ChainWalker } from './chainWalker.ts';
import type { AppendResult, ChainVerdict, EventStore, Subscription } from './eventStore.ts';
import { CHANNEL, INIT_LOCK, POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, POSTGRES_UNFINISHED_STREAMS, STORE_FORMAT } from './migrations/postgres.ts';
import { decodeHead } from './migrations/sqlite.ts';
import { redactUrl } from './storeLocation.ts';
import { PumpSet } from './subscriptionPump.ts';
import type { Decision } from '../policy.ts';
import type { NewEvent, StoredEvent } from './types.ts';

const CONNECT_TIMEOUT_MS = 5_000;
/**
 * Client-side limit on one query of the request path (append, stream and paged reads). A server
 * that hangs or is cut off keeps its TCP connection open, so a query on a pooled connection would
 * otherwise wait for hours and hold the request (and the agent) with it; this fails it closed.
 */
const QUERY_TIMEOUT_MS = 10_000;
const SAFETY_POLL_MS = 2_000;
const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5_000;
const VERIFY_PAGE = 5_000;

export interface PostgresStoreOptions {
  /** Maximum pooled connections (default 10). */
  poolSize?: number;
  connectTimeoutMs?: number;
  /** Give up on a request-path query after this long (default 10 s; 0: wait forever). */
  queryTimeoutMs?: number;
  /**
   * Create warden's tables in a database that has none (default true). The read and decide
   * commands pass false: a wrong database is an error, never a new empty store.
   */
  create?: boolean;
}

interface Row {
  position: string;
  stream: string;
  version: number;
  session_id: string;
  type: string;
  data: unknown;
  time: string;
  prev_hash: string;
  hash: string;
}

function rowToEvent(r: Row): StoredEvent {
  return {
    type: r.type,
    data: r.data,
    stream: r.stream,
    sessionId: r.session_id,
    version: r.version,
    position: Number(r.position),
    time: r.time,
    prevHash: r.prev_hash,
    hash: r.hash,
  } as StoredEvent;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** One clear StoreError for infrastructure failures; our own errors pass through. */
export function mapPostgresError(where: string, error: unknown): unknown {
  if (error instanceof StoreError || error instanceof ExpectedVersionConflictError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = messageOf(error);
  const say = (what: string) => new StoreError(`PostgreSQL store ${where}: ${what}`, { cause: error });
  if (typeof code === 'string') {
    if (UNREACHABLE.has(code)) return say(`cannot reach the server (${code})`);
    if (code === '28P01' || code === '28000') return say(`authentication failed (${message})`);
    if (code === '3D000') return say(`the database does not exist (${message})`);
    if (code === '42501') {
      return say(
        `permission denied (${message}); the role needs CREATE on the schema for the first use, then SELECT, INSERT and UPDATE on warden_events and warden_meta`,
      );
    }
    if (code === '57P01' || code === '57P02' || code === '57P03') return say(`the server is shutting down or starting up (${message})`);
    if (code.startsWith('08')) return say(`connection failure (${message})`);
  }
  if (/^Query read timeout$/.test(message)) return say('no answer from the server in time (it is hung or unreachable)');
  if (/timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(message)) {
    return say(`cannot reach the server (${message})`);
  }
  return say(message);
}

/**
 * Connects, creates or migrates the schema, and returns the store. Throws StoreError for a bad URL,
 * an unreachable server, failed authentication, missing permissions, a foreign or newer schema.
 */
export async function createPostgresEventStore(url: string, options: PostgresStoreOptions = {}): Promise<EventStore> {
  const where = redactUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new StoreError(`PostgreSQL store ${where}: not a valid connection URL (expected postgres://user@host:port/database)`, { cause: error });
  }
  if (!/^postgres(ql)?:$/i.test(parsed.protocol) || parsed.pathname.length <= 1) {
    throw new StoreError(`PostgreSQL store ${where}: not a valid connection URL (expected postgres://user@host:port/database)`);
  }
  const config: pg.PoolConfig = {
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    keepAlive: true,
    application_name: 'warden',
  };
  const { default: driver } = await import('pg');
  const store = new PostgresEventStore(driver, config, where, options.queryTimeoutMs ?? QUERY_TIMEOUT_MS, options.create !== false);
  try {
    await store.init();
  } catch (error) {
    await store.close();
    throw mapPostgresError(where, error);
  }
  return store;
}

class PostgresEventStore implements EventStore {
  readonly location: string;
  private readonly pool: pg.Pool;
  private readonly pumps = new PumpSet((from, limit) => this.readAll(from, limit), { start: () => this.startLive(), stop: () => this.stopLive() });
  private listener: pg.Client | undefined;
  private listenerState: 'idle' | 'connecting' | 'listening' = 'idle';
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly driver: typeof pg,
    private readonly config: pg.PoolConfig,
    where: string,
    private readonly queryTimeoutMs: number,
    private readonly create = true,
  ) {
    this.location = where;
    this.pool = new driver.Pool(config);
    // An idle pooled client whose server went away emits here; the pool has already dropped it and
    // the next query opens a fresh connection. Without a listener the process would crash.
    this.pool.on('error', () => {});
  }

  async init(): Promise<void> {
    await this.transaction(`BEGIN; SELECT pg_advisory_xact_lock(${INIT_LOCK})`, async (client) => {
      // Hashes are computed over UTF-8 in JS and in warden_append(): the database must agree.
      const enc = await client.query<{ server_encoding: string }>('SHOW server_encoding');
      if (enc.rows[0]?.server_encoding !== 'UTF8') {
        throw new StoreError(`PostgreSQL store ${this.location}: the database encoding is ${enc.rows[0]?.server_encoding}, warden needs UTF8`);
      }
      const regs = await client.query<{ meta: string | null; events: string | null }>(
        `SELECT to_regclass('warden_meta')::text AS meta, to_regclass('warden_events')::text AS events`,
      );
      const { meta, events } = regs.rows[0]!;
      let from = 0;
      if (!meta && !events && !this.create) {
        throw new StoreError(`no warden event store in the PostgreSQL database ${this.location}: it has no warden tables (nothing was created; check --store or WARDEN_STORE)`);
      }
      if (meta || events) {
        if (!meta || !events) throw new StoreError(`PostgreSQL store ${this.location} is not a warden event store: it has only one of warden_meta and warden_events`);
        const rows = await client.query<{ key: string; value: string }>(
          `SELECT key, value FROM warden_meta WHERE key IN ('format', 'schema_version')`,
        );
        const m = new Map(rows.rows.map((r) => [r.key, r.value]));
        if (m.get('format') !== STORE_FORMAT) {
          throw new StoreError(`PostgreSQL store ${this.location} is not a warden event store: warden_meta has no format = '${STORE_FORMAT}' row`);
        }
        from = Number(m.get('schema_version'));
        if (!Number.isSafeInteger(from) || from < 0) throw new StoreError(`PostgreSQL store ${this.location}: schema_version is not a number`);
        if (from > POSTGRES_SCHEMA_VERSION) {
          throw new StoreError(
            `PostgreSQL store ${this.location} was created by a newer warden (schema ${from}), this warden knows ${POSTGRES_SCHEMA_VERSION}`,
          );
        }
      }
      for (const step of POSTGRES_MIGRATIONS) {
        if (step.to <= from) continue;
        await step.up(client);
        await client.query(`UPDATE warden_meta SET value = $1 WHERE key = 'schema_version'`, [String(step.to)]);
      }
    });
  }

  /**
   * Runs `fn` on a checked-out client inside BEGIN … COMMIT/ROLLBACK. A checked-out pg client has no
   * 'error' listener of the pool's, and a server shutdown while it is held would otherwise crash the
   * process; the listener here records the failure and the client is destroyed, not reused.
   */
  private async transaction<T>(begin: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.checkOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw mapPostgresError(this.location, error);
    }
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query(begin);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (!(error instanceof StoreError) && !(error instanceof ExpectedVersionConflictError)) broken ??= error as Error;
      await client.query('ROLLBACK').catch((e: Error) => {
        broken ??= e;
      });
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError(`PostgreSQL store ${this.location}: the store is closed`);
  }

  /** `bounded: false` for reads that may legitimately take long (the whole log at once). */
  private async query<R extends pg.QueryResultRow>(config: pg.QueryConfig, bounded = true): Promise<pg.QueryResult<R>> {
    this.checkOpen();
    try {
      // pg reads query_timeout from the query config too (the typings omit it); on expiry the pool
      // discards that connection, so a late answer cannot be mistaken for a later query's.
      const timeout = bounded ? this.queryTimeoutMs : 0;
      return await this.pool.query<R>(timeout > 0 ? ({ ...config, query_timeout: timeout } as pg.QueryConfig) : config);
    } catch (error) {
      throw mapPostgresError(this.location, error);
    }
  }

  async append(stream: string, expectedVersion: number, events: NewEvent[]): Promise<AppendResult> {
    const valid = validateAppend(stream, expectedVersion, events);
    // One round trip: numbering, hashing and the checks run under the lock in warden_append()
    // (migrations/postgres.ts v3); the implicit transaction commits before the call returns.
    const result = await this.query<{ status: string; actual: number; first_position: string; event_time: string; hashes: string[] }>({
      name: 'warden_append',
      text: `SELECT * FROM warden_append($1, $2, $3, $4, $5, $6, $7)`,
      values: [
        stream,
        expectedVersion,
        valid.map((e) => e.sessionId),
        valid.map((e) => e.type),
        valid.map((e) => JSON.stringify(e.data)),
        valid.map((e, i) => `,${JSON.stringify(stream)},${JSON.stringify(e.sessionId)},${expectedVersion + i + 1},`),
        valid.map((e) => `,${JSON.stringify(e.type)},${canonicalJson(e.data)}]`),
      ],
    }).catch((error: unknown) => {
      if ((error as { cause?: { code?: string } }).cause?.code === '23505') {
        // (stream, version) taken: only possible if someone bypassed the lock; still a conflict.
        throw new ExpectedVersionConflictError(stream, expectedVersion, -1);
      }
      throw error;
    });
    const row = result.rows[0]!;
    if (row.status === 'conflict') throw new ExpectedVersionConflictError(stream, expectedVersion, row.actual);
    if (row.status === 'altered') {
      throw new StoreError(`PostgreSQL store ${this.location}: the last event does not match the recorded head (the log was altered outside warden); run warden verify`);
    }
    if (row.status !== 'ok') throw new StoreError(`PostgreSQL store ${this.location}: the recorded head is missing or malformed (altered outside warden)`);
    const first = Number(row.first_position);
    const stored = valid.map((e, i) => ({
      type: e.type,
      data: e.data,
      stream,
      sessionId: e.sessionId,
      version: expectedVersion + i + 1,
      position: first + i,
      time: row.event_time,
      prevHash: row.hashes[i]!,
      hash: row.hashes[i + 1]!,
    }));
    const appended = stored as StoredEvent[];
    const end = appended[appended.length - 1]!;
    return { nextExpectedVersion: end.version, lastPosition: end.position, events: appended };
  }

  async read(stream: string): Promise<StoredEvent[]> {
    const r = await this.query<Row>({
      name: 'warden_read',
      text: `SELECT * FROM warden_events WHERE stream = $1 ORDER BY version`,
      values: [stream],
    });
    return r.rows.map(rowToEvent);
  }

  async readAll(fromPosition = 1, limit?: number): Promise<StoredEvent[]> {
    const r = await this.query<Row>({
      name: 'warden_read_all',
      text: `SELECT * FROM warden_events WHERE position >= $1 ORDER BY position LIMIT $2`,
      values: [Math.max(1, Math.floor(fromPosition)), limit ?? null],
    }, limit !== undefined);
    return r.rows.map(rowToEvent);
  }

  async readSession(sessionId: string): Promise<StoredEvent[]> {
    const r = await this.query<Row>({
      name: 'warden_read_session',
      text: `SELECT * FROM warden_events WHERE session_id = $1 ORDER BY position`,
      values: [sessionId],
    });
    return r.rows.map(rowToEvent);
  }

  async readSessionDecided(sessionId: string, decisions: readonly Decision[]): Promise<StoredEvent[]> {
    const r = await this.query<Row>({
      name: 'warden_read_session_decided',
      text: `SELECT * FROM warden_events WHERE session_id = $1 AND stream IN (SELECT stream FROM warden_events WHERE session_id = $1 AND type = 'DecisionRecorded' AND data->>'decision' = ANY($2::text[])) ORDER BY position`,
      values: [sessionId, [...decisions]],
    });
    return r.rows.map(rowToEvent);
  }

  async unfinishedStreams(): Promise<string[]> {
    const r = await this.query<{ stream: string }>({ name: 'warden_unfinished_streams', text: POSTGRES_UNFINISHED_STREAMS });
    return r.rows.map((row) => row.stream);
  }

  async headPosition(): Promise<number> {
    const r = await this.query<{ m: string | null }>({ name: 'warden_head_position', text: `SELECT max(position) AS m FROM warden_events` });
    return Number(r.rows[0]?.m ?? 0);
  }

  subscribe(fromPosition: number, onEvent: (event: StoredEvent) => void, onError?: (error: unknown) => void): Subscription {
    this.checkOpen();
    return this.pumps.subscribe(fromPosition, onEvent, onError);
  }

  private startLive(): void {
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => this.pumps.pokeAll(), SAFETY_POLL_MS);
      this.pollTimer.unref();
    }
    if (this.listenerState === 'idle' && !this.reconnectTimer) void this.connectListener();
  }

  private stopLive(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const listener = this.listener;
    this.listener = undefined;
    this.listenerState = 'idle';
    if (listener) {
      listener.removeAllListeners();
      listener.on('error', () => {});
      void listener.end().catch(() => {});
    }
  }

  /** Opens the dedicated LISTEN connection; on any failure schedules another attempt with backoff. */
  private async connectListener(): Promise<void> {
    this.listenerState = 'connecting';
    const client = new this.driver.Client(this.config);
    this.listener = client;
    const lost = (error?: unknown) => {
      if (this.listener !== client) return; // already replaced or stopped
      this.listener = undefined;
      this.listenerState = 'idle';
      client.removeAllListeners();
      client.on('error', () => {});
      void client.end().catch(() => {});
      if (error) this.pumps.reportAll(error);
      this.scheduleReconnect();
    };
    client.on('error', (error) => lost(mapPostgresError(this.location, error)));
    client.on('end', () => lost());
    client.on('notification', () => this.pumps.pokeAll());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.listener !== client) {
        await client.end().catch(() => {});
        return;
      }
      this.listenerState = 'listening';
      this.reconnectDelay = RECONNECT_MIN_MS;
      // Anything appended while we were not listening is read now.
      this.pumps.pokeAll();
    } catch (error) {
      lost(mapPostgresError(this.location, error));
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.pumps.size === 0 || this.reconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed && this.pumps.size > 0 && this.listenerState === 'idle') void this.connectListener();
    }, delay);
    this.reconnectTimer.unref();
  }

  async verify(): Promise<ChainVerdict> {
    try {
      // One snapshot for the rows and the head, so concurrent appends cannot make them disagree.
      const { walker, raw } = await this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
        const walker = new ChainWalker();
        let after = 0;
        for (;;) {
          const page = await client.query<Row>({
            name: 'warden_verify_page',
            text: `SELECT * FROM warden_events WHERE position > $1 ORDER BY position LIMIT ${VERIFY_PAGE}`,
            values: [after],
          });
          let going = true;
          for (const row of page.rows) {
            if (!walker.push(rowToEvent(row))) {
              going = false;
              break;
            }
          }
          if (!going || page.rows.length < VERIFY_PAGE) break;
          after = Number(page.rows[page.rows.length - 1]!.position);
        }
        const head = await client.query<{ value: string }>(`SELECT value FROM warden_meta WHERE key = 'head'`);
        return { walker, raw: head.rows[0]?.value };
      });
      if (raw === undefined) return { ...walker.finish(undefined), ok: false, reason: 'the recorded head is missing' };
      const decoded = decodeHead(raw);
      if (!decoded) return { ok: false, checked: 0, firstBadPosition: 1, reason: 'the recorded head is malformed' };
      return walker.finish(decoded);
    } catch (error) {
      throw mapPostgresError(this.location, error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pumps.closeAll();
    this.stopLive();
    await this.pool.end().catch(() => {});
  }
}
