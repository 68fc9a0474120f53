/** Patch safety: the case table beside classifyPatch, then the rows that need a real disk. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { classifyPatch } from '../../src/safety/patch/classifyPatch.ts';
import { CASE_CWD, PATCH_CASES } from '../../src/safety/patch/classifyPatch.cases.ts';
import { canonicalPath, hiddenRoots } from '../../src/safety/patch/writablePaths.ts';
import type { RequestPolicy } from '../../src/events/types.ts';
import type { ApprovalPolicy } from '../../src/policy.ts';

const wrap = (...body: string[]) => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

function policy(approval: ApprovalPolicy, extra: Partial<RequestPolicy> = {}): RequestPolicy {
  return { approval, sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: false, ...extra };
}

test('the case workspace does not exist (the table is lexical)', () => {
  assert.equal(existsSync(path.dirname(CASE_CWD)), false);
});

for (const c of PATCH_CASES) {
  test(`table: ${c.why} → ${c.expect}`, () => {
    const v = classifyPatch({
      patch: wrap(...c.body),
      cwd: CASE_CWD,
      policy: policy(c.approval, { sandbox: c.sandbox ?? 'workspace-write', writableRoots: c.roots ?? [] }),
      platformSandbox: c.platformSandbox ?? 'bwrap',
      approvedForSession: c.approvedForSession ?? false,
    });
    assert.equal(v.outcome, c.expect, v.reason);
    if (c.expectSandbox !== undefined) assert.equal(v.sandbox, c.expectSandbox);
    if (c.reason !== undefined) assert.match(v.reason, c.reason);
    if (v.outcome === 'ask') assert.ok(v.askReason === 'patch' || v.askReason === 'no-sandbox');
    if (c.approvedForSession && v.outcome === 'auto-approve') assert.equal(v.decisionSource, 'session-cache');
    assert.equal(v.knownSafe, false);
    assert.equal(v.commands, null);
  });
}

test('files lists every file with absolute paths and move destinations', () => {
  const v = classifyPatch({
    patch: wrap('*** Add File: a/./b.txt', '+x', '*** Delete File: ../gone', '*** Update File: c', '*** Move to: d/../e', '@@', '-1', '+2'),
    cwd: '/w',
    policy: policy('on-request'),
    platformSandbox: 'bwrap',
    approvedForSession: false,
  });
  assert.deepEqual(v.files, [
    { path: '/w/a/b.txt', kind: 'add' },
    { path: '/gone', kind: 'delete' },
    { path: '/w/c', kind: 'update', moveTo: '/w/e' },
  ]);
});

test('never throws: odd inputs become reject verdicts', () => {
  const odd: unknown[] = [null, undefined, 42, {}, '\0', 'x'.repeat(10)];
  for (const patch of odd) {
    const v = classifyPatch({ patch: patch as string, cwd: '/w', policy: policy('on-failure'), platformSandbox: 'bwrap', approvedForSession: false });
    assert.equal(v.outcome, 'reject');
  }
  for (const cwd of ['relative/dir', '', '/w\0x', 7]) {
    const v = classifyPatch({ patch: wrap('*** Add File: a', '+x'), cwd: cwd as string, policy: policy('on-failure'), platformSandbox: 'bwrap', approvedForSession: false });
    assert.equal(v.outcome, 'reject', String(cwd));
  }
});

// ---- rows that need a real disk

function workspace(): { base: string; ws: string; outside: string; done: () => void } {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'warden-patch-')));
  const ws = path.join(base, 'ws');
  const outside = path.join(base, 'outside');
  mkdirSync(ws);
  mkdirSync(outside);
  return { base, ws, outside, done: () => rmSync(base, { recursive: true, force: true }) };
}

function judge(ws: string, body: string[], extra: Partial<RequestPolicy> = {}, approval: ApprovalPolicy = 'on-request') {
  return classifyPatch({ patch: wrap(...body), cwd: ws, policy: policy(approval, extra), platformSandbox: 'bwrap', approvedForSession: false });
}

test('a symlinked directory in the workspace pointing outside makes the path outside', () => {
  const t = workspace();
  try {
    symlinkSync(t.outside, path.join(t.ws, 'link'));
    const v = judge(t.ws, ['*** Add File: link/evil.sh', '+x']);
    assert.equal(v.outcome, 'ask');
    assert.match(v.reason, /resolves to .*outside/);
    assert.equal(judge(t.ws, ['*** Add File: link/evil.sh', '+x'], {}, 'never').outcome, 'reject');
    // The same write without the link is fine.
    assert.equal(judge(t.ws, ['*** Add File: real/evil.sh', '+x']).outcome, 'auto-approve');
  } finally {
    t.done();
  }
});

test('a symlinked file (also dangling) pointing outside is outside, for update, delete and move', () => {
  const t = workspace();
  try {
    writeFileSync(path.join(t.outside, 'target'), 'a\n');
    symlinkSync(path.join(t.outside, 'target'), path.join(t.ws, 'file-link'));
    symlinkSync(path.join(t.outside, 'not-yet'), path.join(t.ws, 'dangling'));
    assert.equal(judge(t.ws, ['*** Update File: file-link', '@@', '-a', '+b']).outcome, 'ask');
    assert.equal(judge(t.ws, ['*** Delete File: file-link']).outcome, 'ask');
    assert.equal(judge(t.ws, ['*** Add File: dangling', '+x']).outcome, 'ask');
    assert.equal(judge(t.ws, ['*** Update File: a', '*** Move to: dangling', '@@', '-a', '+b']).outcome, 'ask');
  } finally {
    t.done();
  }
});

test('relative symlinks, chains and links that stay inside are followed correctly', () => {
  const t = workspace();
  try {
    mkdirSync(path.join(t.ws, 'src'));
    symlinkSync('src', path.join(t.ws, 'alias')); // inside → fine
    symlinkSync('../outside', path.join(t.ws, 'up')); // relative escape
    symlinkSync('up', path.join(t.ws, 'chain')); // chain to the escape
    assert.equal(judge(t.ws, ['*** Add File: alias/a.ts', '+x']).outcome, 'auto-approve');
    assert.equal(judge(t.ws, ['*** Add File: up/a', '+x']).outcome, 'ask');
    assert.equal(judge(t.ws, ['*** Add File: chain/a', '+x']).outcome, 'ask');
    assert.equal(canonicalPath(path.join(t.ws, 'chain', 'x', 'y')), path.join(t.outside, 'x', 'y'));
  } finally {
    t.done();
  }
});

/** Runs `fn` with every lstatSync of warden's modules (named imports included) listed in `looked`. */
function listingLstat<T>(looked: string[], fn: () => T): T {
  const writable = fs as { lstatSync: typeof fs.lstatSync };
  const lstat = fs.lstatSync;
  writable.lstatSync = ((p: fs.PathLike, o?: fs.StatSyncOptions) => {
    looked.push(String(p));
    return lstat(p, o);
  }) as typeof fs.lstatSync;
  syncBuiltinESMExports();
  try {
    return fn();
  } finally {
    writable.lstatSync = lstat;
    syncBuiltinESMExports();
  }
}

test('the hidden list is resolved through a symlinked home, each shared parent looked up once per judgement', () => {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'warden-hidden-roots-')));
  try {
    mkdirSync(path.join(base, 'real'));
    writeFileSync(path.join(base, 'real', '.npmrc'), 'token');
    symlinkSync('real', path.join(base, 'home'));
    const home = path.join(base, 'home');
    const names = ['.ssh', '.aws', '.npmrc', '.config/gh', '.config/op'];
    const hidden = names.map((n) => path.join(home, n));
    const looked: string[] = [];
    const roots = listingLstat(looked, () => hiddenRoots(hidden));
    // a patch writing through the link is judged against where it leads, as before
    assert.deepEqual(roots, names.map((n) => path.join(base, 'real', n)));
    assert.equal(looked.filter((p) => p === home).length, 1, 'the home link was looked up once, not once per hidden entry');
    // and the next judgement looks at the disk again: nothing is kept between requests
    looked.length = 0;
    listingLstat(looked, () => hiddenRoots(hidden));
    assert.equal(looked.filter((p) => p === home).length, 1);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a symlink into .git is protected like .git', () => {
  const t = workspace();
  try {
    mkdirSync(path.join(t.ws, '.git', 'hooks'), { recursive: true });
    symlinkSync('.git/hooks', path.join(t.ws, 'hooks'));
    const v = judge(t.ws, ['*** Add File: hooks/pre-commit', '+#!/bin/sh']);
    assert.equal(v.outcome, 'ask');
    assert.match(v.reason, /\.git/);
  } finally {
    t.done();
  }
});

test('a symlink loop is never auto-approved', () => {
  const t = workspace();
  try {
    symlinkSync('b', path.join(t.ws, 'a'));
    symlinkSync('a', path.join(t.ws, 'b'));
    const v = judge(t.ws, ['*** Add File: a/x', '+x']);
    assert.equal(v.outcome, 'ask');
    assert.match(v.reason, /cannot be resolved/);
  } finally {
    t.done();
  }
});

test("a .git file's gitdir target is protected even in another writable root", () => {
  const t = workspace();
  try {
    const store = path.join(t.base, 'store');
    mkdirSync(path.join(store, 'wt-meta'), { recursive: true });
    writeFileSync(path.join(t.ws, '.git'), `gitdir: ${path.join(store, 'wt-meta')}\n`);
    const roots = { writableRoots: [store] };
    const hook = judge(t.ws, [`*** Add File: ${path.join(store, 'wt-meta', 'hooks', 'post-checkout')}`, '+x'], roots);
    assert.equal(hook.outcome, 'ask');
    assert.match(hook.reason, /git directory/);
    assert.equal(judge(t.ws, [`*** Add File: ${path.join(store, 'other.txt')}`, '+x'], roots).outcome, 'auto-approve');
    // A relative gitdir pointer resolves against the root.
    writeFileSync(path.join(t.ws, '.git'), 'gitdir: ../store/wt-meta\n');
    assert.equal(judge(t.ws, [`*** Add File: ../store/wt-meta/config`, '+x'], roots).outcome, 'ask');
    // The .git file itself is protected too.
    assert.equal(judge(t.ws, ['*** Update File: .git', '@@', '-a', '+b']).outcome, 'ask');
  } finally {
    t.done();
  }
});

test('a writable root given through a symlink matches paths under its real location', () => {
  const t = workspace();
  try {
    symlinkSync(t.outside, path.join(t.base, 'root-link'));
    const roots = { writableRoots: [path.join(t.base, 'root-link')] };
    assert.equal(judge(t.ws, [`*** Add File: ${path.join(t.outside, 'a')}`, '+x'], roots).outcome, 'auto-approve');
    assert.equal(judge(t.ws, [`*** Add File: ${path.join(t.base, 'root-link', 'a')}`, '+x'], roots).outcome, 'auto-approve');
  } finally {
    t.done();
  }
});

test('/tmp and $TMPDIR are writable roots only with tmpWrite', () => {
  const t = workspace();
  const saved = process.env.TMPDIR;
  // A $TMPDIR outside /tmp, so only the TMPDIR rule can make it writable.
  const varTmp = mkdtempSync(path.join(existsSync('/var/tmp') ? '/var/tmp' : t.base, 'warden-tmpdir-'));
  try {
    process.env.TMPDIR = varTmp;
    const body = ['*** Add File: /tmp/warden-scratch.txt', '+x'];
    assert.equal(judge(t.ws, body, { tmpWrite: true }).outcome, 'auto-approve');
    assert.equal(judge(t.ws, body, { tmpWrite: false }).outcome, 'ask');
    const inTmpdir = [`*** Add File: ${path.join(varTmp, 'x')}`, '+x'];
    assert.equal(judge(t.ws, inTmpdir, { tmpWrite: true }).outcome, 'auto-approve');
    assert.equal(judge(t.ws, inTmpdir, { tmpWrite: false }).outcome, 'ask');
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(varTmp, { recursive: true, force: true });
    t.done();
  }
});
