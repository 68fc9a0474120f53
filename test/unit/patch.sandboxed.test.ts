/**
 * applyPatchMain run exactly as the executor runs it: `applyPatchCommand()` inside real bubblewrap
 * with `/` read-only (so /tmp is not writable) and only the workspace bound writable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyPatchCommand } from '../../src/safety/patch/applyPatchCommand.ts';

const BWRAP = '/usr/bin/bwrap';
const wrap = (...body: string[]) => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

function runSandboxed(ws: string, patch: string) {
  const args = [
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
    '--bind', ws, ws,
    '--unshare-pid', '--unshare-net', '--die-with-parent', '--new-session',
    '--chdir', ws,
    '--', ...applyPatchCommand(),
  ];
  return spawnSync(BWRAP, args, { cwd: ws, input: patch, encoding: 'utf8', timeout: 60_000 });
}

test('applyPatchCommand names plain node and the absolute compiled entry: no transpiler in the sandbox', () => {
  const argv = applyPatchCommand();
  assert.equal(argv.length, 2);
  assert.equal(argv[0], process.execPath);
  assert.match(argv[1]!, /\/dist\/safety\/patch\/applyPatchMain\.js$/);
  assert.ok(path.isAbsolute(argv[1]!) && existsSync(argv[1]!));
});

test('inside bwrap: the patch lands in cwd; a write outside fails with a sandbox error and writes nothing', () => {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'warden-bwrap-patch-')));
  const ws = path.join(base, 'ws');
  mkdirSync(ws);
  try {
    const ok = runSandboxed(ws, wrap('*** Add File: hello.txt', '+hi from the sandbox'));
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(readFileSync(path.join(ws, 'hello.txt'), 'utf8'), 'hi from the sandbox\n');
    // What the agent reads: a plain account of the change, not the applier's internals.
    assert.equal(ok.stdout, 'Success. Updated the following files:\nA hello.txt (+1 -0)\n');

    const bad = runSandboxed(ws, wrap('*** Add File: inside.txt', '+fine', '*** Add File: ../outside.txt', '+escape'));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^apply_patch: .*(EROFS|EACCES|read-only file system|permission denied)/i);
    assert.equal(bad.stdout, '');
    assert.equal(existsSync(path.join(base, 'outside.txt')), false);
    // All or nothing: the allowed half of the failed patch was not written either.
    assert.deepEqual(readdirSync(ws).sort(), ['hello.txt']);
    assert.deepEqual(readdirSync(base).sort(), ['ws']);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('applyPatchMain reports a parse error on stderr with exit 1', () => {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'warden-patch-main-')));
  try {
    const [cmd, ...rest] = applyPatchCommand();
    const r = spawnSync(cmd!, rest, { cwd: base, input: wrap('*** Nope: x'), encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^apply_patch: line 2: not a valid hunk header/);
    assert.deepEqual(readdirSync(base), []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
