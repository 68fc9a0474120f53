/**
 * Timeouts measure the command, not warden's stalls: `warden serve` is SIGSTOPped for 10 s while
 * `sleep 1` runs with a 3 s timeout are under way. Each run exited 0 long before its deadline, and
 * none may be recorded as timed out when warden wakes (its deadline timers then fire before the
 * exits are processed). A command that is itself SIGSTOPped is still timed out, and killed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, makeWorkspace, readEvents, RawClient, outputOf } from './mcp.harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a stall of warden itself (SIGSTOP 10 s) does not turn finished runs into timeouts', async () => {
  const w = makeWorkspace();
  const client = new RawClient(w, { args: ['--approval', 'never', '--sandbox', 'danger-full-access'] });
  await client.initialize();
  const N = 6;
  const calls = Array.from({ length: N }, (_, i) => client.call('shell', { command: ['sh', '-c', `touch started-${i}; sleep 1; echo run-${i}`], timeout_ms: 3000 }));
  // Started means the processes exist (ExecutionStarted is stored before the spawn).
  const all = () => Array.from({ length: N }, (_, i) => existsSync(join(w.ws, `started-${i}`))).every(Boolean);
  await eventually(() => (all() ? true : undefined), 20_000, 'all runs started');
  client.child.kill('SIGSTOP');
  await sleep(10_000);
  client.child.kill('SIGCONT');
  const results = await Promise.all(calls);
  for (const [i, r] of results.entries()) {
    assert.equal(r.structuredContent.timedOut ?? false, false, r.content[0].text);
    assert.equal(r.structuredContent.exitCode, 0, r.content[0].text);
    assert.equal(outputOf(r), `run-${i}\n`);
  }
  const finished = (await readEvents(w.storePath)).filter((e) => e.type === 'ExecutionFinished');
  assert.equal(finished.length, N);
  for (const e of finished) assert.equal((e.data as { timedOut: boolean }).timedOut, false);
  assert.equal(await client.close(), 0);
});

test('a command that stops itself (SIGSTOP) is timed out and killed', async () => {
  const w = makeWorkspace();
  const client = new RawClient(w, { args: ['--approval', 'never', '--sandbox', 'danger-full-access'] });
  await client.initialize();
  const started = Date.now();
  const r = await client.call('shell', { command: ['sh', '-c', 'echo before; kill -STOP $$; echo after'], timeout_ms: 800 });
  assert.equal(r.structuredContent.timedOut, true, r.content[0].text);
  assert.equal(outputOf(r), 'before\n');
  assert.ok(Date.now() - started < 5000, 'returned promptly');
  assert.equal(await client.close(), 0);
});
