/**
 * Bare runs (danger-full-access) end with their request and with warden: `warden exec` and `warden
 * serve` are SIGKILLed while a bare run and a `setsid` double-forked daemon it started are running;
 * /proc must then hold no process carrying the run's WARDEN_RUN_ID, and the next start's recovery
 * records truthfully what it found. A normal end leaves nothing either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WARDEN } from '../support/cli.ts';
import { eventually, makeWorkspace, readEvents, RawClient } from './mcp.harness.ts';
import type { StoredEvent } from '../../src/events/types.ts';

/** Live (non-zombie) processes whose environment names this run. */
function processesOfRun(runId: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (env.includes(`WARDEN_RUN_ID=${runId}`)) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The script: a setsid daemon, a double fork, a marker once all are started, then a long sleep. */
const SCRIPT = `setsid sleep 1000 & setsid sh -c '(sleep 1000; echo late > late) & exit 0'; sleep 0.3; echo up > started; sleep 1000`;

const requestOf = (events: StoredEvent[]) => events.find((e) => e.type === 'ApprovalRequested')?.stream;

async function killedWhileRunning(start: (w: ReturnType<typeof makeWorkspace>) => { pid: number; kill: () => void; gone: Promise<unknown> }) {
  const w = makeWorkspace();
  const owner = start(w);
  await eventually(() => (existsSync(join(w.ws, 'started')) ? true : undefined), 30_000, 'the run and its daemons started');
  const events = await readEvents(w.storePath);
  const runId = requestOf(events)!;
  assert.ok(events.some((e) => e.type === 'ExecutionStarted'));
  const before = processesOfRun(runId);
  assert.ok(before.length >= 3, `the run's processes are visible by their run id: ${before}`);
  owner.kill();
  await owner.gone;
  // The kernel takes the namespace down when bwrap dies with its parent.
  await eventually(() => (processesOfRun(runId).length === 0 ? true : undefined), 5000, `no process of the run survives (${processesOfRun(runId)})`);
  // The next start recovers the request and says what it found.
  const next = spawn(process.execPath, [WARDEN, 'exec', '--store', w.storePath, '--approval', 'never', '--sandbox', 'danger-full-access', '--', 'true'], {
    cwd: w.ws,
    env: { ...process.env, WARDEN_LOG: 'silent', WARDEN_SESSION: 'next' },
    stdio: 'ignore',
  });
  assert.equal(await new Promise((r) => next.on('exit', r)), 0);
  const after = await readEvents(w.storePath, runId);
  const last = after.at(-1)!;
  assert.equal(last.type, 'Interrupted');
  assert.match((last.data as { reason: string }).reason, /died while it ran; no process of the run was still running/);
  assert.ok(!existsSync(join(w.ws, 'late')));
}

test('warden exec killed with -9 during a bare run: the run, its setsid daemon and double fork die too', async () => {
  await killedWhileRunning((w) => {
    const child = spawn(process.execPath, [WARDEN, 'exec', '--store', w.storePath, '--approval', 'never', '--sandbox', 'danger-full-access', '--', 'sh', '-c', SCRIPT], {
      cwd: w.ws,
      env: { ...process.env, WARDEN_LOG: 'silent', WARDEN_SESSION: 'bare' },
      stdio: 'ignore',
    });
    return { pid: child.pid!, kill: () => child.kill('SIGKILL'), gone: new Promise((r) => child.on('exit', r)) };
  });
});

test('warden serve killed with -9 during a bare run: nothing of the run survives', async () => {
  await killedWhileRunning((w) => {
    const client = new RawClient(w, { args: ['--approval', 'never', '--sandbox', 'danger-full-access'] });
    void client.initialize().then(() => client.call('shell', { command: ['sh', '-c', SCRIPT] }).catch(() => {}));
    return { pid: client.child.pid!, kill: () => client.child.kill('SIGKILL'), gone: client.exited };
  });
});

test('a bare run that leaves `setsid sleep 1000 &` behind leaves nothing running once it ends', async () => {
  const w = makeWorkspace();
  const client = new RawClient(w, { args: ['--approval', 'never', '--sandbox', 'danger-full-access'] });
  await client.initialize();
  const r = await client.call('shell', { command: ['sh', '-c', 'setsid sleep 1000 & setsid sh -c "(sleep 1000) & exit 0"; sleep 0.3; echo done'] });
  assert.equal(r.structuredContent.exitCode, 0, r.content[0].text);
  const runId = requestOf(await readEvents(w.storePath))!;
  assert.deepEqual(processesOfRun(runId), []);
  assert.equal(await client.close(), 0);
});
