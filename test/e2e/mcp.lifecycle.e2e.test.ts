/**
 * The edges of a connection: the client goes away while a question is open, the server is killed
 * while one waits, a client without elicitation gets its request decided out of band (or denied at
 * the decision timeout, told how the person can decide), an unanswered question times out, and a
 * decision given elsewhere wins over the open question (which is then cancelled).
 */
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { wardenAsync } from '../support/cliAsync.ts';
import type { StoredEvent } from '../../src/events/types.ts';
import { eventually, makeWorkspace, readEvents, startServer, WARDEN_BIN } from './mcp.harness.ts';

/**
 * A person deciding with `warden approve` from a terminal of their own: outside this test process,
 * which plays the MCP client (its descendants are the agent's own tools and may not decide).
 */
function personDecides(store: string, requestId: string, decision: 'approved' | 'denied') {
  return wardenAsync(['approve', '--store', store, '--decide', requestId, '--decision', decision], { outside: true });
}

function decisionOf(events: StoredEvent[]) {
  const d = events.find((e) => e.type === 'DecisionRecorded');
  return d && d.type === 'DecisionRecorded' ? d.data : undefined;
}

/** The stream of the request whose command is `command`, once its question is on record. */
async function waitingRequest(storePath: string, command: string[]): Promise<string> {
  return eventually(async () => {
    const all = await readEvents(storePath);
    const req = all.find((e) => e.type === 'ApprovalRequested' && JSON.stringify(e.data.command) === JSON.stringify(command));
    if (!req) return undefined;
    return all.some((e) => e.stream === req.stream && e.type === 'DecisionRequested') ? req.stream : undefined;
  }, 15_000, `a question for ${command.join(' ')}`);
}

test('the client goes away while a question is open: denied (source error), nothing runs, the server exits cleanly', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'untrusted'], onElicit: () => 'later' });
  const pending = client.call('shell', { command: ['touch', 'gone.txt'] }).catch((e: Error) => e);
  await eventually(() => (client.elicitations.length === 1 ? true : undefined));
  const code = await client.close();
  assert.equal(code, 0, client.stderr.slice(-2000));
  assert.ok((await pending) instanceof Error, 'no answer reaches a client that left');
  const events = await readEvents(w.storePath);
  const d = decisionOf(events)!;
  assert.deepEqual([d.decision, d.source], ['denied', 'error']);
  assert.ok(!events.some((e) => e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted'));
  assert.equal(existsSync(join(w.ws, 'gone.txt')), false);
  assert.deepEqual(client.nonProtocolLines, []);
});

test('the server is killed while a question waits: nothing runs, not even after a late approval and a restart', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'untrusted'], onElicit: () => 'later' });
  void client.call('shell', { command: ['touch', 'killed.txt'] }).catch(() => undefined);
  const stream = await waitingRequest(w.storePath, ['touch', 'killed.txt']);
  client.child.kill('SIGKILL');
  await client.exited;
  // Someone approves the orphaned question from another terminal; nobody is left to run it.
  const late = await personDecides(w.storePath, stream, 'approved');
  assert.equal(late.code, 0, late.stderr);
  const next = await startServer(w, { args: ['--approval', 'untrusted'] });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const events = await readEvents(w.storePath, stream);
    assert.ok(!events.some((e) => e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted'), events.map((e) => e.type).join());
    assert.equal(existsSync(join(w.ws, 'killed.txt')), false);
  } finally {
    assert.equal(await next.close(), 0);
  }
});

test('no elicitation: the request waits for an out-of-band decision and runs once it is approved', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'untrusted', '--decision-timeout', '30'], elicitation: false });
  try {
    const call = client.call('shell', { command: ['touch', 'oob.txt'] });
    const stream = await waitingRequest(w.storePath, ['touch', 'oob.txt']);
    const res = await personDecides(w.storePath, stream, 'approved');
    assert.equal(res.code, 0, res.stderr);
    const r = await call;
    assert.equal(r.isError, false, r.content[0].text);
    assert.ok(existsSync(join(w.ws, 'oob.txt')));
    assert.equal(client.elicitations.length, 0, 'this client was never asked');
    const d = decisionOf(await readEvents(w.storePath, stream))!;
    assert.deepEqual([d.decision, d.source, d.user], ['approved', 'user', userInfo().username]);
  } finally {
    assert.equal(await client.close(), 0);
    assert.deepEqual(client.nonProtocolLines, []);
  }
});

test('no elicitation and nobody decides: denied at the timeout; the hint for the person goes to the log, never to the agent', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'untrusted', '--decision-timeout', '1'], elicitation: false });
  try {
    const r = await client.call('shell', { command: ['touch', 'oob-timeout.txt'] });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /^Nobody decided within the decision timeout/);
    // Issue 13: telling the agent the approve command and the store is telling it how to approve itself.
    assert.ok(!JSON.stringify(r).includes(w.storePath), r.content[0].text);
    assert.doesNotMatch(JSON.stringify(r), /warden approve|--store/);
    assert.ok(client.stderr.includes(`warden approve --store ${w.storePath}`), 'the person finds the hint in the log');
    assert.equal(existsSync(join(w.ws, 'oob-timeout.txt')), false);
    const d = decisionOf(await readEvents(w.storePath, r.structuredContent.requestId))!;
    assert.deepEqual([d.decision, d.source], ['denied', 'timeout']);
  } finally {
    assert.equal(await client.close(), 0);
  }
});

test('an unanswered question (or garbage instead of an answer) is denied at the decision timeout and cancelled at the client', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, {
    args: ['--approval', 'untrusted', '--decision-timeout', '1'],
    onElicit: (_e, c) => {
      c.child.stdin.write('this is not JSON\n');
      return 'later';
    },
  });
  try {
    const r = await client.call('shell', { command: ['touch', 'unanswered.txt'] });
    assert.equal(r.isError, true);
    assert.equal(existsSync(join(w.ws, 'unanswered.txt')), false);
    const d = decisionOf(await readEvents(w.storePath, r.structuredContent.requestId))!;
    assert.deepEqual([d.decision, d.source], ['denied', 'timeout']);
    const asked = client.elicitations[0]!;
    await eventually(() => (client.notifications.some((n) => n.method === 'notifications/cancelled' && n.params?.requestId === asked.id) ? true : undefined), 5000, 'cancel');
    // A late answer to the cancelled question changes nothing.
    client.respond(asked.id, { result: { action: 'accept', content: { decision: 'approved' } } });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(existsSync(join(w.ws, 'unanswered.txt')), false);
    assert.equal((await readEvents(w.storePath, r.structuredContent.requestId)).filter((e) => e.type === 'DecisionRecorded').length, 1);
  } finally {
    assert.equal(await client.close(), 0);
  }
});

test('a decision given out of band while the client is being asked wins; the open question is cancelled', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'untrusted', '--decision-timeout', '30'], onElicit: () => 'later' });
  try {
    const call = client.call('shell', { command: ['touch', 'both.txt'] });
    const stream = await waitingRequest(w.storePath, ['touch', 'both.txt']);
    await eventually(() => (client.elicitations.length === 1 ? true : undefined));
    const denied = await personDecides(w.storePath, stream, 'denied');
    assert.equal(denied.code, 0, denied.stderr);
    const r = await call;
    assert.equal(r.isError, true);
    const asked = client.elicitations[0]!;
    await eventually(() => (client.notifications.some((n) => n.method === 'notifications/cancelled' && n.params?.requestId === asked.id) ? true : undefined), 5000, 'cancel');
    client.respond(asked.id, { result: { action: 'accept', content: { decision: 'approved' } } });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(existsSync(join(w.ws, 'both.txt')), false);
    const decisions = (await readEvents(w.storePath, stream)).filter((e) => e.type === 'DecisionRecorded');
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0]!.type === 'DecisionRecorded' && decisions[0]!.data.user, userInfo().username);
  } finally {
    assert.equal(await client.close(), 0);
  }
});

test('the client cancels the tool call while it is being asked: denied (source error), nothing runs', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'untrusted', '--decision-timeout', '30'], onElicit: () => 'later' });
  try {
    client.send({ jsonrpc: '2.0', id: 'call-to-cancel', method: 'tools/call', params: { name: 'shell', arguments: { command: ['touch', 'cancelled.txt'] } } });
    const stream = await waitingRequest(w.storePath, ['touch', 'cancelled.txt']);
    await eventually(() => (client.elicitations.length === 1 ? true : undefined));
    assert.equal((client.elicitations[0]!.params as any).codex_mcp_tool_call_id, 'call-to-cancel');
    client.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'call-to-cancel', reason: 'user pressed esc' } });
    const d = await eventually(async () => decisionOf(await readEvents(w.storePath, stream)), 5000, 'a decision');
    assert.deepEqual([d.decision, d.source], ['denied', 'error']);
    assert.match(d.reason ?? '', /cancelled the tool call/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(existsSync(join(w.ws, 'cancelled.txt')), false);
  } finally {
    assert.equal(await client.close(), 0);
  }
});

test('no elicitation: a tool call the client cancels is denied, and a late out-of-band approval cannot run it', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'untrusted', '--decision-timeout', '30'], elicitation: false });
  try {
    client.send({ jsonrpc: '2.0', id: 'oob-cancel', method: 'tools/call', params: { name: 'shell', arguments: { command: ['touch', 'oob-cancelled.txt'] } } });
    const stream = await waitingRequest(w.storePath, ['touch', 'oob-cancelled.txt']);
    client.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'oob-cancel' } });
    const d = await eventually(async () => decisionOf(await readEvents(w.storePath, stream)), 5000, 'a decision');
    assert.deepEqual([d.decision, d.source], ['denied', 'error']);
    const late = await personDecides(w.storePath, stream, 'approved');
    assert.match(late.stderr, /not waiting for a decision|already decided/, late.stderr);
    assert.notEqual(late.code, 0);
    assert.equal(existsSync(join(w.ws, 'oob-cancelled.txt')), false);
  } finally {
    assert.equal(await client.close(), 0);
  }
});

test('a real client process SIGKILLed while its question is open: denied (source error), nothing runs, the server exits', async () => {
  const w = makeWorkspace();
  // The client is its own process holding the server's pipes, as an IDE would.
  const script = `
    const { spawn } = require('node:child_process');
    const server = spawn(process.execPath, ${JSON.stringify([WARDEN_BIN, 'serve', '--approval', 'untrusted', '--store', w.storePath, '--rules', w.rulesPath])}, { cwd: ${JSON.stringify(w.ws)}, stdio: ['pipe', 'pipe', require('node:fs').openSync(${JSON.stringify(join(w.dir, 'server.log'))}, 'w')] });
    console.log('PID ' + server.pid);
    const send = (m) => server.stdin.write(JSON.stringify(m) + '\\n');
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: { elicitation: {} }, clientInfo: { name: 'doomed', version: '1' } } });
    let buf = '';
    server.stdout.on('data', (d) => {
      buf += d;
      for (const line of buf.split('\\n').slice(0, -1)) {
        const m = JSON.parse(line);
        if (m.id === 1) { send({ jsonrpc: '2.0', method: 'notifications/initialized' }); send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'shell', arguments: { command: ['touch', 'killed-client.txt'] } } }); }
        if (m.method === 'elicitation/create') console.log('ASKED');
      }
      buf = buf.slice(buf.lastIndexOf('\\n') + 1);
    });
  `;
  const clientProc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  clientProc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await eventually(() => (out.includes('ASKED') ? true : undefined), 20_000, 'the question');
  const serverPid = Number(/PID (\d+)/.exec(out)![1]);
  clientProc.kill('SIGKILL');
  await eventually(() => {
    try {
      process.kill(serverPid, 0);
      return undefined;
    } catch {
      return true; // the server has exited
    }
  }, 15_000, 'the server to exit');
  const events = await readEvents(w.storePath);
  const d = decisionOf(events);
  assert.ok(d, `no decision recorded; server log: ${readFileSync(join(w.dir, 'server.log'), 'utf8').slice(-3000)}`);
  assert.deepEqual([d.decision, d.source], ['denied', 'error']);
  assert.ok(!events.some((e) => e.type === 'ExecutionStarted' || e.type === 'SandboxRunStarted'));
  assert.equal(existsSync(join(w.ws, 'killed-client.txt')), false);
});

test('approved_for_session does not carry to another connection on the same store', async () => {
  const w = makeWorkspace();
  const accept = { result: { action: 'accept', content: { decision: 'approved_for_session' } } } as const;
  const a = await startServer(w, { args: ['--approval', 'untrusted'], onElicit: () => accept });
  try {
    assert.equal((await a.call('shell', { command: ['touch', 'per-session.txt'] })).isError, false);
    assert.equal((await a.call('shell', { command: ['touch', 'per-session.txt'] })).structuredContent.decision.source, 'session-cache');
  } finally {
    assert.equal(await a.close(), 0);
  }
  const b = await startServer(w, { args: ['--approval', 'untrusted'], onElicit: () => ({ result: { action: 'decline' } }) });
  try {
    const r = await b.call('shell', { command: ['touch', 'per-session.txt'] });
    assert.equal(b.elicitations.length, 1, 'the new connection asks again');
    assert.equal(r.isError, true);
  } finally {
    assert.equal(await b.close(), 0);
  }
});
