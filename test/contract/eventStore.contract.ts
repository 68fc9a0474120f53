/**
 * The one EventStore contract, run unchanged against every adapter (sqlite.contract.test.ts,
 * postgres.contract.test.ts). Each test gets a fresh, empty store from the factory. `tamper` runs
 * raw SQL on the underlying data (`{events}` is replaced with the adapter's events table), the way
 * an attacker with file or database access would edit the log behind warden's back.
 */
import { strict as assert } from 'node:assert';
import { after, describe, test } from 'node:test';
import { ExpectedVersionConflictError, StoreError } from '../../src/errors.ts';
import type { EventStore } from '../../src/events/eventStore.ts';
import { GENESIS_HASH, eventHash } from '../../src/events/hashChain.ts';
import type { NewEvent, StoredEvent } from '../../src/events/types.ts';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { APPEND_CHILD, runChild } from './fixtures/child.ts';
import { lifecycleEvents, marker } from './fixtures/events.ts';
import { eventually } from '../support/eventually.ts';

export interface StoreHarness {
  store: EventStore;
  /** What `openStore` (and so another process) takes to reach the same data: a path or URL. */
  location: string;
  /** Opens a second, independent store object (own connection) on the same data. */
  reopen(): Promise<EventStore>;
  /** Raw SQL against the data; `{events}` names the events table. Several statements allowed. */
  tamper(sql: string): Promise<void>;
  cleanup(): Promise<void>;
}

const waitFor = (what: string, cond: () => boolean, ms = 5_000): Promise<boolean> => eventually(cond, ms, what);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Appends `n` marker events to `stream`, one append each; returns the stored events. */
async function appendMarkers(store: EventStore, stream: string, n: number, from = 0): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let i = 0; i < n; i++) out.push(...(await store.append(stream, from + i, [marker('s1', `${stream}#${from + i}`)])).events);
  return out;
}

export function testEventStoreContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`EventStore contract: ${name}`, () => {
    const opened: StoreHarness[] = [];
    const fresh = async () => {
      const h = await makeStore();
      opened.push(h);
      return h;
    };
    after(async () => {
      for (const h of opened) await h.cleanup();
    });

    test('readSession returns one session\'s events in position order, and only them', async () => {
      const { store } = await fresh();
      await store.append('ra', 0, lifecycleEvents('sess-x', 1).slice(0, 2));
      await store.append('rb', 0, lifecycleEvents('sess-y', 2));
      await store.append('ra', 2, lifecycleEvents('sess-x', 1).slice(2));
      const x = await store.readSession('sess-x');
      assert.deepEqual(x.map((e) => [e.stream, e.version]), [['ra', 1], ['ra', 2], ['ra', 3], ['ra', 4], ['ra', 5]]);
      assert.ok(x.every((e, i) => i === 0 || e.position > x[i - 1]!.position));
      assert.equal((await store.readSession('sess-y')).length, 5);
      assert.deepEqual(await store.readSession('nobody'), []);
    });

    test('readSessionDecided returns, of one session, every event of the streams that recorded one of the decisions, in position order', async () => {
      const { store } = await fresh();
      const decided = (sessionId: string, decision: string, source = 'user'): NewEvent => ({ type: 'DecisionRecorded', sessionId, data: { decision, source } }) as NewEvent;
      const [asked, classified, , started, finished] = lifecycleEvents('sess-x', 1);
      await store.append('for-session', 0, [asked!, classified!]);
      await store.append('once', 0, [asked!, decided('sess-x', 'approved'), started!, finished!]);
      await store.append('for-session', 2, [decided('sess-x', 'approved_for_session'), started!]);
      await store.append('always', 0, [asked!, decided('sess-x', 'denied'), decided('sess-x', 'approved_always', 'client')]);
      // the same decision in another session's stream is not this session's
      await store.append('other', 0, [{ ...asked!, sessionId: 'sess-y' }, decided('sess-y', 'approved_for_session')]);
      await store.append('for-session', 4, [finished!]);
      const got = await store.readSessionDecided('sess-x', ['approved_for_session', 'approved_always']);
      assert.deepEqual(
        got.map((e) => [e.stream, e.version]),
        [['for-session', 1], ['for-session', 2], ['for-session', 3], ['for-session', 4], ['always', 1], ['always', 2], ['always', 3], ['for-session', 5]],
      );
      assert.ok(got.every((e, i) => i === 0 || e.position > got[i - 1]!.position));
      assert.deepEqual(await store.readSessionDecided('sess-x', ['abort']), []);
      assert.deepEqual((await store.readSessionDecided('sess-y', ['approved_for_session'])).map((e) => e.stream), ['other', 'other']);
      assert.deepEqual(await store.readSessionDecided('nobody', ['approved_for_session']), []);
    });

    test('unfinishedStreams names every request not provably finished, and none that is', async () => {
      const { store } = await fresh();
      const [requested, classified, decided, started, finished] = lifecycleEvents('s', 3);
      const asked = { type: 'DecisionRequested', sessionId: 's', data: { reason: 'not-known-safe', message: 'ok?', offered: ['approved', 'denied'] } } as NewEvent;
      const sandboxRun = (denied: boolean) =>
        ({ type: 'SandboxRunFinished', sessionId: 's', data: { ...(finished!.data as object), denial: { denied } } }) as NewEvent;
      await store.append('done', 0, [requested!, classified!, decided!, started!, finished!]);
      await store.append('waiting', 0, [requested!, classified!, asked]);
      await store.append('running', 0, [requested!, classified!, decided!, started!]);
      await store.append('sandboxed-ok', 0, [requested!, classified!, decided!, { type: 'SandboxRunStarted', sessionId: 's', data: { sandbox: 'bwrap', mode: 'workspace-write' } }, sandboxRun(false)]);
      await store.append('sandboxed-denied', 0, [requested!, classified!, decided!, { type: 'SandboxRunStarted', sessionId: 's', data: { sandbox: 'bwrap', mode: 'workspace-write' } }, sandboxRun(true)]);
      await store.append('rejected', 0, [requested!, { type: 'Rejected', sessionId: 's', data: { reason: 'no' } }]);
      await store.append('interrupted', 0, [requested!, classified!, decided!, started!, marker('s', 'restart')]);
      await store.append('not-a-request', 0, [marker('s', 'stray')]);
      assert.deepEqual(await store.unfinishedStreams(), ['waiting', 'running', 'sandboxed-denied']);
    });

    test('an append is read back with every recorded field and a valid chain link', async () => {
      const { store } = await fresh();
      const before = Date.now();
      const events = lifecycleEvents('sess-a');
      const first = await store.append('req-1', 0, events.slice(0, 2));
      assert.equal(first.nextExpectedVersion, 2);
      assert.equal(first.lastPosition, 2);
      await store.append('req-2', 0, [marker('sess-b', 'other')]);
      const second = await store.append('req-1', 2, events.slice(2));
      assert.equal(second.nextExpectedVersion, 5);
      assert.equal(second.lastPosition, 6);

      const read = await store.read('req-1');
      assert.deepEqual(read.map((e) => e.type), events.map((e) => e.type));
      assert.deepEqual(read.map((e) => e.data), events.map((e) => e.data));
      assert.deepEqual(read.map((e) => e.version), [1, 2, 3, 4, 5]);
      assert.deepEqual(read.map((e) => e.position), [1, 2, 4, 5, 6]);
      for (const e of read) {
        assert.equal(e.stream, 'req-1');
        assert.equal(e.sessionId, 'sess-a');
        assert.ok(Date.parse(e.time) >= before - 1000 && Date.parse(e.time) <= Date.now() + 1000, e.time);
      }
      const all = await store.readAll();
      let prev = GENESIS_HASH;
      for (const e of all) {
        assert.equal(e.prevHash, prev);
        assert.equal(e.hash, eventHash(prev, e));
        prev = e.hash;
      }
      // What append returned is exactly what is stored.
      assert.deepEqual(second.events, read.slice(2));
      assert.deepEqual(await store.read('no-such-stream'), []);
      assert.equal(await store.headPosition(), 6);
      assert.deepEqual(await store.verify(), { ok: true, checked: 6 });
    });

    test('data round-trips exactly, including NUL and non-ASCII text in recorded output', async () => {
      const { store } = await fresh();
      const finished = lifecycleEvents('s')[4]!;
      const data = { ...(finished.data as object), stdoutExcerpt: 'a\u0000b ünïcödé 🚀 "q" \\ \n', durationMs: 0.1 + 0.2 };
      await store.append('r', 0, [{ ...finished, data } as NewEvent]);
      const [e] = await store.read('r');
      assert.deepEqual(e!.data, data);
      assert.equal((await store.verify()).ok, true);
    });

    test('an empty store has head 0, reads nothing and verifies', async () => {
      const { store } = await fresh();
      assert.equal(await store.headPosition(), 0);
      assert.deepEqual(await store.readAll(), []);
      assert.deepEqual(await store.verify(), { ok: true, checked: 0 });
    });

    test('a stale or future expectedVersion is a conflict and writes nothing', async () => {
      const { store } = await fresh();
      await appendMarkers(store, 'r', 2);
      for (const expected of [0, 1, 3, 7]) {
        await assert.rejects(store.append('r', expected, [marker('s', 'late')]), (e: unknown) => {
          assert.ok(e instanceof ExpectedVersionConflictError);
          assert.equal(e.stream, 'r');
          assert.equal(e.expected, expected);
          assert.equal(e.actual, 2);
          return true;
        });
      }
      await assert.rejects(store.append('new', 1, [marker('s', 'x')]), ExpectedVersionConflictError);
      assert.equal(await store.headPosition(), 2);
      assert.equal((await store.read('r')).length, 2);
      assert.deepEqual(await store.read('new'), []);
      // The store still appends normally afterwards, continuing the chain.
      await store.append('r', 2, [marker('s', 'ok')]);
      assert.deepEqual(await store.verify(), { ok: true, checked: 3 });
    });

    test('two connections racing with the same expectedVersion: exactly one wins each time', async () => {
      const h = await fresh();
      const other = await h.reopen();
      try {
        for (let i = 0; i < 20; i++) {
          const stream = `race-${i}`;
          const results = await Promise.allSettled([
            h.store.append(stream, 0, [marker('a', 'a')]),
            other.append(stream, 0, [marker('b', 'b')]),
          ]);
          const won = results.filter((r) => r.status === 'fulfilled');
          const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          assert.equal(won.length, 1, `stream ${stream}`);
          assert.ok(lost[0]!.reason instanceof ExpectedVersionConflictError, String(lost[0]!.reason));
          assert.equal((await h.store.read(stream)).length, 1);
        }
        const all = await h.store.readAll();
        assert.deepEqual(all.map((e) => e.position), Array.from({ length: 20 }, (_, i) => i + 1));
        assert.deepEqual(await h.store.verify(), { ok: true, checked: 20 });
      } finally {
        await other.close();
      }
    });

    test('readAll gives one order across streams and honours from and limit', async () => {
      const { store } = await fresh();
      const order = ['a', 'b', 'a', 'c', 'b', 'a'];
      const versions = new Map<string, number>();
      for (const s of order) {
        const v = versions.get(s) ?? 0;
        await store.append(s, v, [marker('s', `${s}${v + 1}`)]);
        versions.set(s, v + 1);
      }
      const all = await store.readAll();
      assert.deepEqual(all.map((e) => e.stream), order);
      assert.deepEqual(all.map((e) => e.position), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(all.map((e) => e.version), [1, 1, 2, 1, 2, 3]);
      assert.deepEqual((await store.readAll(3)).map((e) => e.position), [3, 4, 5, 6]);
      assert.deepEqual((await store.readAll(2, 2)).map((e) => e.position), [2, 3]);
      assert.deepEqual((await store.readAll(0, 1)).map((e) => e.position), [1]);
      assert.deepEqual(await store.readAll(7), []);
    });

    test('subscribe delivers the catch-up then live appends, in order, without gaps or duplicates', async () => {
      const h = await fresh();
      await appendMarkers(h.store, 'r', 3);
      const seen: number[] = [];
      const errors: unknown[] = [];
      const sub = h.store.subscribe(2, (e) => seen.push(e.position), (e) => errors.push(e));
      try {
        await waitFor('catch-up', () => seen.length >= 2);
        // Live: from this object, from another connection, and a batch of several events.
        await h.store.append('r', 3, [marker('s', 'live1')]);
        const other = await h.reopen();
        try {
          await other.append('q', 0, [marker('s', 'q1'), marker('s', 'q2')]);
          const t0 = Date.now();
          await waitFor('live events', () => seen.length >= 5);
          assert.ok(Date.now() - t0 < 1000, `delivered after ${Date.now() - t0} ms`);
          await Promise.all([appendMarkers(h.store, 'x', 10), appendMarkers(other, 'y', 10)]);
        } finally {
          await other.close();
        }
        await waitFor('concurrent events', () => seen.length >= 25);
        await sleep(300);
        assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => i + 2));
        assert.deepEqual(errors, []);
      } finally {
        sub.close();
      }
      // After close nothing more arrives.
      const count = seen.length;
      await h.store.append('r', 4, [marker('s', 'after')]);
      await sleep(300);
      assert.equal(seen.length, count);
    });

    test('a subscriber sees events appended by another process within a second, none missed or repeated', async () => {
      const h = await fresh();
      await appendMarkers(h.store, 'pre', 2);
      const seen: StoredEvent[] = [];
      const arrived: number[] = [];
      const sub = h.store.subscribe(1, (e) => {
        seen.push(e);
        arrived.push(Date.now());
      });
      try {
        const out = await runChild(APPEND_CHILD, [h.location, 'child-stream', '40']);
        const childDone = Date.now();
        assert.match(out, /^done 42\n$/);
        await waitFor('child events', () => seen.length >= 42, 1_500);
        assert.ok(arrived[arrived.length - 1]! - childDone < 1000);
        await sleep(300);
        assert.deepEqual(seen.map((e) => e.position), Array.from({ length: 42 }, (_, i) => i + 1));
        assert.deepEqual(
          seen.slice(2).map((e) => (e.data as { reason: string }).reason),
          Array.from({ length: 40 }, (_, i) => `child-stream#${i}`),
        );
      } finally {
        sub.close();
      }
    });

    test('what a process wrote is there after it exits, and the chain continues from it', async () => {
      const h = await fresh();
      await runChild(APPEND_CHILD, [h.location, 'from-child', '5']);
      const reopened = await h.reopen();
      try {
        const events = await reopened.read('from-child');
        assert.deepEqual(events.map((e) => e.version), [1, 2, 3, 4, 5]);
        await reopened.append('from-child', 5, [marker('s', 'parent')]);
        assert.deepEqual(await reopened.verify(), { ok: true, checked: 6 });
        assert.equal((await h.store.read('from-child')).length, 6);
      } finally {
        await reopened.close();
      }
    });

    test('every append that returned survives the writer being killed with SIGKILL', async () => {
      const h = await fresh();
      const script = fileURLToPath(new URL('./fixtures/appendForever.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script, h.location, 'doomed'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const exited = new Promise((r) => child.on('exit', r));
      await waitFor('the writer to confirm 30 appends', () => out.split('\n').length > 30, 30_000);
      child.kill('SIGKILL');
      await exited;
      const confirmed = out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
      const reopened = await h.reopen();
      try {
        const stored = (await reopened.read('doomed')).map((e) => e.position);
        for (const p of confirmed) assert.ok(stored.includes(p), `confirmed position ${p} lost`);
        // At most the one append in flight at the kill may have committed without being confirmed.
        assert.ok(stored.length - confirmed.length <= 1, `${stored.length} stored, ${confirmed.length} confirmed`);
        assert.equal((await reopened.verify()).ok, true);
        await reopened.append('doomed', stored.length, [marker('s', 'after the kill')]);
      } finally {
        await reopened.close();
      }
    });

    test('invalid events are rejected and nothing of the batch is written', async () => {
      const { store } = await fresh();
      await appendMarkers(store, 'r', 1);
      const bad: unknown[] = [
        { type: 'NoSuchEvent', sessionId: 's', data: {} },
        { type: 'Rejected', sessionId: 's', data: {} },
        { type: 'Rejected', sessionId: 's', data: { reason: 42 } },
        { type: 'Rejected', data: { reason: 'no session' } },
        { type: 'Rejected', sessionId: '', data: { reason: 'empty session' } },
        { type: 'DecisionRecorded', sessionId: 's', data: { decision: 'yes please', source: 'user' } },
        null,
      ];
      for (const event of bad) {
        await assert.rejects(store.append('r', 1, [marker('s', 'fine'), event as NewEvent]), JSON.stringify(event));
      }
      await assert.rejects(store.append('r', 1, []));
      await assert.rejects(store.append('', 0, [marker('s', 'x')]));
      await assert.rejects(store.append('r', -1, [marker('s', 'x')]));
      await assert.rejects(store.append('r', 1.5, [marker('s', 'x')]));
      assert.equal(await store.headPosition(), 1);
      assert.deepEqual(await store.verify(), { ok: true, checked: 1 });
    });

    test('unknown fields are not recorded: only the validated shape is stored', async () => {
      const { store } = await fresh();
      await store.append('r', 0, [{ type: 'Rejected', sessionId: 's', data: { reason: 'x', sneaky: 1 } } as unknown as NewEvent]);
      const [e] = await store.read('r');
      assert.deepEqual(e!.data, { reason: 'x' });
    });

    describe('tampering is detected at the first bad position', () => {
      /** Six events over two streams: positions 1..6. */
      const seeded = async () => {
        const h = await fresh();
        await appendMarkers(h.store, 'a', 3);
        await appendMarkers(h.store, 'b', 3);
        assert.deepEqual(await h.store.verify(), { ok: true, checked: 6 });
        return h;
      };
      const expectBad = async (store: EventStore, position: number) => {
        const verdict = await store.verify();
        assert.equal(verdict.ok, false, JSON.stringify(verdict));
        assert.equal(verdict.firstBadPosition, position, JSON.stringify(verdict));
        assert.ok(verdict.reason && verdict.reason.length > 0);
      };

      test('edited data', async () => {
        const h = await seeded();
        await h.tamper(`UPDATE {events} SET data = '{"reason":"forged"}' WHERE position = 3`);
        await expectBad(h.store, 3);
      });

      test('edited metadata (session id)', async () => {
        const h = await seeded();
        await h.tamper(`UPDATE {events} SET session_id = 'someone-else' WHERE position = 5`);
        await expectBad(h.store, 5);
      });

      test('a deleted middle event', async () => {
        const h = await seeded();
        await h.tamper(`DELETE FROM {events} WHERE position = 4`);
        await expectBad(h.store, 4);
      });

      test('deleted last events', async () => {
        const h = await seeded();
        await h.tamper(`DELETE FROM {events} WHERE position >= 5`);
        await expectBad(h.store, 5);
        // and warden refuses to extend the altered log (fail closed)
        await assert.rejects(h.store.append('c', 0, [marker('s', 'x')]), StoreError);
      });

      test('an inserted event in the middle (later positions shifted)', async () => {
        const h = await seeded();
        const [e3] = await h.store.readAll(3, 1);
        // A well-formed forgery: correct link and hash at position 4; the shifted event after it breaks.
        const forged = { ...e3!, position: 4, stream: 'forged', version: 1, data: { reason: 'forged' } };
        const hash = eventHash(e3!.hash, forged);
        await h.tamper(
          `UPDATE {events} SET position = position + 1000 WHERE position >= 4;
           UPDATE {events} SET position = position - 999 WHERE position >= 1000;
           INSERT INTO {events} (position, stream, version, session_id, type, data, time, prev_hash, hash)
           VALUES (4, 'forged', 1, '${forged.sessionId}', '${forged.type}', '{"reason":"forged"}', '${forged.time}', '${e3!.hash}', '${hash}')`,
        );
        assert.equal((await h.store.readAll()).length, 7);
        await expectBad(h.store, 5);
      });

      test('an event inserted after the end', async () => {
        const h = await seeded();
        const [e6] = await h.store.readAll(6, 1);
        const forged = { ...e6!, position: 7, stream: 'forged', version: 1 };
        await h.tamper(
          `INSERT INTO {events} (position, stream, version, session_id, type, data, time, prev_hash, hash)
           VALUES (7, 'forged', 1, 's', '${forged.type}', '${JSON.stringify(forged.data)}', '${forged.time}', '${e6!.hash}', '${eventHash(e6!.hash, forged)}')`,
        );
        await expectBad(h.store, 7);
        await assert.rejects(h.store.append('c', 0, [marker('s', 'x')]), StoreError);
      });

      test('two events reordered', async () => {
        const h = await seeded();
        await h.tamper(
          `UPDATE {events} SET position = -1 WHERE position = 2;
           UPDATE {events} SET position = 2 WHERE position = 5;
           UPDATE {events} SET position = 5 WHERE position = -1`,
        );
        await expectBad(h.store, 2);
      });
    });
  });
}
