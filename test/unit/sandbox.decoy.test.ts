/**
 * What the decoy sweep (src/sandbox/decoy.ts) removes from a shared temp directory: a decoy
 * directory whose owner (pid and start time) is gone, and nothing else: not a live owner's, not an
 * old-style name, not another user's, and never through a symlink planted under a decoy's name.
 * Runs in a private directory standing in for /tmp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decoyFile, sweepDecoys } from '../../src/sandbox/decoy.ts';
import { pidNamespace, processStart } from '../../src/sandbox/pidsLimit.ts';

const uid = process.getuid!();
const self = processStart('self')!;
/** A pid that was alive and is not any more. */
const deadPid = () => {
  const r = spawnSync('true');
  assert.equal(processStart(r.pid!), null);
  return r.pid!;
};

/** A decoy directory as decoyFile makes it: 0700, an empty mode-000 `hidden` inside. */
function plant(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, 'hidden'), '', { mode: 0o000 });
  return dir;
}

function withRoot(body: (root: string) => void) {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-decoy-sweep-test-')));
  try {
    body(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('a dead owner\'s decoy goes, a live owner\'s stays', () => {
  withRoot((root) => {
    const dead = plant(root, `warden-decoy-${deadPid()}-12345-aB3xYz`);
    const live = plant(root, `warden-decoy-${process.pid}-${self}-Qw9rTy`);
    assert.deepEqual(sweepDecoys(root, uid), [dead]);
    assert.ok(!existsSync(dead));
    assert.ok(existsSync(join(live, 'hidden')));
  });
});

test('a reused pid with another start time is not the owner: its decoy goes', () => {
  withRoot((root) => {
    // this process's pid, but a start time it does not have (an earlier process with the same pid)
    const reused = plant(root, `warden-decoy-${process.pid}-${BigInt(self) + 1n}-Zz0000`);
    assert.deepEqual(sweepDecoys(root, uid), [reused]);
    assert.ok(!existsSync(reused));
  });
});

test('a symlink planted under a dead owner\'s decoy name is not followed and not removed', () => {
  withRoot((root) => {
    // what it points to looks just like a decoy directory: its `hidden` must survive
    const target = plant(root, 'elsewhere');
    const link = join(root, `warden-decoy-${deadPid()}-12345-Lnk000`);
    symlinkSync(target, link);
    assert.deepEqual(sweepDecoys(root, uid), []);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.ok(existsSync(join(target, 'hidden')));
  });
});

test('another user\'s entry under a dead owner\'s decoy name is left alone', () => {
  withRoot((root) => {
    const foreign = plant(root, `warden-decoy-${deadPid()}-12345-F0reig`);
    if (uid === 0) {
      chownSync(foreign, 65534, 65534);
      assert.deepEqual(sweepDecoys(root, 0), []);
    } else {
      // not root: the entry is this user's, so the sweep is told to act for another uid instead
      assert.deepEqual(sweepDecoys(root, uid + 1), []);
    }
    assert.ok(existsSync(join(foreign, 'hidden')));
  });
});

test('only the exact name pattern is swept: old-style names, other names and non-empty decoys stay', () => {
  withRoot((root) => {
    const dead = deadPid();
    const oldStyle = plant(root, 'warden-decoy-aB3xYz'); // no owner in the name: may be a live older warden's
    const longer = plant(root, `warden-decoy-${dead}-12345-aB3xYz-extra`);
    const other = plant(root, `warden-other-${dead}-12345-aB3xYz`);
    const file = join(root, `warden-decoy-${dead}-12345-File00`);
    writeFileSync(file, '');
    const crowded = plant(root, `warden-decoy-${dead}-12345-Crowd0`);
    writeFileSync(join(crowded, 'more'), 'not a decoy\'s');
    assert.deepEqual(sweepDecoys(root, uid), []);
    for (const p of [oldStyle, longer, other]) assert.ok(existsSync(join(p, 'hidden')), p);
    assert.ok(existsSync(file));
    // the crowded one loses its decoy file at most, never what else is in it
    assert.ok(existsSync(join(crowded, 'more')));
  });
});

test('the decoy is an empty mode-000 file, named after this process, in its own 0700 directory', () => {
  const file = decoyFile();
  const st = lstatSync(file);
  assert.ok(st.isFile() && st.size === 0 && (st.mode & 0o777) === 0);
  const dir = join(file, '..');
  assert.equal(lstatSync(dir).mode & 0o777, 0o700);
  assert.match(dir.split('/').pop()!, new RegExp(`^warden-decoy-${process.pid}-${self}-p${pidNamespace()}-[A-Za-z0-9]{6}$`));
  assert.deepEqual(readdirSync(dir), ['hidden']);
  assert.equal(decoyFile(), file, 'one per process');
  assert.ok(!sweepDecoys().includes(dir), 'a live owner\'s own decoy was swept');
});

test('a decoy named for another pid namespace is never swept, one of this namespace\'s dead owner is', () => {
  // Red team: a warden under `unshare --pid` shares /dev/shm; its pids mean other processes here,
  // and this sweep removed its live decoy. Its pid and start time look dead here.
  withRoot((root) => {
    const ns = pidNamespace();
    assert.notEqual(ns, null);
    const other = plant(root, `warden-decoy-${deadPid()}-12345-p1-Oth3r0`);
    const dead = plant(root, `warden-decoy-${deadPid()}-12345-p${ns}-D3ad00`);
    assert.deepEqual(sweepDecoys(root, uid), [dead]);
    assert.ok(existsSync(join(other, 'hidden')));
  });
});
