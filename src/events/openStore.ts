/**
 * Opens the EventStore a StoreLocation names: the SQLite file adapter, or the PostgreSQL adapter
 * for a postgres:// URL (loaded only then, so the default path never loads `pg`). Does I/O.
 */
import type { EventStore } from './eventStore.ts';
import { createSqliteEventStore, type SqliteOpenOptions } from './sqliteEventStore.ts';
import { isPostgresUrl, resolveStoreLocation, type StoreLocation } from './storeLocation.ts';

export { resolveStoreLocation, describeStoreLocation, type StoreLocation } from './storeLocation.ts';

/**
 * Accepts a resolved location, or a raw `--store` value (path or URL). `create: false` (the read
 * and decide commands) makes a missing SQLite file an error instead of a new empty store.
 */
export async function openStore(location: StoreLocation | string, options: SqliteOpenOptions = {}): Promise<EventStore> {
  const where = typeof location === 'string' ? stringLocation(location) : location;
  if (where.kind === 'postgres') {
    const { createPostgresEventStore } = await import('./postgresEventStore.ts');
    return createPostgresEventStore(where.url, options.create === false ? { create: false } : {});
  }
  return createSqliteEventStore(where.path, options);
}

function stringLocation(value: string): StoreLocation {
  return isPostgresUrl(value) ? { kind: 'postgres', url: value } : resolveStoreLocation({ flag: value, env: {} });
}
