/**
 * The run cgroups (src/sandbox/pidsLimit.ts) do not pile up. Red team, issue #13: 53 empty
 * `/sys/fs/cgroup/pids/warden-*` were left on one machine, one for each run whose warden process
 * was killed mid-run: that process never runs its cleanup. The next warden process removes every
 * cgroup whose owner (pid and start time) is gone, and never one whose owner lives. Real bwrap, the
 * real CLI, the real cgroup file system.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import { pidNamespace, processStart, sweepPidsCgroups } from '../../src/sandbox/pidsLimit.ts';
import { eventually } from '../support/eventually.ts';
import { WARDEN } from '../support/cli.ts';

const PIDS = '/sys/fs/cgroup/pids';
const ownedBy = (pid: number) => readdirSync(PIDS).filter((n) => n.startsWith(`warden-${pid}-`));
const procsOf = (dir: string) => {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim();
  } catch {
    return null;
  }
};

test('the machine has a writable pids cgroup (else there is nothing to leak and nothing to test)', async () => {
  const ws = realpathSync(mkdtempSync(join(tmpdir(), 'warden-cg-')));
  try {
    const r = await runCommand({ command: ['cat', '/proc/self/cgroup'], cwd: ws, sandboxSpec: { mode: 'workspace-write', writableRoots: [], network: false, tmpWrite: false } });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.pidsLimit, 2048);
    // named by pid, start time and pid namespace, so a reused pid (or one of another namespace) is told apart
    assert.match(r.stdout, new RegExp(`pids:/warden-${process.pid}-${processStart('self')}-p${pidNamespace()}-\\d+\\n`));
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
});

test('runs that end, fail and time out leave no cgroup of this process behind', async () => {
  const ws = realpathSync(mkdtempSync(join(tmpdir(), 'warden-cg-')));
  const WW = { mode: 'workspace-write' as const, writableRoots: [], network: false, tmpWrite: false };
  try {
    await runCommand({ command: ['true'], cwd: ws, sandboxSpec: WW });
    await runCommand({ command: ['sh', '-c', 'exit 3'], cwd: ws, sandboxSpec: WW });
    await runCommand({ command: ['sh', '-c', 'sleep 30 & sleep 30'], cwd: ws, sandboxSpec: WW, timeoutMs: 300 });
    await runCommand({ command: ['/nonexistent-program'], cwd: ws, sandboxSpec: WW });
    assert.deepEqual(ownedBy(process.pid), []);
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
});

test('a warden process killed mid-run leaves its cgroup; the next warden process removes it, and keeps a live owner\'s', async () => {
  const ws = realpathSync(mkdtempSync(join(tmpdir(), 'warden-cg-')));
  const env: NodeJS.ProcessEnv = { ...process.env, WARDEN_LOG: 'silent' };
  delete env.WARDEN_STORE;
  const store = join(ws, '..', `${ws.split('/').pop()}-events.db`);
  // A live owner's cgroup (this test process, by its real start time) and an old-style one of a live pid.
  const live = join(PIDS, `warden-${process.pid}-${processStart('self')}-999999`);
  const liveOld = join(PIDS, `warden-${process.pid}-999998`);
  mkdirSync(live);
  mkdirSync(liveOld);
  try {
    const child = spawn(process.execPath, [WARDEN, 'exec', '--store', store, '--', 'sleep', '60'], { cwd: ws, env, stdio: 'ignore' });
    const pid = child.pid!;
    // bwrap, the sandbox's init and `sleep`: the sandbox is up (before bwrap has armed its
    // die-with-parent, a kill would leave it running until the command ends)
    await eventually(() => ownedBy(pid).length === 1 && (procsOf(join(PIDS, ownedBy(pid)[0]!)) ?? '').split('\n').length >= 3, 30_000, 'the run inside its cgroup');
    const left = join(PIDS, ownedBy(pid)[0]!);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // bwrap dies with its parent; the cgroup is empty then, and still there: nobody removed it
    await eventually(() => procsOf(left) === '', 10_000, 'the killed run\'s cgroup to empty');
    assert.ok(existsSync(left));
    const next = spawnSync(process.execPath, [WARDEN, 'exec', '--store', store, '--', 'true'], { cwd: ws, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(next.status, 0, next.stderr);
    assert.ok(!existsSync(left), `${left} outlived its killed owner`);
    assert.ok(existsSync(live), 'a live owner\'s cgroup was removed');
    assert.ok(existsSync(liveOld), 'an old-style cgroup of a live pid was removed');
    // and a sweep in this process keeps them too
    assert.ok(!sweepPidsCgroups().includes(live));
    assert.ok(existsSync(live) && existsSync(liveOld));
  } finally {
    rmdirSync(live);
    rmdirSync(liveOld);
    rmSync(ws, { recursive: true, force: true });
    rmSync(store, { force: true });
    rmSync(`${store}-wal`, { force: true });
    rmSync(`${store}-shm`, { force: true });
  }
});

/** A run cgroup at `dir` with a stand-in process in it (a sleep), as a run of its named owner would be. */
function standIn(dir: string) {
  mkdirSync(dir);
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
  return child;
}

test('what still runs in a dead owner\'s run cgroup is killed by the next sweep, and the cgroup goes; a live owner\'s runs are kept', async () => {
  // A dead owner: this pid with a start time it never had (as a reused pid looks). The stand-in for
  // a sandbox child left blocked by its killed warden is a sleep moved into that cgroup.
  const dead = join(PIDS, `warden-${process.pid}-1-p${pidNamespace()}-1`);
  const live = join(PIDS, `warden-${process.pid}-${processStart('self')}-p${pidNamespace()}-999997`);
  const orphan = standIn(dead);
  const kept = standIn(live);
  try {
    sweepPidsCgroups();
    assert.equal(await eventually(() => orphan.signalCode, 10_000, 'the orphan to be killed'), 'SIGKILL');
    // reaped, the cgroup is empty: this sweep or the next removes it
    await eventually(() => (sweepPidsCgroups(), !existsSync(dead)), 10_000, 'the dead owner\'s cgroup to go');
    assert.equal(kept.exitCode, null, 'a live owner\'s run was killed');
    assert.equal(procsOf(live), String(kept.pid));
  } finally {
    orphan.kill('SIGKILL');
    kept.kill('SIGKILL');
    await eventually(() => procsOf(live) === '' && (!existsSync(dead) || procsOf(dead) === ''), 10_000, 'the stand-ins to exit');
    rmdirSync(live);
    if (existsSync(dead)) rmdirSync(dead);
  }
});

test('a run cgroup of a warden in another pid namespace, or of a name without one, is never killed by the sweep', async () => {
  // Red team: a warden under `unshare --pid` (or in a container sharing the hierarchy) names its
  // cgroups by pids of its namespace, which here are other processes or none: its live run was
  // SIGKILLed by this sweep. Stand-ins: a pid and start time that look dead here, in a cgroup named
  // for another namespace, and in one named before names carried a namespace.
  const other = join(PIDS, `warden-${process.pid}-1-p1-1`);
  const unnamed = join(PIDS, `warden-${process.pid}-1-2`);
  assert.notEqual(pidNamespace(), '1');
  const a = standIn(other);
  const b = standIn(unnamed);
  try {
    sweepPidsCgroups();
    sweepPidsCgroups();
    // a control that the sweep ran and kills: an orphan of this namespace's dead owner goes
    const dead = join(PIDS, `warden-${process.pid}-1-p${pidNamespace()}-2`);
    const orphan = standIn(dead);
    sweepPidsCgroups();
    assert.equal(await eventually(() => orphan.signalCode, 10_000, 'the control orphan to be killed'), 'SIGKILL');
    await eventually(() => (sweepPidsCgroups(), !existsSync(dead)), 10_000, 'the control cgroup to go');
    assert.equal(a.exitCode ?? a.signalCode, null, 'another pid namespace\'s run was killed');
    assert.equal(b.exitCode ?? b.signalCode, null, 'a run of a name without a namespace was killed');
    assert.ok(existsSync(other) && existsSync(unnamed));
  } finally {
    a.kill('SIGKILL');
    b.kill('SIGKILL');
    await eventually(() => procsOf(other) === '' && procsOf(unnamed) === '', 10_000, 'the stand-ins to exit');
    if (existsSync(other)) rmdirSync(other);
    if (existsSync(unnamed)) rmdirSync(unnamed);
  }
});

test('every task of a run (threads, setsid and double-forked children) is in its cgroup and counted, and the run cannot leave it', async () => {
  // The run joins by writing 0 (its one thread) into the cgroup's `tasks` (pidsLimit.ts): what it
  // execs and forks, and every thread of those, must be born inside, and nothing inside may move out.
  const ws = realpathSync(mkdtempSync(join(tmpdir(), 'warden-cg-')));
  const probe = `
    const { Worker } = require('node:worker_threads');
    const { spawn } = require('node:child_process');
    const fs = require('node:fs');
    const own = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\\n').find((l) => l.includes(':pids:'));
    const base = '/sys/fs/cgroup/pids' + own.split(':')[2];
    const workers = [1, 2, 3].map(() => new Worker('setTimeout(() => {}, 4000)', { eval: true }));
    spawn('setsid', ['sh', '-c', '(sleep 4 &) ; sleep 4'], { detached: true, stdio: 'ignore' }).unref();
    const escapes = ['/sys/fs/cgroup/pids/tasks', '/sys/fs/cgroup/pids/cgroup.procs'].map((f) => {
      try { fs.writeFileSync(f, '0'); return f + ': written'; } catch (e) { return f + ': ' + e.code; }
    });
    setTimeout(() => {
      let tasks = 0; const outside = [];
      for (const p of fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n))) {
        let list = []; try { list = fs.readdirSync('/proc/' + p + '/task'); } catch {}
        for (const t of list) {
          let line = ''; try { line = fs.readFileSync('/proc/' + p + '/task/' + t + '/cgroup', 'utf8').split('\\n').find((l) => l.includes(':pids:')); } catch { continue; }
          tasks++;
          if (line !== own) outside.push(p + '/' + t + ' ' + line);
        }
      }
      const current = Number(fs.readFileSync(base + '/pids.current', 'utf8'));
      console.log(JSON.stringify({ own, tasks, outside, current, escapes, processes: fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).length }));
      for (const w of workers) w.terminate();
    }, 1000);
  `;
  try {
    const r = await runCommand({ command: [process.execPath, '-e', probe], cwd: ws, sandboxSpec: { mode: 'workspace-write', writableRoots: [], network: false, tmpWrite: false } });
    assert.equal(r.exitCode, 0, r.stderr);
    const seen = JSON.parse(r.stdout) as { own: string; tasks: number; outside: string[]; current: number; escapes: string[]; processes: number };
    assert.match(seen.own, new RegExp(`:pids:/warden-${process.pid}-`), 'the run is not in a run cgroup of this process');
    assert.deepEqual(seen.outside, [], 'tasks of the run outside its cgroup');
    assert.ok(seen.processes >= 5, `the setsid and double-forked children were not seen: ${r.stdout}`);
    assert.ok(seen.tasks >= 10, `the workers' threads were not seen: ${r.stdout}`);
    // pids.max counts tasks: every thread seen, and bwrap's own process outside the namespace
    assert.ok(seen.current >= seen.tasks + 1, `pids.current ${seen.current} does not count the ${seen.tasks} tasks seen`);
    for (const e of seen.escapes) assert.doesNotMatch(e, /written/, e);
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
});
