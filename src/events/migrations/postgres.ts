/**
 * The PostgreSQL store's schema, as ordered migrations (the same steps as migrations/sqlite.ts).
 * They run on first use, in one transaction that also bumps `warden_meta.schema_version`, under a
 * transaction-scoped advisory lock so two processes starting together cannot both create tables.
 * Never edit a released step: append a new one.
 *
 * `data` is `json`, not `jsonb`: jsonb refuses the \u0000 escape, which a command's recorded output
 * may contain, and an append must never fail for the content of what it records. The hash covers
 * canonical JSON, so the database's encoding of `data` does not matter to the chain either way.
 * `time` is text so the exact string that was hashed comes back.
 */
import type { PoolClient } from 'pg';
import { GENESIS_HASH } from '../hashChain.ts';
import { STORE_FORMAT, encodeHead } from './sqlite.ts';

export { STORE_FORMAT };

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
];

export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]!.to;
