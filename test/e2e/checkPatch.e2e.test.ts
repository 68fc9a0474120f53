/** `warden check-patch` as a real process: JSON lines in order, bad lines answered with errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const hasSandbox = existsSync('/usr/bin/bwrap');

function checkPatch(lines: string[], args: string[] = []) {
  const r = spawnSync(process.execPath, ['bin/warden.js', 'check-patch', ...args], {
    cwd: repoRoot,
    input: lines.join('\n') + '\n',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { ...r, out: r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const patch = (...body: string[]) => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');
const line = (p: string, cwd: string, roots?: string[]) => JSON.stringify(roots === undefined ? { patch: p, cwd } : { patch: p, cwd, writable_roots: roots });

test('one verdict per line, in order; bad lines get an error and the run goes on', () => {
  const r = checkPatch([
    line(patch('*** Add File: a.txt', '+x'), '/repo'),
    'not json',
    line(patch('*** Update File: src/lib.rs', '*** Move to: /elsewhere/lib.rs', '@@', '-a', '+b'), '/repo'),
    JSON.stringify({ patch: 5, cwd: '/repo' }),
    JSON.stringify({ cwd: '/repo' }),
    line('*** Begin Patch\n*** End Patch', '/repo'),
    line(patch('*** Add File: ../up.txt', '+x'), '/repo', ['/']),
    line(patch('*** Nope'), '/repo'),
    '[1,2]',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.out.length, 9);
  assert.deepEqual(r.out[0], { outcome: 'auto-approve', files: [{ path: '/repo/a.txt', kind: 'add' }], reason: 'every path is inside a writable root' });
  assert.match(String(r.out[1]!.error), /not valid JSON/);
  assert.equal(r.out[2]!.outcome, 'ask');
  assert.deepEqual(r.out[2]!.files, [{ path: '/repo/src/lib.rs', kind: 'update', move_to: '/elsewhere/lib.rs' }]);
  assert.match(String(r.out[3]!.error), /patch/);
  assert.match(String(r.out[4]!.error), /patch/);
  assert.deepEqual(r.out[5], { outcome: 'reject', files: [], reason: 'empty patch' });
  assert.equal(r.out[6]!.outcome, 'auto-approve', 'writable_roots from the line are added');
  assert.equal(r.out[7]!.outcome, 'reject');
  assert.match(String(r.out[7]!.reason), /line 2/);
  assert.ok('error' in r.out[8]!);
});

test('--approval never rejects outside writes; untrusted asks; on-failure auto-approves', () => {
  const outside = [line(patch('*** Add File: /etc/x', '+x'), '/repo')];
  assert.equal(checkPatch(outside, ['--approval', 'never']).out[0]!.outcome, 'reject');
  assert.match(String(checkPatch(outside, ['--approval', 'never']).out[0]!.reason), /writing outside of the project/);
  assert.equal(checkPatch(outside, ['--approval', 'on-failure']).out[0]!.outcome, 'auto-approve');
  assert.equal(checkPatch([line(patch('*** Add File: a', '+x'), '/repo')], ['--approval', 'untrusted']).out[0]!.outcome, 'ask');
  assert.equal(checkPatch(outside, ['--sandbox', 'danger-full-access']).out[0]!.outcome, 'auto-approve');
  assert.equal(checkPatch([line(patch('*** Add File: a', '+x'), '/repo')], ['--sandbox', 'read-only']).out[0]!.outcome, 'ask');
});

test('--writable-root and /tmp: tmp is writable by default, not with --no-tmp-write', () => {
  const tmp = [line(patch('*** Add File: /tmp/warden-e2e-never-written.txt', '+x'), '/repo')];
  assert.equal(checkPatch(tmp).out[0]!.outcome, 'auto-approve');
  assert.equal(checkPatch(tmp, ['--no-tmp-write']).out[0]!.outcome, 'ask');
  const shared = [line(patch('*** Add File: /srv/shared/x', '+x'), '/repo')];
  assert.equal(checkPatch(shared).out[0]!.outcome, 'ask');
  assert.equal(checkPatch(shared, ['--writable-root', '/srv/shared', '--writable-root', '/opt']).out[0]!.outcome, 'auto-approve');
  assert.equal(existsSync('/tmp/warden-e2e-never-written.txt'), false, 'check-patch has no side effects');
});

test('a symlink in a real workspace that points outside is asked about', () => {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'warden-e2e-cp-')));
  try {
    const ws = path.join(base, 'ws');
    mkdirSync(ws);
    mkdirSync(path.join(base, 'out'));
    symlinkSync(path.join(base, 'out'), path.join(ws, 'escape'));
    const r = checkPatch([line(patch('*** Add File: escape/x.sh', '+x'), ws)], ['--no-tmp-write']);
    assert.equal(r.out[0]!.outcome, 'ask', String(r.out[0]!.reason));
    assert.deepEqual(readdirSync(path.join(base, 'out')), []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a bad option value is a usage error (exit 2), nothing on stdout', () => {
  const r = checkPatch([line(patch('*** Add File: a', '+x'), '/repo')], ['--approval', 'sometimes']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /--approval.*sometimes.*invalid/s);
});
