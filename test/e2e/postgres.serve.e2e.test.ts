/**
 * `warden serve` on a PostgreSQL store, end to end with real processes:
 * - two `warden serve` processes whose clients cannot be asked (no elicitation capability) and a
 *   third process, `warden approve --decide`, on one store: each decision reaches only the request
 *   it names, in whichever server that request waits, within a second (LISTEN/NOTIFY; the safety
 *   poll alone would take up to two);
 * - PostgreSQL stopped under a running `warden serve` (a server of the test's own): calls fail
 *   closed promptly and run nothing; once PostgreSQL is back the same serve process works again;
 * - PostgreSQL hung (SIGSTOP, connections left open): calls fail closed after the store's query
 *   timeout instead of waiting forever (also checked on the store alone);
 * - a request waiting for a decision across a restart: a decision committed afterwards reaches it;
 *   when the decision timeout passes while PostgreSQL is down, the call ends closed and a later
 *   approval runs nothing.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { marker } from '../contract/fixtures/events.ts';
import { StoreError } from '../../src/errors.ts';
import { openStore } from '../../src/events/openStore.ts';
import { createPostgresEventStore } from '../../src/events/postgresEventStore.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { createTempDatabase } from '../contract/fixtures/pgDatabase.ts';
import { jsonLines, wardenAsync } from '../support/cliAsync.ts';
import { startOwnPostgres } from '../support/ownPostgres.ts';
import { eventually, startServer, type RawClient, type Workspace } from './mcp.harness.ts';
import { problemsIn } from '../support/streamRules.ts';

/** A workspace of its own (cwd, rules file) for one serve process, on the given store URL. */
function workspaceOn(base: string, name: string, storeUrl: string): Workspace {
  const dir = join(base, name);
  const ws = join(dir, 'ws');
  mkdirSync(ws, { recursive: true });
  const rulesPath = join(dir, 'rules.toml');
  writeFileSync(rulesPath, '');
  return { dir, ws, storePath: storeUrl, rulesPath };
}

interface Pending {
  request_id: string;
  session_id: string;
  command: string[];
}

async function pendingList(url: string): Promise<Pending[]> {
  const r = await wardenAsync(['approve', '--list', '--json', '--store', url]);
  // serve may not have made warden's tables yet: a read command never creates them
  if (r.code === 2 && /no warden event store in/.test(r.stderr)) return [];
  assert.equal(r.code, 0, r.stderr);
  return jsonLines<Pending>(r.stdout);
}

/** The same serve process (no restart) runs a call again once the store answers: it reconnected by itself. */
async function succeedsAgain(client: RawClient, ws: string, file: string, what: string): Promise<void> {
  const result = await eventually(
    async () => {
      const r = await client.call('shell', { command: ['touch', file] });
      return r.isError ? undefined : r;
    },
    20_000,
    what,
  );
  assert.equal(result.structuredContent.state, 'completed');
  assert.ok(existsSync(join(ws, file)));
}

/** Waits until a request running `command` is waiting for a decision; returns it. */
async function waitingFor(url: string, command: string[]): Promise<Pending> {
  return eventually(
    async () => (await pendingList(url)).find((p) => JSON.stringify(p.command) === JSON.stringify(command)),
    20_000,
    `${command.join(' ')} to wait for a decision`,
  );
}

/** A tool call whose settlement time is kept, so latency is measured from when the reply arrived. */
function trackedCall(client: RawClient, args: unknown) {
  const t: { settledAt: number | null; result: Promise<any> } = { settledAt: null, result: Promise.resolve() };
  t.result = client.call('shell', args).finally(() => (t.settledAt = Date.now()));
  return t;
}

async function readAllEvents(url: string): Promise<StoredEvent[]> {
  const store = await openStore(url);
  try {
    return await store.readAll(1);
  } finally {
    await store.close();
  }
}

/**
 * The record keeps the product's own stream rules (src/machines/streamRules.ts), among them that
 * every run start (sandboxed or not) follows an approving DecisionRecorded in the same stream.
 */
function assertNothingRanUnapproved(events: StoredEvent[]): void {
  assert.deepEqual(problemsIn(events), []);
}

type CallOutcome = { result: any } | { error: Error } | 'hang';

/** A `shell` call that must settle within `ms`; 'hang' when it does not. */
function boundedCall(client: RawClient, args: unknown, ms: number): Promise<CallOutcome> {
  return Promise.race([
    client.call('shell', args).then(
      (result) => ({ result }),
      (error: Error) => ({ error }),
    ),
    new Promise<'hang'>((res) => setTimeout(() => res('hang'), ms).unref()),
  ]);
}

/** The call failed closed: an error result or an MCP error, within the bound. */
function assertFailedClosed(what: string, outcome: CallOutcome): string {
  assert.notEqual(outcome, 'hang', `${what}: no answer in time`);
  if (outcome !== 'hang' && 'result' in outcome) {
    assert.equal(outcome.result.isError, true, `${what} succeeded without a store: ${JSON.stringify(outcome.result.content)}`);
    return outcome.result.content[0].text as string;
  }
  return (outcome as { error: Error }).error.message;
}

const UNTRUSTED = ['--approval', 'untrusted', '--decision-timeout', '30'];

describe('warden serve on PostgreSQL', () => {
  test('two serve processes and warden approve: each decision reaches only its own request, within a second', async () => {
    const db = await createTempDatabase();
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-pgserve-')));
    const wA = workspaceOn(base, 'a', db.url);
    const wB = workspaceOn(base, 'b', db.url);
    const servers: RawClient[] = [];
    try {
      // Both servers run (and have done their start-up recovery) before any call is made.
      servers.push(await startServer(wA, { args: UNTRUSTED, elicitation: false }));
      servers.push(await startServer(wB, { args: UNTRUSTED, elicitation: false }));
      const [A, B] = servers as [RawClient, RawClient];
      const settledAt = new Map<string, number>();
      const expected = new Map<string, { decision: string; outcome: string; session: 'A' | 'B' }>();

      // Round 1: A's request approved while B's waits, then B's denied. Round 2 the other way round.
      const rounds = [
        { approve: { client: A, w: wA, name: 'A' as const, file: 'a-marker' }, deny: { client: B, w: wB, name: 'B' as const, file: 'b-marker' } },
        { approve: { client: B, w: wB, name: 'B' as const, file: 'b-second' }, deny: { client: A, w: wA, name: 'A' as const, file: 'a-second' } },
      ];
      for (const { approve, deny } of rounds) {
        const yes = trackedCall(approve.client, { command: ['touch', approve.file] });
        const no = trackedCall(deny.client, { command: ['touch', deny.file] });
        const yesReq = await waitingFor(db.url, ['touch', approve.file]);
        const noReq = await waitingFor(db.url, ['touch', deny.file]);
        assert.notEqual(yesReq.session_id, noReq.session_id, 'each serve process is its own session');

        const approved = await wardenAsync(['approve', '--store', db.url, '--decide', yesReq.request_id, '--decision', 'approved'], { outside: true });
        assert.equal(approved.code, 0, approved.stderr);
        const r = await yes.result;
        settledAt.set(yesReq.request_id, yes.settledAt!);
        assert.equal(r.isError, false, JSON.stringify(r.content));
        assert.equal(r.structuredContent.state, 'completed');
        assert.equal(r.structuredContent.decision.decision, 'approved');
        assert.equal(r.structuredContent.decision.source, 'user');
        assert.ok(existsSync(join(approve.w.ws, approve.file)), `${approve.file} was created`);

        // The other server's request did not move: still unanswered, still listed, nothing run.
        await new Promise((res) => setTimeout(res, 300));
        assert.equal(no.settledAt, null, `${deny.name}'s call was answered by a decision for ${approve.name}'s request`);
        assert.deepEqual((await pendingList(db.url)).map((p) => p.request_id), [noReq.request_id]);
        assert.equal(existsSync(join(deny.w.ws, deny.file)), false);

        const denied = await wardenAsync(['approve', '--store', db.url, '--decide', noReq.request_id, '--decision', 'denied'], { outside: true });
        assert.equal(denied.code, 0, denied.stderr);
        const n = await no.result;
        settledAt.set(noReq.request_id, no.settledAt!);
        assert.equal(n.isError, true, JSON.stringify(n.content));
        assert.equal(n.structuredContent.state, 'rejected');
        assert.equal(n.structuredContent.decision.source, 'user');
        assert.equal(existsSync(join(deny.w.ws, deny.file)), false, `${deny.file} must not exist`);
        assert.deepEqual(await pendingList(db.url), []);

        expected.set(yesReq.request_id, { decision: 'approved', outcome: 'completed', session: approve.name });
        expected.set(noReq.request_id, { decision: 'denied', outcome: 'rejected', session: deny.name });
      }
      // From the decision's event time (stamped by the approve process) to the tool result in the
      // serve process. NOTIFY wakes the waiting server at once; the 2 s safety poll alone would
      // average a second and often take close to two.
      const events = await readAllEvents(db.url);
      const latencies = [...settledAt].map(([id, at]) => {
        const decision = events.find((e) => e.stream === id && e.type === 'DecisionRecorded');
        assert.ok(decision, `no decision stored for ${id}`);
        return at - Date.parse(decision.time);
      });
      console.error(`# decision stored -> tool result in the other process: ${latencies.map((ms) => `${ms} ms`).join(', ')}`);
      for (const ms of latencies) assert.ok(ms >= 0 && ms < 1_000, `a decision took ${ms} ms to reach its request (${latencies.join(', ')})`);
      assert.equal(A.elicitations.length + B.elicitations.length, 0, 'the clients were never asked');

      for (const s of servers.splice(0)) assert.equal(await s.close(), 0, s.stderr.slice(-2000));

      const audit = await wardenAsync(['audit', '--json', '--store', db.url]);
      assert.equal(audit.code, 0, audit.stderr);
      const rows = jsonLines(audit.stdout);
      assert.equal(rows.length, 4);
      const sessions = new Map<string, string>();
      for (const row of rows) {
        const want = expected.get(row.request_id as string);
        assert.ok(want, `unexpected request ${String(row.request_id)}`);
        assert.equal(row.decision, want.decision);
        assert.equal(row.decision_source, 'user');
        assert.equal(row.outcome, want.outcome);
        // A server's requests share its session; the two servers' sessions differ.
        const seen = sessions.get(want.session);
        if (seen) assert.equal(row.session_id, seen);
        else sessions.set(want.session, row.session_id as string);
      }
      assert.notEqual(sessions.get('A'), sessions.get('B'));
      assertNothingRanUnapproved(await readAllEvents(db.url));

      const verify = await wardenAsync(['verify', '--store', db.url]);
      assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    } finally {
      for (const s of servers) {
        s.child.kill('SIGKILL');
        await s.exited;
      }
      await db.drop();
      rmSync(base, { recursive: true, force: true });
    }
  });

  test('PostgreSQL stopped under a running serve: calls fail closed and run nothing; after a restart the same serve works', async () => {
    const pg = await startOwnPostgres();
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-pgserve-fault-')));
    const w = workspaceOn(base, 'w', pg.url);
    let client: RawClient | null = null;
    try {
      client = await startServer(w, { args: ['--approval', 'never', '--sandbox', 'workspace-write', '--decision-timeout', '30'], elicitation: false });
      const pid = client.child.pid;
      const ok = await client.call('shell', { command: ['touch', 'before-outage'] });
      assert.equal(ok.isError, false, JSON.stringify(ok.content));
      assert.ok(existsSync(join(w.ws, 'before-outage')));

      pg.stop('immediate');
      const down = ['down-1', 'down-2', 'down-3'];
      for (const file of down) {
        const t0 = Date.now();
        const text = assertFailedClosed(file, await boundedCall(client, { command: ['touch', file] }, 30_000));
        assert.equal(existsSync(join(w.ws, file)), false, `${file} ran while PostgreSQL was down`);
        console.error(`# ${file}: failed closed in ${Date.now() - t0} ms: ${text.split('\n')[0]}`);
      }

      pg.start();
      // The same serve process, no restart: it reconnects by itself.
      await succeedsAgain(client, w.ws, 'after-restart', 'a call to succeed after PostgreSQL restarted');
      assert.equal(client.child.pid, pid);
      assert.equal(client.child.exitCode, null, 'serve kept running');
      for (const file of down) assert.equal(existsSync(join(w.ws, file)), false, `${file} ran late`);

      assert.equal(await client.close(), 0, client.stderr.slice(-2000));
      client = null;

      const verify = await wardenAsync(['verify', '--store', pg.url]);
      assert.equal(verify.code, 0, verify.stderr + verify.stdout);
      const events = await readAllEvents(pg.url);
      assertNothingRanUnapproved(events);
      // Whatever was recorded of the calls made during the outage, none of them started to run.
      const byStream = new Map<string, StoredEvent[]>();
      for (const e of events) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e]);
      for (const stream of byStream.values()) {
        const command = (stream[0]!.data as { command?: string[] }).command ?? [];
        if (down.includes(command[1] ?? '')) {
          assert.ok(!stream.some((e) => e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted'), stream.map((e) => e.type).join());
        }
      }
      for (const file of ['before-outage', 'after-restart']) {
        assert.ok([...byStream.values()].some((s) => (s[0]!.data as { command?: string[] }).command?.[1] === file && s.some((e) => e.type === 'ExecutionFinished' || e.type === 'SandboxRunFinished')), `${file} recorded`);
      }
    } finally {
      if (client) {
        client.child.kill('SIGKILL');
        await client.exited;
      }
      pg.destroy();
      rmSync(base, { recursive: true, force: true });
    }
  });

  test('a hung PostgreSQL (SIGSTOP, sockets open) fails the calls closed in bounded time; after it wakes the same serve works', async () => {
    const pg = await startOwnPostgres();
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-pgserve-hung-')));
    const w = workspaceOn(base, 'w', pg.url);
    let client: RawClient | null = null;
    try {
      client = await startServer(w, { args: ['--approval', 'never', '--sandbox', 'workspace-write'], elicitation: false });
      const ok = await client.call('shell', { command: ['touch', 'before-hang'] });
      assert.equal(ok.isError, false, JSON.stringify(ok.content));

      // The pool now holds an idle connection to a server that will not answer: before the query
      // timeout (src/events/postgresEventStore.ts) this call waited for as long as TCP kept it open.
      pg.freeze();
      const t0 = Date.now();
      const text = assertFailedClosed('hung-1', await boundedCall(client, { command: ['touch', 'hung-1'] }, 30_000));
      const ms = Date.now() - t0;
      console.error(`# hung-1: failed closed in ${ms} ms: ${text.split('\n')[0]}`);
      // The agent is told the store failed, never which store (its URL would tell it where to write).
      assert.match(text, /could not record this request \(its event store failed/);
      assert.doesNotMatch(text, /postgres:\/\//);
      assert.equal(existsSync(join(w.ws, 'hung-1')), false);

      pg.thaw();
      await succeedsAgain(client, w.ws, 'after-hang', 'a call to succeed after PostgreSQL woke up');
      // The frozen backend may commit the timed-out append once it wakes; nothing acts on it.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(existsSync(join(w.ws, 'hung-1')), false, 'hung-1 ran after the server woke up');

      assert.equal(await client.close(), 0, client.stderr.slice(-2000));
      client = null;
      const verify = await wardenAsync(['verify', '--store', pg.url]);
      assert.equal(verify.code, 0, verify.stderr + verify.stdout);
      assertNothingRanUnapproved(await readAllEvents(pg.url));
    } finally {
      if (client) {
        client.child.kill('SIGKILL');
        await client.exited;
      }
      pg.destroy();
      rmSync(base, { recursive: true, force: true });
    }
  });

  test('store level: an append to a hung server is one clear StoreError after the query timeout, and the store recovers', async () => {
    const pg = await startOwnPostgres();
    try {
      const store = await createPostgresEventStore(pg.url, { queryTimeoutMs: 1_000, connectTimeoutMs: 1_000 });
      try {
        const first = await store.append('s', 0, [marker('s', 'before')]);
        pg.freeze();
        const t0 = Date.now();
        await assert.rejects(store.append('s', first.nextExpectedVersion, [marker('s', 'while hung')]), (e: unknown) => {
          assert.ok(e instanceof StoreError, String(e));
          assert.match(e.message, /^PostgreSQL store .*: (no answer from the server in time|cannot reach the server)/);
          return true;
        });
        assert.ok(Date.now() - t0 < 5_000, `failing took ${Date.now() - t0} ms`);
        await assert.rejects(store.read('s'), StoreError);
        pg.thaw();
        // The timed-out append may still commit once the backend runs again: read the version back.
        const version = await eventually(() => store.read('s').then((e) => e.length, () => undefined), 10_000, 'reads to work again');
        const next = await store.append('s', version, [marker('s', 'after')]);
        assert.equal(next.nextExpectedVersion, version + 1);
        const all = await store.readAll();
        assert.deepEqual(await store.verify(), { ok: true, checked: all.length });
      } finally {
        await store.close();
      }
    } finally {
      pg.destroy();
    }
  });

  test('a request waiting for a decision while PostgreSQL restarts: a decision committed after the restart reaches it; one that could not be recorded in time ends it closed', async () => {
    const pg = await startOwnPostgres();
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-pgserve-wait-')));
    const w = workspaceOn(base, 'w', pg.url);
    let client: RawClient | null = null;
    try {
      // Long enough for (a)'s restart and approve process even on a loaded machine; (b) waits it out.
      client = await startServer(w, { args: ['--approval', 'untrusted', '--decision-timeout', '12'], elicitation: false });

      // (a) Down and back while it waits; the person approves afterwards: the same serve hears it.
      const a = trackedCall(client, { command: ['touch', 'wait-a'] });
      const aReq = await waitingFor(pg.url, ['touch', 'wait-a']);
      pg.stop('immediate');
      await new Promise((r) => setTimeout(r, 300));
      pg.start();
      const approved = await wardenAsync(['approve', '--store', pg.url, '--decide', aReq.request_id, '--decision', 'approved'], { outside: true });
      assert.equal(approved.code, 0, approved.stderr);
      const ra = await a.result;
      assert.equal(ra.isError, false, JSON.stringify(ra.content));
      assert.equal(ra.structuredContent.decision.source, 'user');
      assert.ok(existsSync(join(w.ws, 'wait-a')));

      // (b) Down through the decision timeout: the timeout's denial cannot be recorded, so the
      // call ends as an error (not a hang) and nothing runs, not even after a later approval.
      const t0 = Date.now();
      const b = trackedCall(client, { command: ['touch', 'wait-b'] });
      const bReq = await waitingFor(pg.url, ['touch', 'wait-b']);
      pg.stop('immediate');
      const rb = await b.result;
      assert.ok(b.settledAt! - t0 < 12_000 + 10_000, `settled after ${b.settledAt! - t0} ms`);
      assert.equal(rb.isError, true, JSON.stringify(rb.content));
      assert.equal(existsSync(join(w.ws, 'wait-b')), false);
      pg.start();
      await wardenAsync(['approve', '--store', pg.url, '--decide', bReq.request_id, '--decision', 'approved'], { outside: true });
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(existsSync(join(w.ws, 'wait-b')), false, 'an approval after the call ended ran it');
      // The live server closes the record it gave up on once the store is back: nobody stays "waiting".
      let ended = false;
      for (let i = 0; i < 40 && !ended; i++) {
        const stream = (await readAllEvents(pg.url)).filter((e) => e.stream === bReq.request_id);
        ended = ['Rejected', 'Interrupted'].includes(stream.at(-1)?.type ?? '');
        if (!ended) await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(ended, 'the abandoned request was not closed after the store came back');

      assert.equal(await client.close(), 0, client.stderr.slice(-2000));
      client = null;
      const verify = await wardenAsync(['verify', '--store', pg.url]);
      assert.equal(verify.code, 0, verify.stderr + verify.stdout);
      const events = await readAllEvents(pg.url);
      assertNothingRanUnapproved(events);
      assert.ok(!events.some((e) => e.stream === bReq.request_id && (e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted')));
    } finally {
      if (client) {
        client.child.kill('SIGKILL');
        await client.exited;
      }
      pg.destroy();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
