/**
 * The start-up check's memo (src/events/quickCheckMemo.ts) through the SQLite store: a store this
 * process checked and closed is not quick_checked again at the next start; any change to the file
 * or its WAL by anyone else since, an expired or foreign memo, or a store that failed its check,
 * and quick_check runs again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '../../src/events/sqliteEventStore.ts';
import { QUICK_CHECK_MEMO_MS } from '../../src/events/quickCheckMemo.ts';
import { marker } from '../contract/fixtures/events.ts';

function scratch() {
  const dir = mkdtempSync(join(tmpdir(), 'warden-checkmemo-'));
  const path = join(dir, 'events.db');
  const memoDir = join(dir, 'state', 'store-checks');
  /** Opens, checks at start, appends one event, closes; returns what the check said. */
  const startAppendClose = async (memo = true) => {
    const store = createSqliteEventStore(path, memo ? { checkMemoDir: memoDir } : {});
    try {
      const v = await store.checkAtStart!();
      if (v.ok) await store.append(`s-${Math.random()}`, 0, [marker('sess', 'x')]);
      return v;
    } finally {
      await store.close();
    }
  };
  return { dir, path, memoDir, startAppendClose, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('checked and closed by warden: the next start remembers the check, and the one after', async () => {
  const s = scratch();
  try {
    assert.equal((await s.startAppendClose()).quickCheck, 'ran');
    assert.equal((await s.startAppendClose()).quickCheck, 'remembered');
    assert.equal((await s.startAppendClose()).quickCheck, 'remembered');
    // without a memo folder every start checks
    assert.equal((await s.startAppendClose(false)).quickCheck, 'ran');
  } finally {
    s.cleanup();
  }
});

test('changed by anyone else since (a write, a touch of the times, an edit through SQLite), the check runs again', async () => {
  const s = scratch();
  try {
    await s.startAppendClose();
    utimesSync(s.path, new Date(), new Date()); // only the times: the change time moves
    assert.equal((await s.startAppendClose()).quickCheck, 'ran');
    const db = new Database(s.path);
    db.prepare(`INSERT INTO meta (key, value) VALUES ('stray', 'x')`).run();
    db.close();
    assert.equal((await s.startAppendClose()).quickCheck, 'ran');
  } finally {
    s.cleanup();
  }
});

test("a memo past its time, of another store, or not a private file of this user's is not trusted", async () => {
  const s = scratch();
  try {
    await s.startAppendClose();
    const [name] = readdirSync(s.memoDir);
    const file = join(s.memoDir, name!);
    const memo = JSON.parse(readFileSync(file, 'utf8'));
    const rewrite = (m: object, mode = 0o600) => {
      rmSync(file);
      writeFileSync(file, JSON.stringify(m), { mode });
      chmodSync(file, mode);
    };
    rewrite({ ...memo, checkedAt: Date.now() - QUICK_CHECK_MEMO_MS - 1000 });
    assert.equal((await s.startAppendClose()).quickCheck, 'ran');
    // the close after that check recorded it afresh; a check "in the future" is not believed
    const fresh = JSON.parse(readFileSync(file, 'utf8'));
    rewrite({ ...fresh, checkedAt: Date.now() + 60_000 });
    assert.equal((await s.startAppendClose()).quickCheck, 'ran');
    const again = JSON.parse(readFileSync(file, 'utf8'));
    rewrite({ ...again, store: '/elsewhere/events.db' });
    assert.equal((await s.startAppendClose()).quickCheck, 'ran');
    const last = JSON.parse(readFileSync(file, 'utf8'));
    rewrite(last, 0o666); // anyone could have written it
    assert.equal((await s.startAppendClose()).quickCheck, 'ran');
  } finally {
    s.cleanup();
  }
});

test('a store that fails its check at start is never remembered as checked', async () => {
  const s = scratch();
  try {
    await s.startAppendClose();
    const db = new Database(s.path);
    db.prepare(`UPDATE events SET data = json_set(data, '$.reason', 'forged') WHERE position = (SELECT max(position) FROM events)`).run();
    db.close();
    rmSync(s.memoDir, { recursive: true });
    const v = await s.startAppendClose();
    assert.equal(v.ok, false);
    assert.equal(v.quickCheck, 'ran');
    assert.equal(existsSync(s.memoDir) && readdirSync(s.memoDir).length > 0, false, 'a store that failed its check was remembered');
  } finally {
    s.cleanup();
  }
});
