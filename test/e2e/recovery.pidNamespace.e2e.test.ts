/**
 * Recovery on a store shared across pid namespaces (a container with the host's name and the
 * host's store, `unshare -p`): a `warden exec` there waits for a decision, and a `warden exec` on
 * the host, whose start-up closes the requests of owners that are gone, must leave it alone. Its
 * pid names another process (or none) here, so it cannot be proved dead. Red team: the host
 * recorded the live request as denied ("its process is gone"), and a run under way there would have
 * been recorded as interrupted and its processes killed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { quote } from 'shell-quote';
import { openStore } from '../../src/events/openStore.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { WARDEN, warden } from '../support/cli.ts';
import { eventually } from '../support/eventually.ts';
import { tempDir } from '../support/fixtures.ts';

async function readAll(path: string): Promise<StoredEvent[]> {
  const store = await openStore({ kind: 'sqlite', path });
  try {
    return await store.readAll(1);
  } finally {
    await store.close();
  }
}

/** A pid that no process here has, so the one in the namespace gets a number that means nothing here. */
function freeHostPid(): number {
  for (let pid = 30_000; pid > 2000; pid--) if (!existsSync(`/proc/${pid}`) && !existsSync(`/proc/${pid - 1}`)) return pid;
  throw new Error('no free pid');
}

const canUnshare = spawnSync('unshare', ['-pf', '--mount-proc', 'true']).status === 0;

test('a live request whose owner is in another pid namespace is not closed by recovery here', { skip: canUnshare ? false : 'unshare -p needs root or user namespaces' }, async () => {
  const dir = tempDir('warden-pidns-');
  const store = join(dir, 'events.db');
  const pid = freeHostPid();
  // the namespace's next pid is `pid`: warden exec gets it (sh is the namespace's pid 1)
  const inner = `echo ${pid - 1} > /proc/sys/kernel/ns_last_pid; ${quote([process.execPath, WARDEN, 'exec', '--store', store, '--approval', 'untrusted', '--decision-timeout', '120', '--', 'touch', 'inner'])} </dev/null; echo rc=$?`;
  const ns = spawn('unshare', ['-pf', '--kill-child', '--mount-proc', 'sh', '-c', inner], { cwd: dir, env: { ...process.env, WARDEN_LOG: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  ns.stdout.on('data', (d: Buffer) => (out += d.toString()));
  ns.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const asked = await eventually(async () => (existsSync(store) ? (await readAll(store)).find((e) => e.type === 'DecisionRequested') : undefined), 30_000, `the exec in the namespace to wait: ${out}`);
    const first = (await readAll(store)).find((e) => e.stream === asked.stream && e.type === 'ApprovalRequested');
    assert.ok(first?.type === 'ApprovalRequested');
    assert.equal(first.data.origin.pid, pid, out);
    assert.notEqual(first.data.origin.proc?.pidNs, undefined);
    // the host's exec recovers the store before its own request
    const host = warden(['exec', '--store', store, '--', 'true'], { cwd: dir });
    assert.equal(host.code, 0, host.stderr);
    assert.doesNotMatch(host.stderr, /closed request/, host.stderr);
    const own = (await readAll(store)).filter((e) => e.stream === asked.stream);
    assert.equal(own.at(-1)?.type, 'DecisionRequested', `the request in the namespace still waits for its decision: ${own.map((e) => e.type).join(', ')}`);
    assert.match(out, /waiting up to 120 s/);
    assert.doesNotMatch(out, /rc=/, 'the exec in the namespace still waits');
  } finally {
    ns.kill('SIGKILL'); // --kill-child: the namespace's init, and so everything in it, ends with unshare
    await new Promise((r) => (ns.exitCode !== null || ns.signalCode !== null ? r(null) : ns.on('close', r)));
    rmSync(dir, { recursive: true, force: true });
  }
});
