/**
 * `warden exec` and `warden serve` refuse a store that is damaged before they run anything: one
 * overwritten page in the middle of the file (SQLite's quick_check), or an edited last event (the
 * chain tail against the recorded head). The refusal names `warden verify`, and verify agrees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteEventStore } from '../../src/events/sqliteEventStore.ts';
import { marker } from '../contract/fixtures/events.ts';
import { warden } from '../support/cli.ts';

async function filledStore(dir: string, n: number): Promise<string> {
  const path = join(dir, 'events.db');
  const store = createSqliteEventStore(path);
  for (let i = 0; i < n; i += 50) {
    await store.append(`s${i}`, 0, Array.from({ length: 50 }, (_, j) => marker('sess', `event ${i + j} ${'x'.repeat(200)}`)));
  }
  await store.close(); // checkpoints the WAL into the file
  return path;
}

function refusesToRun(dir: string, path: string, why: RegExp) {
  const r = warden(['exec', '--store', path, '--sandbox', 'danger-full-access', '--approval', 'never', '--', 'touch', 'ran'], { cwd: dir });
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, /failed its check at start/);
  assert.match(r.stderr, why);
  assert.match(r.stderr, /warden verify/);
  assert.equal(existsSync(join(dir, 'ran')), false, 'a command ran on a damaged store');
  const v = warden(['verify', '--store', path], { cwd: dir });
  assert.notEqual(v.code, 0, 'verify agrees that the store is damaged');
}

test('one damaged page in the middle of the file: exec refuses before running anything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-integrity-'));
  const path = await filledStore(dir, 3000);
  const pageSize = 4096;
  const pages = statSync(path).size / pageSize;
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, Math.floor(pages / 2) * pageSize);
  closeSync(fd);
  refusesToRun(dir, path, /quick_check|corrupt|malformed/i);
});

test('a store exec left as it closed it is not read whole again at the next start; damaged after that, the next exec still refuses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-integrity-'));
  const path = await filledStore(dir, 3000);
  const env = { XDG_STATE_HOME: join(dir, 'state') };
  const run = (name: string) => warden(['exec', '--store', path, '--sandbox', 'danger-full-access', '--approval', 'never', '--', 'touch', name], { cwd: dir, env });
  assert.equal(run('first').code, 0);
  const memos = join(dir, 'state', 'warden', 'store-checks');
  assert.equal(readdirSync(memos).length, 1, 'exec remembered the check of the store it closed');
  // the next start trusts the memo (the memo module's tests show the check is skipped), and runs
  assert.equal(run('second').code, 0);
  // one page overwritten in the middle, as a failing disk or a stray writer would: the file's
  // change time moved, so the memo no longer describes it and quick_check runs again
  const pageSize = 4096;
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, Math.floor(statSync(path).size / pageSize / 2) * pageSize);
  closeSync(fd);
  const r = run('third');
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, /failed its check at start/);
  assert.equal(existsSync(join(dir, 'third')), false, 'a command ran on a damaged store');
});

test('an edited last event: exec refuses (the chain tail no longer hashes to the head)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-integrity-'));
  const path = await filledStore(dir, 100);
  const db = new Database(path);
  db.prepare(`UPDATE events SET data = json_set(data, '$.reason', 'forged') WHERE position = (SELECT max(position) FROM events)`).run();
  db.close();
  refusesToRun(dir, path, /edited/);
});

test('a healthy store passes the check and exec runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-integrity-'));
  const path = await filledStore(dir, 100);
  const r = warden(['exec', '--store', path, '--sandbox', 'danger-full-access', '--approval', 'never', '--', 'touch', 'ran'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'ran')));
});

test('the store path replaced by a symlink to /dev/null or by a FIFO: exec and the hook refuse with a clear message and run nothing; the moved store is intact', async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-integrity-')));
  const path = await filledStore(dir, 50);
  renameSync(path, join(dir, 'moved.db'));
  const hookInput = JSON.stringify({ session_id: 's', cwd: dir, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'echo hi' }, tool_use_id: 't' });
  for (const plant of [() => symlinkSync('/dev/null', path), () => execFileSync('mkfifo', [path])]) {
    rmSync(path, { force: true });
    plant();
    const r = warden(['exec', '--store', path, '--sandbox', 'danger-full-access', '--approval', 'never', '--', 'touch', 'ran'], { cwd: dir });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not a regular file/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'a message, not a stack trace');
    const h = warden(['hook', 'claude-code', '--store', path], { cwd: dir, input: hookInput });
    assert.equal(h.code, 2);
    assert.equal(h.stdout, '');
    assert.match(h.stderr, /not a regular file/);
    assert.equal(existsSync(join(dir, 'ran')), false);
  }
  assert.equal(warden(['verify', '--store', join(dir, 'moved.db')]).code, 0);
});
