/**
 * Which sandbox each platform gets, and that a missing one is an error naming the fix, never a silent
 * bare run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectSandbox, nodeDetectionDeps, probeBwrapInBackground, sandboxDetection, startSandboxDetection, type DetectionDeps } from '../../src/sandbox/platform.ts';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import { isSandboxUnavailableError } from '../../src/errors.ts';

const deps = (over: Partial<DetectionDeps>): DetectionDeps => ({
  platform: 'linux',
  findExecutable: () => null,
  isExecutable: () => false,
  probeBwrap: () => null,
  ...over,
});

test('linux with a working /usr/bin/bwrap: bwrap', () => {
  const d = detectSandbox(deps({ isExecutable: (p) => p === '/usr/bin/bwrap' }));
  assert.deepEqual(d, { type: 'bwrap', executable: '/usr/bin/bwrap', reason: null });
});

test('linux with bwrap elsewhere on PATH: that one', () => {
  const d = detectSandbox(deps({ findExecutable: (n) => (n === 'bwrap' ? '/opt/bin/bwrap' : null) }));
  assert.equal(d.executable, '/opt/bin/bwrap');
});

test('linux without bwrap: none, and the reason names the install commands', () => {
  const d = detectSandbox(deps({}));
  assert.equal(d.type, 'none');
  assert.match(d.reason!, /sudo apt-get install -y bubblewrap/);
  assert.match(d.reason!, /dnf install -y bubblewrap/);
  assert.match(d.reason!, /pacman -S bubblewrap/);
});

test('linux with a bwrap that cannot create namespaces: none, with its error', () => {
  const d = detectSandbox(deps({ isExecutable: () => true, probeBwrap: () => 'bwrap: No permissions to creating new namespace' }));
  assert.equal(d.type, 'none');
  assert.match(d.reason!, /No permissions to creating new namespace/);
  assert.match(d.reason!, /user namespaces/);
});

test('macOS: seatbelt when sandbox-exec exists, else none', () => {
  assert.equal(detectSandbox(deps({ platform: 'darwin', isExecutable: (p) => p === '/usr/bin/sandbox-exec' })).type, 'seatbelt');
  assert.equal(detectSandbox(deps({ platform: 'darwin' })).type, 'none');
});

test('windows: not supported yet', () => {
  const d = detectSandbox(deps({ platform: 'win32', isExecutable: () => true }));
  assert.equal(d.type, 'none');
  assert.match(d.reason!, /Windows is not supported yet/);
});

test('runCommand with a sandbox spec where there is none throws, it never runs bare', async () => {
  const detection = detectSandbox(deps({ platform: 'win32' }));
  await assert.rejects(
    runCommand(
      { command: ['sh', '-c', 'echo ran > /dev/stderr'], cwd: '/', sandboxSpec: { mode: 'read-only', writableRoots: [], network: false, tmpWrite: true } },
      { detection },
    ),
    (e: unknown) => isSandboxUnavailableError(e) && /not supported yet/.test((e as Error).message),
  );
});

test('danger-full-access and sandbox: null need no sandbox', async () => {
  const detection = detectSandbox(deps({ platform: 'win32' }));
  const a = await runCommand({ command: ['true'], cwd: '/', sandboxSpec: null }, { detection });
  const b = await runCommand(
    { command: ['true'], cwd: '/', sandboxSpec: { mode: 'danger-full-access', writableRoots: [], network: true, tmpWrite: true } },
    { detection },
  );
  assert.equal(a.sandboxType, 'none');
  assert.equal(b.sandboxType, 'none');
  assert.equal(b.exitCode, 0);
});

test('the background probe fails where the blocking one does (a bwrap that fails, one that is missing) and agrees on the real one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-probe-'));
  try {
    const failing = join(dir, 'bwrap');
    writeFileSync(failing, '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n', { mode: 0o755 });
    assert.equal(await probeBwrapInBackground(failing), 'bwrap: No permissions to create new namespace');
    // the blocking probe fails too (with bwrap's line, or EPIPE when it exits before reading the filter)
    assert.notEqual(nodeDetectionDeps.probeBwrap(failing), null);
    const missing = join(dir, 'absent');
    assert.match((await probeBwrapInBackground(missing))!, /ENOENT/);
    assert.match(nodeDetectionDeps.probeBwrap(missing)!, /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // this machine's own detection, both ways
  assert.deepEqual(await startSandboxDetection(), detectSandbox(nodeDetectionDeps));
  assert.deepEqual(sandboxDetection(), await startSandboxDetection());
});
