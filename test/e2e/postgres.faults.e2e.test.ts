/**
 * PostgreSQL going away under a running store: the test starts its own server (initdb + pg_ctl on
 * a temporary data directory and a free port, never the machine's shared server), stops it mid-run
 * and starts it again. While it is down appends fail promptly with a StoreError (no hang, nothing
 * claimed as written); afterwards the SAME store object appends again and a live subscriber resumes
 * without missing or repeating an event, with no process restart.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StoreError } from '../../src/errors.ts';
import type { EventStore } from '../../src/events/eventStore.ts';
import { createPostgresEventStore } from '../../src/events/postgresEventStore.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { marker } from '../contract/fixtures/events.ts';

const binDir = (() => {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(join(d, 'pg_ctl')));
  if (!found) throw new Error('initdb/pg_ctl not found under /usr/lib/postgresql/*/bin (install postgresql)');
  return found;
})();

const isRoot = process.getuid?.() === 0;

function pgTool(tool: string, args: string[]): string {
  const cmd = join(binDir, tool);
  // initdb and postgres refuse to run as root: run them as the postgres system user then.
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const waitFor = async (what: string, cond: () => boolean, ms: number): Promise<void> => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('PostgreSQL stopped and restarted under a running store', () => {
  let dir: string;
  let data: string;
  let port: number;
  const start = () => pgTool('pg_ctl', ['start', '-w', '-t', '60', '-D', data, '-l', join(dir, 'server.log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`]);
  const stop = (mode: 'fast' | 'immediate') => pgTool('pg_ctl', ['stop', '-w', '-t', '60', '-D', data, '-m', mode]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-pgfault-'));
    data = join(dir, 'data');
    if (isRoot) {
      chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    }
    chmodSync(dir, 0o700);
    port = await freePort();
    pgTool('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
    start();
  });
  after(() => {
    try {
      stop('immediate');
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('appends fail closed while it is down, then the same store and subscriber carry on', async () => {
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
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
