/**
 * PostgreSQL going away under a running store: the test starts its own server (initdb + pg_ctl on
 * a temporary data directory and a free port, never the machine's shared server), stops it mid-run
 * and starts it again. While it is down appends fail promptly with a StoreError (no hang, nothing
 * claimed as written); afterwards the SAME store object appends again and a live subscriber resumes
 * without missing or repeating an event, with no process restart.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { StoreError } from '../../src/errors.ts';
import type { EventStore } from '../../src/events/eventStore.ts';
import { createPostgresEventStore } from '../../src/events/postgresEventStore.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { marker } from '../contract/fixtures/events.ts';
import { startOwnPostgres, type OwnPostgres } from '../support/ownPostgres.ts';
import { eventually } from '../support/eventually.ts';

const waitFor = (what: string, cond: () => boolean, ms: number): Promise<boolean> => eventually(cond, ms, what);

describe('PostgreSQL stopped and restarted under a running store', () => {
  let pg: OwnPostgres;
  const start = () => pg.start();
  const stop = (mode: 'fast' | 'immediate') => pg.stop(mode);

  before(async () => {
    pg = await startOwnPostgres();
  });
  after(() => pg.destroy());

  test('appends fail closed while it is down, then the same store and subscriber carry on', async () => {
    const url = pg.url;
    const store: EventStore = await createPostgresEventStore(url, { connectTimeoutMs: 2_000 });
    const seen: StoredEvent[] = [];
    const feedErrors: unknown[] = [];
    const sub = store.subscribe(1, (e) => seen.push(e), (e) => feedErrors.push(e));
    const confirmed = new Set<number>();
    let version = 0;
    const appendOne = async (reason: string) => {
      const r = await store.append('req', version, [marker('s', reason)]);
      version = r.nextExpectedVersion;
      confirmed.add(r.lastPosition);
      return r;
    };
    try {
      for (let i = 0; i < 3; i++) await appendOne(`before-${i}`);
      await waitFor('events before the outage', () => seen.length === 3, 5_000);

      for (const mode of ['fast', 'immediate'] as const) {
        // Appends racing the shutdown: each either returns (and must then be stored) or fails.
        const racing = (async () => {
          for (let i = 0; i < 200; i++) {
            try {
              await appendOne(`${mode}-race-${i}`);
            } catch {
              version = (await store.read('req').catch(() => null))?.length ?? version;
              return;
            }
          }
        })();
        await new Promise((r) => setTimeout(r, 30));
        stop(mode);
        await racing;

        const t0 = Date.now();
        await assert.rejects(appendOne(`${mode}-while-down`), (e: unknown) => {
          assert.ok(e instanceof StoreError, String(e));
          assert.match(e.message, /PostgreSQL store .*(cannot reach|connection|shutting down)/);
          return true;
        });
        assert.ok(Date.now() - t0 < 5_000, `failing took ${Date.now() - t0} ms`);
        await assert.rejects(store.readAll(), StoreError);

        start();
        // The same object works again at once: dead pooled connections were dropped, new ones open.
        version = (await store.read('req')).length;
        await appendOne(`${mode}-after-restart`);
        const head = await store.headPosition();
        // The subscriber resumes by itself (LISTEN client reconnects, re-reads from its position).
        await waitFor(`subscriber to catch up after ${mode} restart`, () => seen.length === head, 15_000);
      }

      const all = await store.readAll();
      for (const p of confirmed) assert.ok(all.some((e) => e.position === p), `confirmed append at ${p} lost`);
      assert.deepEqual(seen.map((e) => e.position), all.map((e) => e.position), 'subscriber missed or repeated events');
      assert.deepEqual(all.map((e) => e.position), Array.from({ length: all.length }, (_, i) => i + 1));
      assert.deepEqual(await store.verify(), { ok: true, checked: all.length });
      // Live delivery is back to NOTIFY speed.
      const before = seen.length;
      const t1 = Date.now();
      await appendOne('final');
      await waitFor('live event after recovery', () => seen.length === before + 1, 1_000);
      assert.ok(Date.now() - t1 < 1_000);
      assert.ok(feedErrors.length > 0, 'the outage was reported to the subscriber');
    } finally {
      sub.close();
      await store.close();
    }
  });
});
