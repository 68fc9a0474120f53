/**
 * What only the SQLite file adapter has: creating the file and its folder, refusing files that are
 * not warden stores or are damaged without touching them, and migrating an older schema in place.
 */
import Database from 'better-sqlite3';
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { StoreError } from '../../src/errors.ts';
import { GENESIS_HASH, eventHash } from '../../src/events/hashChain.ts';
import { SQLITE_SCHEMA_VERSION } from '../../src/events/migrations/sqlite.ts';
import { createSqliteEventStore } from '../../src/events/sqliteEventStore.ts';
import { marker } from '../contract/fixtures/events.ts';

const root = mkdtempSync(join(tmpdir(), 'warden-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const tempPath = () => join(root, `case-${++n}`, 'events.db');

/** Opening must throw a StoreError whose message names the file and matches `why`, and leave the file byte-identical. */
function assertRefused(path: string, why: RegExp): void {
  const before = readFileSync(path);
  assert.throws(
    () => createSqliteEventStore(path),
    (e: unknown) => {
      assert.ok(e instanceof StoreError, String(e));
      assert.ok(e.message.includes(path), e.message);
      assert.match(e.message, why);
      return true;
    },
  );
  assert.deepEqual(readFileSync(path), before, 'the refused file was modified');
}

describe('SQLite event store file handling', () => {
  test('a missing file is created with a private folder (0700) and file (0600)', async () => {
    const path = join(root, 'deep', 'er', 'events.db');
    const store = createSqliteEventStore(path);
    await store.append('r', 0, [marker('s', 'x')]);
    await store.close();
    assert.equal(statSync(join(root, 'deep', 'er')).mode & 0o777, 0o700);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.prepare(`SELECT value FROM meta WHERE key = 'format'`).pluck().get(), 'warden-event-store');
    assert.equal(db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SQLITE_SCHEMA_VERSION));
    db.close();
  });

  test('a text file is refused, not overwritten', () => {
    const path = tempPath();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'my precious notes\n'.repeat(200));
    assertRefused(path, /not a warden event store/);
  });

  test('an SQLite database of another program is refused, not converted', () => {
    const path = tempPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const db = new Database(path);
    db.exec(`CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('ada')`);
    db.close();
    assertRefused(path, /not a warden event store: it has no warden meta\/events tables/);
  });

  test('tables named like ours but without the format row are refused', () => {
    const path = tempPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const db = new Database(path);
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); CREATE TABLE events (x); INSERT INTO meta VALUES ('format', 'something-else')`);
    db.close();
    assertRefused(path, /no format = 'warden-event-store' row/);
  });

  test('a directory is refused', () => {
    const path = join(root, 'a-directory');
    mkdirSync(path);
    assert.throws(() => createSqliteEventStore(path), (e: unknown) => e instanceof StoreError && /is a directory/.test(e.message));
  });

  test('a damaged header is a StoreError naming the file', () => {
    const path = tempPath();
    const store = createSqliteEventStore(path);
    void store.close();
    const bytes = readFileSync(path);
    bytes.write('garbage garbage!', 0, 'latin1');
    writeFileSync(path, bytes);
    assertRefused(path, /not a warden event store|corrupt/);
  });

  test('damaged pages are a StoreError, never a reset', async () => {
    const path = tempPath();
    const store = createSqliteEventStore(path);
    for (let i = 0; i < 200; i++) await store.append(`r${i}`, 0, [marker('s', 'x'.repeat(200))]);
    await store.close();
    const bytes = readFileSync(path);
    const pageSize = bytes.readUInt16BE(16);
    // Scribble over every page after the schema page: the events table and its indexes.
    for (let off = pageSize; off < bytes.length; off += 97) bytes[off] = 0xa5;
    writeFileSync(path, bytes);
    let refused: unknown;
    try {
      const reopened = createSqliteEventStore(path);
      try {
        await reopened.verify();
        await reopened.readAll();
      } finally {
        await reopened.close();
      }
    } catch (error) {
      refused = error;
    }
    assert.ok(refused instanceof StoreError, String(refused));
    assert.match(refused.message, /corrupt|not a warden/);
    assert.ok(refused.message.includes(path));
    assert.equal(readFileSync(path).length, bytes.length, 'the damaged file was not replaced');
  });

  test('a store from a newer warden is refused with both schema versions named', () => {
    const path = tempPath();
    const store = createSqliteEventStore(path);
    void store.close();
    const db = new Database(path);
    db.prepare(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`).run();
    db.close();
    assertRefused(path, new RegExp(`created by a newer warden \\(schema 99\\), this warden knows ${SQLITE_SCHEMA_VERSION}`));
  });

  test('a schema-1 store (hand-made, as the first release wrote it) is migrated in place with its data and chain intact', async () => {
    const path = tempPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE events (
        position INTEGER PRIMARY KEY, stream TEXT NOT NULL, version INTEGER NOT NULL, session_id TEXT NOT NULL,
        type TEXT NOT NULL, data TEXT NOT NULL, time TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
        UNIQUE (stream, version)
      ) STRICT;
      INSERT INTO meta VALUES ('format', 'warden-event-store'), ('schema_version', '1');
    `);
    let prev = GENESIS_HASH;
    const insert = db.prepare(`INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const written = [];
    for (let p = 1; p <= 3; p++) {
      const e = { position: p, stream: 'old', sessionId: 'legacy', version: p, time: `2025-01-0${p}T00:00:00.000Z`, type: 'Interrupted', data: { reason: `r${p}` } };
      const hash = eventHash(prev, e);
      insert.run(p, e.stream, e.version, e.sessionId, e.type, JSON.stringify(e.data), e.time, prev, hash);
      written.push({ ...e, prevHash: prev, hash });
      prev = hash;
    }
    db.close();

    const store = createSqliteEventStore(path);
    try {
      assert.deepEqual(await store.read('old'), written);
      assert.deepEqual(await store.verify(), { ok: true, checked: 3 });
      const r = await store.append('old', 3, [marker('legacy', 'after upgrade')]);
      assert.equal(r.lastPosition, 4);
      assert.equal(r.events[0]!.prevHash, prev);
      assert.deepEqual(await store.verify(), { ok: true, checked: 4 });
    } finally {
      await store.close();
    }
    const check = new Database(path, { readonly: true });
    assert.equal(check.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), String(SQLITE_SCHEMA_VERSION));
    assert.ok(check.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'events_session'`).get(), 'v2 index created');
    check.close();
  });

  test('a failed migration leaves the older schema untouched', () => {
    const path = tempPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const db = new Database(path);
    // Schema 1 tables, but an index name the v2 step needs is already taken: the step fails.
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE events (position INTEGER PRIMARY KEY, stream TEXT NOT NULL, version INTEGER NOT NULL, session_id TEXT NOT NULL,
        type TEXT NOT NULL, data TEXT NOT NULL, time TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, UNIQUE (stream, version)) STRICT;
      CREATE INDEX events_session ON events (stream);
      INSERT INTO meta VALUES ('format', 'warden-event-store'), ('schema_version', '1');
    `);
    db.close();
    assert.throws(() => createSqliteEventStore(path));
    const check = new Database(path, { readonly: true });
    assert.equal(check.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get(), '1');
    assert.equal(check.prepare(`SELECT count(*) FROM meta WHERE key = 'head'`).pluck().get(), 0);
    check.close();
  });

  test('an empty file (e.g. from mktemp) becomes a store', async () => {
    const path = tempPath();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '');
    const store = createSqliteEventStore(path);
    await store.append('r', 0, [marker('s', 'x')]);
    assert.deepEqual(await store.verify(), { ok: true, checked: 1 });
    await store.close();
  });
});

describe('a store file deleted or replaced while open', () => {
  for (const how of ['deleted', 'replaced'] as const) {
    test(`${how}: every later append and read fails with StoreLostError, and subscribers hear it`, async () => {
      const { isStoreLostError } = await import('../../src/errors.ts');
      const { copyFileSync, renameSync, unlinkSync } = await import('node:fs');
      const path = tempPath();
      const store = createSqliteEventStore(path);
      await store.append('s1', 0, [marker('s', 'one')]);
      const heard: unknown[] = [];
      const sub = store.subscribe(1, () => {}, (e) => heard.push(e));
      if (how === 'deleted') unlinkSync(path);
      else {
        copyFileSync(path, `${path}.new`);
        renameSync(`${path}.new`, path);
      }
      await assert.rejects(store.append('s2', 0, [marker('s', 'two')]), (e: unknown) => isStoreLostError(e) && e.message.includes(path));
      await assert.rejects(store.read('s1'), isStoreLostError);
      await assert.rejects(store.append('s3', 0, [marker('s', 'three')]), isStoreLostError);
      assert.ok(heard.some(isStoreLostError), 'the subscriber was told');
      sub.close();
      await store.close();
      if (how === 'replaced') {
        const fresh = createSqliteEventStore(path);
        assert.equal((await fresh.readAll()).length, 1, 'nothing reached the file in place');
        await fresh.close();
      }
    });
  }
});
