/**
 * The store on real media that fails: a small tmpfs filled to the last byte (a full disk), then the
 * same file system remounted read-only (read-only media). `warden exec` must run nothing it cannot
 * record, say why, lose nothing already recorded, and work again once space is back; audit and
 * verify still read a store on read-only media. Needs root (mount), as the sandbox tests run here.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { warden } from '../support/cli.ts';

let mnt: string;
let work: string;
before(() => {
  mnt = mkdtempSync(join(tmpdir(), 'warden-media-'));
  work = mkdtempSync(join(tmpdir(), 'warden-media-work-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
  assert.equal(r.status, 0, `mount a small tmpfs: ${r.stderr}`);
});
after(() => {
  spawnSync('umount', [mnt]);
  rmSync(mnt, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const exec = (store: string, file: string) =>
  warden(['exec', '--store', store, '--sandbox', 'danger-full-access', '--approval', 'never', '--', 'touch', file], { cwd: work });

function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  // the last partial chunk
  const fd2 = openSync(path, 'a');
  try {
    for (;;) writeSync(fd2, Buffer.alloc(512, 1));
  } catch {
    // full
  } finally {
    closeSync(fd2);
  }
}

test('a full disk: nothing runs without its record, nothing recorded is lost, and it works again once there is space', () => {
  const store = join(mnt, 'events.db');
  assert.equal(exec(store, 'first').code, 0);
  const filler = join(mnt, 'filler');
  fill(filler);
  const full = exec(store, 'while-full');
  assert.notEqual(full.code, 0, 'ran on a full disk');
  assert.match(full.stderr, /store|disk|full/i);
  assert.equal(existsSync(join(work, 'while-full')), false, 'a command ran without a record');
  assert.match(full.stderr, /event store .*disk full or failing/);
  assert.doesNotMatch(full.stderr, /\n\s+at /, 'a message, not a stack trace');
  // The hook on the full disk: blocked or denied with a reason, never an allow.
  const hookInput = JSON.stringify({ session_id: 's', cwd: work, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'echo hi' }, tool_use_id: 't' });
  const hook = warden(['hook', 'claude-code', '--store', store], { cwd: work, input: hookInput });
  if (hook.code === 0) assert.equal(JSON.parse(hook.stdout).hookSpecificOutput.permissionDecision, 'deny', hook.stdout);
  else assert.deepEqual([hook.code, hook.stdout], [2, ''], hook.stderr);
  assert.match(hook.stderr + hook.stdout, /disk full or failing|could not record/);
  rmSync(filler);
  const again = exec(store, 'after');
  assert.equal(again.code, 0, again.stderr);
  assert.ok(existsSync(join(work, 'after')));
  const v = warden(['verify', '--store', store], { cwd: work });
  assert.equal(v.code, 0, v.stdout + v.stderr);
});

test('read-only media: exec refuses with a clear message and runs nothing; audit and verify still read it', () => {
  const store = join(mnt, 'events.db');
  const r = spawnSync('mount', ['-o', 'remount,ro', mnt], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  try {
    const ro = exec(store, 'on-ro');
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /read-only/);
    assert.equal(existsSync(join(work, 'on-ro')), false);
    const audit = warden(['audit', '--store', store], { cwd: work });
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, /touch/);
    const v = warden(['verify', '--store', store], { cwd: work });
    assert.equal(v.code, 0, v.stdout + v.stderr);
  } finally {
    spawnSync('mount', ['-o', 'remount,rw', mnt]);
  }
});
