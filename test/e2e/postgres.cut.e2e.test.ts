/**
 * The connection to PostgreSQL cut under real `warden hook` and `warden approve` processes: a TCP
 * forwarder of the test's own stands between warden and the machine's server (which is never
 * stopped), and the test cuts it. A hook waiting for a decision must end in a denial or a block,
 * never an allow; `warden approve --decide` through the cut must fail and record nothing; once the
 * connection is back every earlier record is intact (`warden verify`, `warden audit`).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, realpathSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createTempDatabase, type TempDatabase } from '../contract/fixtures/pgDatabase.ts';
import { jsonLines, wardenAsync } from '../support/cliAsync.ts';
import { listenOnLoopback } from '../support/loopback.ts';
import { eventually } from '../support/eventually.ts';

/** A TCP forwarder to 127.0.0.1:5432 that can be cut (every connection destroyed, new ones refused) and mended. */
async function forwarder(target: URL) {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) return client.destroy();
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await listenOnLoopback(server);
  return {
    port,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    mend() {
      open = true;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let db: TempDatabase | undefined;
after(async () => db?.drop());

test('the connection cut while a hook waits for a decision: a denial or a block, never an allow; approve through the cut records nothing; the log is intact after', async () => {
  db = await createTempDatabase();
  const target = new URL(db.url);
  const proxy = await forwarder(target);
  try {
    const url = new URL(db.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const store = url.toString();
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-pgcut-')));
    // An earlier record, which must survive.
    const first = await wardenAsync(['exec', '--store', store, '--approval', 'never', '--', 'true'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    const input = JSON.stringify({ session_id: 's', cwd: dir, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'touch cut-ran' }, tool_use_id: 'toolu_cut' });
    const hook = wardenAsync(['hook', 'claude-code', '--store', store, '--approval', 'untrusted', '--decision-timeout', '8'], { cwd: dir, input, asClient: true, timeoutMs: 90_000 });
    const pending = await eventually(async () => {
      const l = await wardenAsync(['approve', '--store', store, '--list', '--json'], { cwd: dir });
      return jsonLines<{ request_id: string }>(l.stdout)[0];
    }, 30_000, 'the hook request waiting');
    proxy.cut();
    const approve = await wardenAsync(['approve', '--store', store, '--decide', pending.request_id, '--decision', 'approved'], { cwd: dir, timeoutMs: 60_000 });
    assert.notEqual(approve.code, 0, `approve through a cut connection: ${approve.stdout}${approve.stderr}`);
    const answered = await hook;
    if (answered.code === 0) {
      assert.equal(JSON.parse(answered.stdout).hookSpecificOutput.permissionDecision, 'deny', answered.stdout);
    } else {
      assert.equal(answered.code, 2, answered.stderr);
      assert.equal(answered.stdout, '');
    }
    proxy.mend();
    const verify = await wardenAsync(['verify', '--store', store], { cwd: dir });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const audit = await wardenAsync(['audit', '--store', store, '--json'], { cwd: dir });
    const rows = jsonLines<{ request_id: string; decision: string | null; decision_source: string | null }>(audit.stdout);
    assert.ok(rows.length >= 2, audit.stdout + audit.stderr);
    const row = rows.find((r) => r.request_id === pending.request_id);
    assert.ok(row, 'the hook request is still recorded');
    assert.notEqual(row.decision, 'approved', 'the approval through the cut was not recorded');
  } finally {
    proxy.cut();
    await proxy.close();
  }
});
