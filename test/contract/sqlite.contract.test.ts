/** The EventStore contract against real SQLite files in a temporary directory. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../../src/events/sqliteEventStore.ts';
import { testEventStoreContract } from './eventStore.contract.ts';

testEventStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-store-'));
  const path = join(dir, 'events.db');
  const store = createSqliteEventStore(path);
  return {
    store,
    location: path,
    reopen: async () => createSqliteEventStore(path),
    tamper: async (sql) => {
      const db = new Database(path);
      try {
        db.exec(sql.replaceAll('{events}', 'events'));
      } finally {
        db.close();
      }
    },
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
