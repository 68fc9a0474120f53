/**
 * The PostgreSQL store's schema, as ordered migrations (the same steps as migrations/sqlite.ts).
 * They run on first use, in one transaction that also bumps `warden_meta.schema_version`, under a
 * transaction-scoped advisory lock so two processes starting together cannot both create tables.
 * Never edit a released step: append a new one.
 *
 *   v1  warden_events + warden_meta(format, schema_version)
 *   v2  warden_meta.head (last position and hash, kept by every append) and a session index
 *   v3  warden_append(): the whole append in one server-side call, one round trip (see below)
 *   v4  an index by type, so recovery finds unfinished requests without reading the log
 *
 * `data` is `json`, not `jsonb`: jsonb refuses the \u0000 escape, which a command's recorded output
 * may contain, and an append must never fail for the content of what it records. The hash covers
 * canonical JSON, so the database's encoding of `data` does not matter to the chain either way.
 * `time` is text so the exact string that was hashed comes back.
 */
import type { PoolClient } from 'pg';
import { GENESIS_HASH } from '../hashChain.ts';
import { ENDING_EVENTS, sqlTypeList } from '../lifecycle.ts';
import { STORE_FORMAT, encodeHead } from './sqlite.ts';

export { STORE_FORMAT };

/** Advisory lock keys ("wardn" + 1/2): one serialises appends, one schema set-up. Baked into v3's function. */
export const APPEND_LOCK = '512970974318001';
export const INIT_LOCK = '512970974318002';
export const CHANNEL = 'warden_events';

export interface PostgresMigration {
  to: number;
  up(client: PoolClient): Promise<void>;
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    to: 1,
    async up(client) {
      await client.query(`
        CREATE TABLE warden_meta (key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE warden_events (
          position   bigint PRIMARY KEY,
          stream     text NOT NULL,
          version    integer NOT NULL,
          session_id text NOT NULL,
          type       text NOT NULL,
          data       json NOT NULL,
          time       text NOT NULL,
          prev_hash  text NOT NULL,
          hash       text NOT NULL,
          UNIQUE (stream, version)
        );
      `);
      await client.query(`INSERT INTO warden_meta (key, value) VALUES ('format', $1), ('schema_version', '0')`, [STORE_FORMAT]);
    },
  },
  {
    to: 2,
    async up(client) {
      await client.query(`CREATE INDEX warden_events_session ON warden_events (session_id, position)`);
      const last = await client.query<{ position: string; hash: string }>(
        `SELECT position, hash FROM warden_events ORDER BY position DESC LIMIT 1`,
      );
      const row = last.rows[0];
      await client.query(`INSERT INTO warden_meta (key, value) VALUES ('head', $1)`, [
        encodeHead(row ? Number(row.position) : 0, row?.hash ?? GENESIS_HASH),
      ]);
    },
  },
  {
    to: 3,
    /*
     * One append = one call, so the append lock is held for the server-side work and the commit
     * only, never across client round trips (8 writers were 3x slower than 1 with the lock held over
     * four round trips). Under the lock it re-reads the head (each statement of a volatile plpgsql
     * function takes a fresh READ COMMITTED snapshot, so it sees every append committed before the
     * lock was granted), refuses a log whose end no longer matches the head, checks the stream
     * version, then numbers, timestamps and hashes the events. The hash is eventHash() computed in
     * SQL: sha256(prev || '\n' || '[' || position || part1 || "time" || part2) where the client sends
     * part1 = `,"stream","session",version,` and part2 = `,"type",<canonical data>]`, i.e.
     * canonicalJson([position, stream, sessionId, version, time, type, data]) with the two values
     * only known under the lock left out; verify() recomputes every hash in JS, so a mismatch
     * between the two would show at once. Time comes from the server clock: one clock for all hosts,
     * so times follow positions. Returns status 'ok' | 'conflict' | 'altered' | 'bad-head', and on
     * 'ok' hashes = [previous head hash, hash of each event].
     */
    async up(client) {
      await client.query(`
        CREATE FUNCTION warden_append(p_stream text, p_expected integer, p_session text[], p_type text[], p_data text[],
                                      p_part1 text[], p_part2 text[])
        RETURNS TABLE (status text, actual integer, first_position bigint, event_time text, hashes text[])
        LANGUAGE plpgsql VOLATILE AS $fn$
        DECLARE
          v_head text; v_last text; v_pos bigint; v_hash text; v_prev text; v_actual integer; v_time text;
          v_hashes text[] := '{}'; v_n integer := array_length(p_type, 1);
        BEGIN
          PERFORM pg_advisory_xact_lock(${APPEND_LOCK});
          SELECT value INTO v_head FROM warden_meta WHERE key = 'head';
          IF v_head IS NULL OR v_head !~ '^[0-9]+ [0-9a-f]{64}$' THEN
            RETURN QUERY SELECT 'bad-head'::text, 0, 0::bigint, ''::text, '{}'::text[]; RETURN;
          END IF;
          v_pos := split_part(v_head, ' ', 1)::bigint;
          v_hash := split_part(v_head, ' ', 2);
          SELECT position::text || ' ' || hash INTO v_last FROM warden_events ORDER BY position DESC LIMIT 1;
          IF (v_last IS NULL AND v_pos <> 0) OR (v_last IS NOT NULL AND v_last <> v_head) THEN
            RETURN QUERY SELECT 'altered'::text, 0, 0::bigint, ''::text, '{}'::text[]; RETURN;
          END IF;
          SELECT coalesce(max(version), 0) INTO v_actual FROM warden_events WHERE stream = p_stream;
          IF v_actual <> p_expected THEN
            RETURN QUERY SELECT 'conflict'::text, v_actual, 0::bigint, ''::text, '{}'::text[]; RETURN;
          END IF;
          v_hashes := ARRAY[v_hash]; -- the link of the first event
          v_time := to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
          FOR i IN 1 .. v_n LOOP
            v_pos := v_pos + 1;
            v_prev := v_hash;
            v_hash := encode(sha256(convert_to(
              v_prev || E'\n' || '[' || v_pos::text || p_part1[i] || to_json(v_time)::text || p_part2[i], 'UTF8')), 'hex');
            INSERT INTO warden_events (position, stream, version, session_id, type, data, time, prev_hash, hash)
              VALUES (v_pos, p_stream, p_expected + i, p_session[i], p_type[i], p_data[i]::json, v_time, v_prev, v_hash);
            v_hashes := v_hashes || v_hash;
          END LOOP;
          UPDATE warden_meta SET value = v_pos::text || ' ' || v_hash WHERE key = 'head';
          PERFORM pg_notify('${CHANNEL}', v_pos::text);
          RETURN QUERY SELECT 'ok'::text, v_actual, v_pos - v_n + 1, v_time, v_hashes;
        END
        $fn$;
      `);
    },
  },
  {
    to: 4,
    async up(client) {
      await client.query(`CREATE INDEX warden_events_type ON warden_events (type, stream)`);
    },
  },
];

/** Request streams not provably finished (see EventStore.unfinishedStreams). */
export const POSTGRES_UNFINISHED_STREAMS = `
  SELECT a.stream AS stream FROM warden_events a
  WHERE a.type = 'ApprovalRequested'
    AND NOT EXISTS (SELECT 1 FROM warden_events t WHERE t.type IN (${sqlTypeList(ENDING_EVENTS)}) AND t.stream = a.stream)
    AND NOT EXISTS (SELECT 1 FROM warden_events r WHERE r.type = 'SandboxRunFinished' AND r.stream = a.stream AND (r.data -> 'denial' ->> 'denied') = 'false')
  ORDER BY a.position`;

export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]!.to;
