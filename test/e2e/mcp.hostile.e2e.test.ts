/**
 * Hostile protocol input over real stdio: nothing a client sends ends or hangs `warden serve`.
 * Each frame gets the JSON-RPC error the spec names, and a normal call after it must still be
 * answered: lines over the SDK's old 10 MiB cap and over warden's own limit, a request and a
 * response nested 5,000 levels deep, bad JSON, `"jsonrpc":"1.0"`, batches, float ids, params that
 * do not fit, and `tools/call` before `initialize` (which must not run anything).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_LINE_BYTES } from '../../src/mcp/jsonBounds.ts';
import { eventually, makeWorkspace, readEvents, RawClient, startServer, type Workspace } from './mcp.harness.ts';

/** Writes one raw line and waits for the response line that `match` accepts. */
async function rawExchange(client: RawClient, line: string, match: (msg: any) => boolean, ms = 60_000): Promise<any> {
  const from = client.stdoutLines.length;
  client.child.stdin.write(`${line}\n`);
  return eventually(
    () => {
      for (const l of client.stdoutLines.slice(from)) {
        let msg: any;
        try {
          msg = JSON.parse(l);
        } catch {
          continue;
        }
        if (match(msg)) return msg;
      }
      return undefined;
    },
    ms,
    `an answer to ${line.slice(0, 80)}`,
  );
}

async function stillAnswers(client: RawClient, w: Workspace, marker: string) {
  const r = await client.call('shell', { command: ['touch', marker] });
  assert.equal(r.structuredContent.exitCode, 0, r.content[0].text);
  assert.ok(existsSync(join(w.ws, marker)));
}

describe('before initialize', () => {
  test('tools/call before initialize is refused with -32600 and runs nothing; the session still initializes after', async () => {
    const w = makeWorkspace();
    const client = new RawClient(w, { args: ['--approval', 'never', '--sandbox', 'danger-full-access'] });
    const early = await client.request('tools/call', { name: 'shell', arguments: { command: ['touch', 'early'] } });
    assert.equal(early.error?.code, -32600, JSON.stringify(early));
    assert.match(early.error.message, /before initialize/);
    const init = await client.initialize();
    assert.ok(init.result, JSON.stringify(init));
    await stillAnswers(client, w, 'after');
    assert.equal(existsSync(join(w.ws, 'early')), false, 'the early call never ran');
    const types = (await readEvents(w.storePath)).filter((e) => e.type === 'ApprovalRequested');
    assert.equal(types.length, 1, 'only the call after initialize was recorded');
    assert.equal(await client.close(), 0);
  });
});

describe('hostile frames in one session', () => {
  let w: Workspace;
  let client: RawClient;
  before(async () => {
    w = makeWorkspace();
    client = await startServer(w, { args: ['--approval', 'never', '--sandbox', 'danger-full-access'] });
  });
  after(async () => {
    assert.equal(await client.close(), 0);
    assert.deepEqual(client.nonProtocolLines, []);
  });

  test('an 11 MiB ping (over the SDK cap) is answered, and so is the next call', async () => {
    const pad = 'x'.repeat(11 * 1024 * 1024);
    const res = await rawExchange(client, JSON.stringify({ jsonrpc: '2.0', id: 'big-ping', method: 'ping', params: { _meta: { pad } } }), (m) => m.id === 'big-ping');
    assert.deepEqual(res.result, {});
    await stillAnswers(client, w, 'after-11mib');
  });

  test('a line over the limit gets -32600 for its id, one without an id is logged, and the session goes on', async () => {
    const pad = 'y'.repeat(MAX_LINE_BYTES + 1024);
    const res = await rawExchange(client, `{"jsonrpc":"2.0","id":"huge","method":"tools/call","params":{"name":"apply_patch","arguments":{"patch":"${pad}"}}}`, (m) => m.id === 'huge');
    assert.equal(res.error?.code, -32600);
    assert.match(res.error.message, /line limit/);
    const logged = client.stderr.length;
    client.child.stdin.write(`{"pad":"${pad}"}\n`);
    await eventually(() => (client.stderr.slice(logged).includes('no readable id') ? true : undefined), 60_000, 'the logged protocol error');
    await stillAnswers(client, w, 'after-huge');
  });

  test('a request nested 5,000 levels deep gets -32600; a response nested as deep is dropped; serve survives both', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const res = await rawExchange(client, `{"jsonrpc":"2.0","id":"deep","method":"tools/call","params":{"name":"shell","arguments":{"command":${deep}}}}`, (m) => m.id === 'deep');
    assert.equal(res.error?.code, -32600);
    client.child.stdin.write(`{"jsonrpc":"2.0","id":99,"result":${deep}}\n`);
    client.child.stdin.write(`{"jsonrpc":"2.0","id":98,"result":{"a":${deep}}}\n`);
    await stillAnswers(client, w, 'after-deep');
  });

  const FRAMES: Array<[string, string, number, unknown]> = [
    // [label, raw line, expected code, expected id]
    ['not JSON', '{"jsonrpc":"2.0","id":1,', -32700, null],
    ['jsonrpc 1.0', '{"jsonrpc":"1.0","id":"v1","method":"tools/list"}', -32600, 'v1'],
    ['no jsonrpc', '{"id":"v0","method":"tools/list"}', -32600, 'v0'],
    ['a batch', '[{"jsonrpc":"2.0","id":"b1","method":"ping"}]', -32600, null],
    ['an empty batch', '[]', -32600, null],
    ['a float id', '{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600, null],
    ['a null id on a request', '{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600, null],
    ['a method that is not a string', '{"jsonrpc":"2.0","id":"m","method":7}', -32600, 'm'],
    ['a scalar', '42', -32600, null],
    ['arguments null', '{"jsonrpc":"2.0","id":"an","method":"tools/call","params":{"name":"shell","arguments":null}}', -32602, 'an'],
    ['arguments an array', '{"jsonrpc":"2.0","id":"aa","method":"tools/call","params":{"name":"shell","arguments":["ls"]}}', -32602, 'aa'],
    ['params an array', '{"jsonrpc":"2.0","id":"pa","method":"tools/call","params":["shell"]}', -32602, 'pa'],
    ['tools/call without a name', '{"jsonrpc":"2.0","id":"nn","method":"tools/call","params":{"arguments":{}}}', -32602, 'nn'],
  ];
  for (const [label, line, code, id] of FRAMES) {
    test(`${label}: JSON-RPC ${code}, then the next call is answered`, async () => {
      const res = await rawExchange(client, line, (m) => m.error !== undefined && m.id === id);
      assert.equal(res.error.code, code, JSON.stringify(res));
      assert.ok(res.error.message.length < 400, 'a short message, not a raw dump');
      assert.equal(res.jsonrpc, '2.0');
      await stillAnswers(client, w, `after-${label.replace(/\W+/g, '-')}`);
    });
  }
});

describe('an id reused while its call is pending', () => {
  test('the second call gets -32600 and never runs; notifications/cancelled then stops the first; the id is free after', async () => {
    const w = makeWorkspace();
    const client = await startServer(w, { args: ['--approval', 'untrusted', '--decision-timeout', '60'], elicitation: false });
    try {
      client.send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'shell', arguments: { command: ['touch', 'first'] } } });
      await eventually(async () => ((await readEvents(w.storePath)).some((e) => e.type === 'DecisionRequested') ? true : undefined), 30_000, 'the first call waiting');
      const line = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'shell', arguments: { command: ['touch', 'second'] } } });
      const dup = await rawExchange(client, line, (m) => m.id === 7 && m.error !== undefined);
      assert.equal(dup.error.code, -32600, JSON.stringify(dup));
      assert.match(dup.error.message, /still in use/);
      client.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } });
      const events = await eventually(async () => {
        const all = await readEvents(w.storePath);
        return all.some((e) => e.type === 'Rejected') ? all : undefined;
      }, 30_000, 'the first call denied');
      const asked = events.filter((e) => e.type === 'ApprovalRequested');
      assert.equal(asked.length, 1, 'the second call was never recorded');
      const decision = events.find((e) => e.type === 'DecisionRecorded');
      assert.deepEqual([decision?.data.decision, decision?.data.source], ['denied', 'error']);
      const again = await rawExchange(client, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }), (m) => m.id === 7 && m.result !== undefined);
      assert.deepEqual(again.result, {});
      assert.equal(existsSync(join(w.ws, 'first')), false);
      assert.equal(existsSync(join(w.ws, 'second')), false);
    } finally {
      assert.equal(await client.close(), 0);
      assert.deepEqual(client.nonProtocolLines, []);
    }
  });
});
