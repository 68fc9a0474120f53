/**
 * The SQLite store's schema, as ordered migrations. A store records the version it is at in
 * `meta.schema_version`; opening an older one runs the missing steps in place, inside the same
 * IMMEDIATE transaction that bumps the version, so a crash mid-migration leaves the old schema.
 * Never edit a released step: append a new one.
 *
 *   v1  events + meta(format, schema_version)
 *   v2  meta.head (position and hash of the last event, kept in the append transaction, so deleting
 *       the last events is detectable) and an index for reading a session
 *   v3  an index by type, so recovery finds unfinished requests without reading the log
 */
import type { Database } from 'better-sqlite3';
import { GENESIS_HASH } from '../hashChain.ts';
import { ENDING_EVENTS, sqlTypeList } from '../lifecycle.ts';

export const STORE_FORMAT = 'warden-event-store';

export interface SqliteMigration {
  to: number;
  up(db: Database): void;
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    to: 1,
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
        CREATE TABLE events (
          position   INTEGER PRIMARY KEY,
          stream     TEXT NOT NULL,
          version    INTEGER NOT NULL,
          session_id TEXT NOT NULL,
          type       TEXT NOT NULL,
          data       TEXT NOT NULL,
          time       TEXT NOT NULL,
          prev_hash  TEXT NOT NULL,
          hash       TEXT NOT NULL,
          UNIQUE (stream, version)
        ) STRICT;
      `);
      db.prepare(`INSERT INTO meta (key, value) VALUES ('format', ?), ('schema_version', '0')`).run(STORE_FORMAT);
    },
  },
  {
    to: 2,
    up(db) {
      db.exec(`CREATE INDEX events_session ON events (session_id, position)`);
      const last = db.prepare(`SELECT position, hash FROM events ORDER BY position DESC LIMIT 1`).get() as
        | { position: number; hash: string }
        | undefined;
      db.prepare(`INSERT INTO meta (key, value) VALUES ('head', ?)`).run(encodeHead(last?.position ?? 0, last?.hash ?? GENESIS_HASH));
    },
  },
  {
    to: 3,
    up(db) {
      db.exec(`CREATE INDEX events_type ON events (type, stream)`);
    },
  },
];

/** Request streams not provably finished (see EventStore.unfinishedStreams). */
export const SQLITE_UNFINISHED_STREAMS = `
  SELECT a.stream AS stream FROM events a
  WHERE a.type = 'ApprovalRequested'
    AND NOT EXISTS (SELECT 1 FROM events t WHERE t.type IN (${sqlTypeList(ENDING_EVENTS)}) AND t.stream = a.stream)
    AND NOT EXISTS (SELECT 1 FROM events r WHERE r.type = 'SandboxRunFinished' AND r.stream = a.stream AND json_extract(r.data, '$.denial.denied') = 0)
  ORDER BY a.position`;

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]!.to;

/** meta.head is "<position> <hash>": one row, one UPDATE per append. */
export function encodeHead(position: number, hash: string): string {
  return `${position} ${hash}`;
}

export function decodeHead(value: string): { position: number; hash: string } | undefined {
  const m = /^(\d+) ([0-9a-f]{64})$/.exec(value);
  return m ? { position: Number(m[1]), hash: m[2]! } : undefined;
}
