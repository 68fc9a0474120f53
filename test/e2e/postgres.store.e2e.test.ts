/**
 * What only the PostgreSQL adapter has: schema set-up on first use (once, even when many processes
 * start together), migrating an older schema, refusing foreign or newer schemas, and one clear
 * StoreError for bad connection strings and missing permissions. Real server, own databases.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { after, describe, test } from 'node:test';
import { StoreError } from '../../src/errors.ts';
import { GENESIS_HASH, eventHash } from '../../src/events/hashChain.ts';
import { POSTGRES_SCHEMA_VERSION } from '../../src/events/migrations/postgres.ts';
import { openStore } from '../../src/events/openStore.ts';
import { createPostgresEventStore } from '../../src/events/postgresEventStore.ts';
import { createTempDatabase, type TempDatabase } from '../contract/fixtures/pgDatabase.ts';
import { marker } from '../contract/fixtures/events.ts';

const dbs: TempDatabase[] = [];
const tempDb = async () => {
  const db = await createTempDatabase();
  dbs.push(db);
  return db;
};
after(async () => {
  for (const db of dbs) await db.drop();
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

const refusedWith = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof StoreError, String(e));
  assert.match(e.message, pattern);
  return true;
};

describe('PostgreSQL store set-up and errors', () => {
  test('openStore picks PostgreSQL for a postgres:// URL and the schema is created at the current version', async () => {
    const db = await tempDb();
    const store = await openStore(db.url);
    try {
      await store.append('r', 0, [marker('s', 'x')]);
      assert.equal(store.location, db.url);
    } finally {
      await store.close();
    }
    const meta = await query<{ key: string; value: string }>(db.url, `SELECT key, value FROM warden_meta ORDER BY key`);
    const m = new Map(meta.map((r) => [r.key, r.value]));
    assert.equal(m.get('format'), 'warden-event-store');
    assert.equal(m.get('schema_version'), String(POSTGRES_SCHEMA_VERSION));
  });

  test('eight stores opening a fresh database at once set the schema up exactly once', async () => {
    const db = await tempDb();
    const stores = await Promise.all(Array.from({ length: 8 }, () => createPostgresEventStore(db.url)));
    try {
      await Promise.all(stores.map((s, i) => s.append(`r${i}`, 0, [marker('s', String(i))])));
      assert.deepEqual(await stores[0]!.verify(), { ok: true, checked: 8 });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('a schema-1 database (hand-made) is migrated in place, data and chain intact', async () => {
    const db = await tempDb();
    let prev = GENESIS_HASH;
    const rows: string[] = [];
    for (let p = 1; p <= 3; p++) {
      const e = { position: p, stream: 'old', sessionId: 'legacy', version: p, time: `2025-01-0${p}T00:00:00.000Z`, type: 'Interrupted', data: { reason: `r${p}` } };
      const hash = eventHash(prev, e);
      rows.push(`(${p}, 'old', ${p}, 'legacy', 'Interrupted', '${JSON.stringify(e.data)}', '${e.time}', '${prev}', '${hash}')`);
      prev = hash;
    }
    await db.exec(`
      CREATE TABLE warden_meta (key text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE warden_events (position bigint PRIMARY KEY, stream text NOT NULL, version integer NOT NULL, session_id text NOT NULL,
        type text NOT NULL, data json NOT NULL, time text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL, UNIQUE (stream, version));
      INSERT INTO warden_meta VALUES ('format', 'warden-event-store'), ('schema_version', '1');
      INSERT INTO warden_events VALUES ${rows.join(', ')};
    `);
    const store = await createPostgresEventStore(db.url);
    try {
      assert.deepEqual((await store.read('old')).map((e) => (e.data as { reason: string }).reason), ['r1', 'r2', 'r3']);
      assert.deepEqual(await store.verify(), { ok: true, checked: 3 });
      const r = await store.append('old', 3, [marker('legacy', 'after upgrade')]);
      assert.equal(r.events[0]!.prevHash, prev);
      assert.deepEqual(await store.verify(), { ok: true, checked: 4 });
    } finally {
      await store.close();
    }
    const [v] = await query<{ value: string }>(db.url, `SELECT value FROM warden_meta WHERE key = 'schema_version'`);
    assert.equal(v!.value, String(POSTGRES_SCHEMA_VERSION));
  });

  test('a database from a newer warden is refused and left as it was', async () => {
    const db = await tempDb();
    await (await createPostgresEventStore(db.url)).close();
    await db.exec(`UPDATE warden_meta SET value = '42' WHERE key = 'schema_version'`);
    await assert.rejects(
      createPostgresEventStore(db.url),
      refusedWith(new RegExp(`created by a newer warden \\(schema 42\\), this warden knows ${POSTGRES_SCHEMA_VERSION}`)),
    );
    const [v] = await query<{ value: string }>(db.url, `SELECT value FROM warden_meta WHERE key = 'schema_version'`);
    assert.equal(v!.value, '42');
  });

  test('tables of another program are refused', async () => {
    const db = await tempDb();
    await db.exec(`CREATE TABLE warden_meta (key text PRIMARY KEY, value text); INSERT INTO warden_meta VALUES ('format', 'other')`);
    await assert.rejects(createPostgresEventStore(db.url), refusedWith(/not a warden event store/));
  });

  test('bad connection strings give one clear StoreError without the password', async () => {
    const cases: Array<[string, RegExp]> = [
      ['postgres://', /not a valid connection URL/],
      ['postgres://postgres@127.0.0.1:5432/', /not a valid connection URL/],
      ['postgres://postgres:hunter2@127.0.0.1:1/db', /cannot reach the server/],
      ['postgres://postgres@no-such-host.invalid/db', /cannot reach the server/],
      [`postgres://postgres@127.0.0.1:5432/warden_missing_${randomBytes(4).toString('hex')}`, /database does not exist/],
      ['postgres://no_such_role_xyz:pw@127.0.0.1:5432/test', /authentication failed/],
    ];
    for (const [url, why] of cases) {
      await assert.rejects(createPostgresEventStore(url), (e: unknown) => {
        refusedWith(why)(e);
        assert.ok(!(e as Error).message.includes('hunter2'), (e as Error).message);
        return true;
      });
    }
  });

  test('a role without permissions gets one clear StoreError, at set-up and at append', async () => {
    const db = await tempDb();
    const role = `warden_ro_${randomBytes(4).toString('hex')}`;
    await db.exec(`CREATE ROLE ${role} LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC;`);
    try {
      const url = new URL(db.url);
      url.username = role;
      await assert.rejects(createPostgresEventStore(url.toString()), refusedWith(/permission denied .*needs CREATE/));
      // Schema made by the owner; the role may read but not write.
      await (await createPostgresEventStore(db.url)).close();
      await db.exec(`GRANT SELECT ON warden_events, warden_meta TO ${role}`);
      const store = await createPostgresEventStore(url.toString());
      try {
        assert.equal(await store.headPosition(), 0);
        await assert.rejects(store.append('r', 0, [marker('s', 'x')]), refusedWith(/permission denied/));
      } finally {
        await store.close();
      }
    } finally {
      await db.drop();
      await query(db.url.replace(/\/[^/]*$/, '/test'), `DROP ROLE IF EXISTS ${role}`);
    }
  });
});
