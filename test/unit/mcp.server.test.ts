/**
 * buildServer in-process over the SDK's in-memory transport, with the real runtime and a temp
 * SQLite store: building has no side effects (nothing recorded until a call), and a long call that
 * carries a progressToken reports progress while it waits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { buildServer } from '../../src/mcp/server.ts';
import { createRuntime } from '../../src/cli/runtime.ts';
import { tempSqliteStore } from '../support/fixtures.ts';

async function setup(decisionTimeoutMs: number, decisionTimeoutWithoutProgressMs?: number, afterFirstCall?: (tool: string) => void) {
  const t = tempSqliteStore();
  const rules = join(t.dir, 'rules.toml');
  writeFileSync(rules, '');
  // as `warden serve` does: no connection-wide channel, each call brings its own
  const runtime = await createRuntime({ store: t.store, rulesPath: rules, decisionTimeoutMs, channel: null });
  const built = buildServer({
    store: t.store,
    effects: runtime.effects,
    policy: { approval: 'untrusted', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: true },
    sessionId: 'unit-session',
    defaultCwd: realpathSync(t.dir),
    decisionTimeoutMs,
    ...(decisionTimeoutWithoutProgressMs === undefined ? {} : { decisionTimeoutWithoutProgressMs }),
    outOfBandHint: 'run `warden approve` in a terminal',
    origin: (callId) => ({ surface: 'mcp', pid: process.pid, host: 'test', callId }),
    progressIntervalMs: 50,
    ...(afterFirstCall === undefined ? {} : { afterFirstCall }),
  });
  return { t, runtime, built };
}

test('building the server records nothing and sends nothing', async () => {
  const { t, runtime, built } = await setup(1000);
  assert.equal(await t.store.headPosition(), 0);
  assert.equal(built.server.transport, undefined);
  await built.idle();
  await t.cleanup();
});

test('a call with a progressToken reports progress while it waits for a decision', async () => {
  // The call waits 3 s for a decision; the client gives up after 1 s without progress. Only the
  // ticks (every 50 ms) keep it alive: a gap of 1 s, not a slow machine's 250 ms, is a failure.
  const { t, runtime, built } = await setup(3000);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await built.server.connect(serverSide);
  const client = new Client({ name: 'unit', version: '1' }, { capabilities: {} });
  await client.connect(clientSide);
  try {
    const ticks: number[] = [];
    const r = await client.callTool({ name: 'shell', arguments: { command: ['touch', 'x'] } }, undefined, {
      onprogress: (p) => ticks.push(p.progress),
      timeout: 1000,
      resetTimeoutOnProgress: true,
    });
    assert.equal(r.isError, true);
    // Issue 13: the agent is not told how to decide out of band (that would teach it to approve itself).
    assert.match((r.content as Array<{ text: string }>)[0]!.text, /This client cannot show approval questions\.$/m);
    assert.doesNotMatch((r.content as Array<{ text: string }>)[0]!.text, /approve|--store/);
    assert.ok(ticks.length >= 3, `progress ticks: ${ticks}`);
    assert.deepEqual(ticks, ticks.map((_, i) => i + 1));
    const events = await t.store.readAll(1);
    assert.ok(events.every((e) => e.sessionId === 'unit-session'));
    const d = events.find((e) => e.type === 'DecisionRecorded');
    assert.ok(d?.type === 'DecisionRecorded' && d.data.source === 'timeout');
  } finally {
    await client.close();
    await built.idle();
    await t.cleanup();
  }
});

test('a call without a progressToken is decided within the shorter timeout; one with a token waits the full one', async () => {
  const { t, built } = await setup(3000, 300);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await built.server.connect(serverSide);
  const client = new Client({ name: 'unit', version: '1' }, { capabilities: {} });
  await client.connect(clientSide);
  try {
    let started = Date.now();
    const quick = await client.callTool({ name: 'shell', arguments: { command: ['touch', 'x'] } });
    const quickMs = Date.now() - started;
    started = Date.now();
    const patient = await client.callTool({ name: 'shell', arguments: { command: ['touch', 'y'] } }, undefined, { onprogress: () => undefined, timeout: 10_000 });
    const patientMs = Date.now() - started;
    for (const r of [quick, patient]) assert.equal((r.structuredContent as { decision: { source: string } }).decision.source, 'timeout');
    assert.ok(quickMs < 2500, `without a token: ${quickMs} ms`);
    assert.ok(patientMs >= 2900, `with a token: ${patientMs} ms`);
  } finally {
    await client.close();
    await built.idle();
    await t.cleanup();
  }
});

test('afterFirstCall runs once per tool, when its first call is done and before that call is answered', async () => {
  const seen: Array<{ tool: string; answered: number }> = [];
  let answered = 0;
  const { t, built } = await setup(300, undefined, (tool) => seen.push({ tool, answered }));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await built.server.connect(serverSide);
  const client = new Client({ name: 'unit', version: '1' }, { capabilities: {} });
  await client.connect(clientSide);
  try {
    // rejected by its classification: done at once, nothing applied
    const call = async (name: string, args: Record<string, unknown>) => {
      await client.callTool({ name, arguments: args });
      answered++;
    };
    await call('apply_patch', { patch: 'not a patch' });
    await call('apply_patch', { patch: 'still not a patch' });
    await call('shell', { command: ['touch', 'x'] });
    assert.deepEqual(seen, [
      { tool: 'apply_patch', answered: 0 },
      { tool: 'shell', answered: 2 },
    ]);
  } finally {
    await client.close();
    await built.idle();
    await t.cleanup();
  }
});
