/**
 * The bwrap probe's memo (probeMemo.ts): a probe that worked is not run again in the same boot for
 * the same bwrap and probe; a failure is never remembered; a memo file that is not warden's own,
 * private, regular file is ignored; and a run whose bwrap cannot set up forgets it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeBwrapInBackground } from '../../src/sandbox/platform.ts';
import { bwrapProbeMemo, forgetBwrapProbe, probeMemoFile } from '../../src/sandbox/probeMemo.ts';
import { runCommand } from '../../src/sandbox/runCommand.ts';

/** A scratch state folder and a fake bwrap that counts its runs in `runs` and exits `status`. */
function scratch(status: number) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-probememo-'));
  const env = { XDG_STATE_HOME: join(dir, 'state'), HOME: dir };
  const runs = join(dir, 'runs');
  const bwrap = join(dir, 'bwrap');
  const write = (code: number) => writeFileSync(bwrap, `#!/bin/sh\ncat > /dev/null\necho run >> '${runs}'\n${code === 0 ? '' : 'echo "bwrap: No permissions to create new namespace" >&2\n'}exit ${code}\n`, { mode: 0o755 });
  write(status);
  const count = () => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0);
  return { dir, env, bwrap, count, write, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a probe that worked is remembered: the next one does not run bwrap, and says it works', async () => {
  const s = scratch(0);
  try {
    assert.equal(await probeBwrapInBackground(s.bwrap, s.env), null);
    assert.equal(s.count(), 1);
    assert.equal(await probeBwrapInBackground(s.bwrap, s.env), null);
    assert.equal(s.count(), 1, 'the second probe ran bwrap again');
    assert.ok(existsSync(probeMemoFile(s.env)!));
  } finally {
    s.cleanup();
  }
});

test('a failed probe is never remembered, and a changed bwrap binary is probed again', async () => {
  const s = scratch(1);
  try {
    assert.match((await probeBwrapInBackground(s.bwrap, s.env))!, /No permissions/);
    assert.match((await probeBwrapInBackground(s.bwrap, s.env))!, /No permissions/);
    assert.equal(s.count(), 2);
    assert.equal(existsSync(probeMemoFile(s.env)!), false);
    // works now: remembered; then replaced by one that fails (another size): probed again, fails
    s.write(0);
    assert.equal(await probeBwrapInBackground(s.bwrap, s.env), null);
    s.write(1);
    assert.match((await probeBwrapInBackground(s.bwrap, s.env))!, /No permissions/, 'a memo of another binary was trusted');
    assert.equal(s.count(), 4);
  } finally {
    s.cleanup();
  }
});

test('a memo of another probe, or one that is not a private regular file of this user, is ignored', async () => {
  const s = scratch(0);
  try {
    const memo = bwrapProbeMemo(s.bwrap, ['--unshare-net', '--', 'true'], null, s.env)!;
    memo.remember();
    assert.equal(memo.remembered(), true);
    // the same bwrap with other arguments or another filter: not this memo
    assert.equal(bwrapProbeMemo(s.bwrap, ['--unshare-pid', '--', 'true'], null, s.env)!.remembered(), false);
    assert.equal(bwrapProbeMemo(s.bwrap, ['--unshare-net', '--', 'true'], Buffer.from([1]), s.env)!.remembered(), false);
    const file = probeMemoFile(s.env)!;
    chmodSync(file, 0o622); // writable by others: anyone could have written it
    assert.equal(memo.remembered(), false);
    chmodSync(file, 0o600);
    chmodSync(join(s.env.XDG_STATE_HOME, 'warden'), 0o777); // a folder others can write to
    assert.equal(memo.remembered(), false);
    chmodSync(join(s.env.XDG_STATE_HOME, 'warden'), 0o700);
    // a symlink to a copy of the right content: not followed
    const copy = join(s.dir, 'copy');
    writeFileSync(copy, readFileSync(file), { mode: 0o600 });
    rmSync(file);
    symlinkSync(copy, file);
    assert.equal(memo.remembered(), false);
    // a FIFO does not hang the start-up
    rmSync(file);
    execFileSync('mkfifo', [file]);
    assert.equal(memo.remembered(), false);
    rmSync(file);
    mkdirSync(file);
    assert.equal(memo.remembered(), false);
  } finally {
    s.cleanup();
  }
});

test('a run whose bwrap cannot set up forgets the memo, so the next start probes and names why', async () => {
  const s = scratch(0);
  const saved = process.env.XDG_STATE_HOME;
  process.env.XDG_STATE_HOME = s.env.XDG_STATE_HOME;
  try {
    assert.equal(await probeBwrapInBackground(s.bwrap, s.env), null);
    assert.ok(existsSync(probeMemoFile(s.env)!));
    const ran = join(s.dir, 'ran');
    const r = await runCommand(
      { command: ['sh', '-c', `echo ran > ${ran}`], cwd: s.dir, sandboxSpec: { mode: 'read-only', writableRoots: [], network: false, tmpWrite: true } },
      { detection: { type: 'bwrap', executable: '/bin/false', reason: null } },
    );
    assert.match(r.error ?? '', /^sandbox set-up failed/);
    assert.equal(existsSync(ran), false);
    assert.equal(existsSync(probeMemoFile(s.env)!), false, 'the memo outlived a set-up failure');
    forgetBwrapProbe(s.env); // forgetting what is not there is fine
  } finally {
    if (saved === undefined) delete process.env.XDG_STATE_HOME;
    else process.env.XDG_STATE_HOME = saved;
    s.cleanup();
  }
});
