/** The EventStore contract against the real PostgreSQL server; every store gets its own database. */
import { createPostgresEventStore } from '../../src/events/postgresEventStore.ts';
import { testEventStoreContract } from './eventStore.contract.ts';
import { createTempDatabase } from './fixtures/pgDatabase.ts';

testEventStoreContract('postgres', async () => {
  const db = await createTempDatabase();
  const store = await createPostgresEventStore(db.url);
  return {
    store,
    location: db.url,
    reopen: () => createPostgresEventStore(db.url),
    tamper: (sql) => db.exec(sql.replaceAll('{events}', 'warden_events')),
    cleanup: async () => {
      await store.close();
      await db.drop();
    },
  };
});
