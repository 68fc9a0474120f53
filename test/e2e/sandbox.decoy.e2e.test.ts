/**
 * The decoy directories (src/sandbox/decoy.ts) do not pile up in the temp directory: ~430
 * `warden-decoy-*` were left on one machine, one for each warden process killed mid-run (its exit
 * handler never ran). A killed `warden exec` leaves its decoy; the next warden run removes it, and
 * keeps a live owner's. Real bwrap, the real CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decoyFile, decoyRoot } from '../../src/sandbox/decoy.ts';
import { readProcesses } from '../../src/sandbox/signals.ts';
import { eventually } from '../support/eventually.ts';
import { REPO, WARDEN } from '../support/cli.ts';

const decoysOf = (pid: number) => readdirSync(decoyRoot()).filter((n) => n.startsWith(`warden-decoy-${pid}-`));
const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
};
/** Whether a `sleep` runs below `pid` (the sandboxed command is up). */
function sleepsBelow(pid: number): boolean {
  const procs = readProcesses();
  const below = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (below.has(p.ppid) && !below.has(p.pid)) (below.add(p.pid), (grew = true));
  }
  return [...below].some((p) => p !== pid && comm(p) === 'sleep');
}

test('a warden exec killed mid-run leaves its decoy; the next warden run removes it and keeps a live owner\'s', async () => {
  const ws = realpathSync(mkdtempSync(join(tmpdir(), 'warden-decoy-e2e-')));
  const env: NodeJS.ProcessEnv = { ...process.env, WARDEN_LOG: 'silent' };
  delete env.WARDEN_STORE;
  const store = join(ws, '..', `${ws.split('/').pop()}-events.db`);
  // A live owner's decoy: this test process's own.
  const live = join(decoyFile(), '..');
  try {
    const child = spawn(process.execPath, [WARDEN, 'exec', '--store', store, '--', 'sleep', '60'], { cwd: ws, env, stdio: 'ignore' });
    const pid = child.pid!;
    // the store is one of the hidden files, so the run made a decoy; the sandboxed sleep is up
    await eventually(() => decoysOf(pid).length === 1 && sleepsBelow(pid), 30_000, 'the run to make its decoy and start');
    const left = join(decoyRoot(), decoysOf(pid)[0]!);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    assert.ok(existsSync(join(left, 'hidden')), 'the killed run\'s decoy is there: nobody removed it');
    const next = spawnSync(process.execPath, [WARDEN, 'exec', '--store', store, '--', 'true'], { cwd: ws, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(next.status, 0, next.stderr);
    assert.ok(!existsSync(left), `${left} outlived its killed owner`);
    assert.ok(existsSync(join(live, 'hidden')), 'a live owner\'s decoy was removed');
    // and the next run removed its own at its exit
    assert.deepEqual(decoysOf(next.pid!), []);
  } finally {
    rmSync(ws, { recursive: true, force: true });
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${store}${suffix}`, { force: true });
  }
});

test('a sandboxed command of another warden process with /tmp writable cannot give this process\'s decoy content', async () => {
  // Red team: the decoy lived in the shared temp directory, hidden only from its own process's
  // sandboxes. Running as its owner, a command sandboxed by another warden process (the agent runs
  // one per hook call) chmod'ed it and wrote into it, and every hidden file of this process's runs
  // showed what it wrote, during a run and in the window between the check and the mount.
  const ws = realpathSync(mkdtempSync(join(tmpdir(), 'warden-decoy-e2e-')));
  const decoy = decoyFile();
  const other = `
    import { runCommand } from ${JSON.stringify(join(REPO, 'src', 'sandbox', 'runCommand.ts'))};
    const r = await runCommand({ command: ['sh', '-c', ${JSON.stringify(`chmod 644 '${decoy}'; echo planted > '${decoy}'; cat '${decoy}'`)}], cwd: ${JSON.stringify(ws)}, sandboxSpec: { mode: 'workspace-write', writableRoots: [], network: false, tmpWrite: true } });
    process.stdout.write(JSON.stringify(r));`;
  try {
    // and with TMPDIR=/dev/shm, which then is the other sandbox's writable temp directory
    for (const TMPDIR of [process.env.TMPDIR, '/dev/shm']) {
      const env = { ...process.env, ...(TMPDIR === undefined ? {} : { TMPDIR }) };
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', other], { cwd: REPO, env, encoding: 'utf8', timeout: 60_000 });
      assert.equal(child.status, 0, child.stderr);
      const r = JSON.parse(child.stdout) as { stdout: string; sandboxType: string };
      assert.doesNotMatch(r.stdout, /planted/, `TMPDIR=${TMPDIR}`);
    }
    const st = lstatSync(decoy);
    assert.ok(st.isFile() && st.size === 0 && (st.mode & 0o777) === 0, `the decoy was changed: mode ${(st.mode & 0o777).toString(8)}, ${st.size} bytes`);
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
});
