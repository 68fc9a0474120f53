/**
 * Agent-facing text never tells the agent how to decide: no store path, no `warden approve`
 * command, in anything the MCP server, the presentation layer or the hooks send to a client. An
 * agent told "run `warden approve --store …`" has the whole self-approval attack spelled out
 * (issue 13). Two checks: every string literal in src/mcp, src/present and src/hooks (comments
 * stripped), and the text a real in-process server sends (tools/list, the results of a request
 * that waits for a person who cannot be asked, one the client declines, one it times out) when
 * its out-of-band hint names a store and the approve command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { buildServer } from '../../src/mcp/server.ts';
import { createRuntime } from '../../src/cli/runtime.ts';
import { tempSqliteStore } from '../support/fixtures.ts';

const REPO = resolve(import.meta.dirname, '../..');
/** What would tell an agent how to decide for itself. `warden approved it` is not that. */
const TELLS_HOW = /warden approve\b|approve --(decide|store|list)|--store\b|events\.db|\.local\/state\/warden/;

function literals(file: string): string[] {
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  return code.match(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g) ?? [];
}

test('no string literal in src/mcp, src/present or src/hooks names the store or the approve command', () => {
  const files = ['src/mcp', 'src/present', 'src/hooks'].flatMap((d) =>
    readdirSync(join(REPO, d))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(REPO, d, f)),
  );
  assert.ok(files.length > 10, 'the folders were found');
  const found = files.flatMap((f) => literals(f).filter((l) => TELLS_HOW.test(l)).map((l) => `${f.slice(REPO.length + 1)}: ${l.slice(0, 120)}`));
  assert.deepEqual(found, []);
});

test('the scan itself finds what it looks for', () => {
  assert.ok(TELLS_HOW.test('run `warden approve --store /x/events.db` in a terminal'));
  assert.ok(TELLS_HOW.test('warden approve'));
  assert.ok(!TELLS_HOW.test('warden approved it; the client runs it.'));
});

async function server(opts: { elicitation: boolean; decisionTimeoutMs: number }) {
  const t = tempSqliteStore();
  const rules = join(t.dir, 'rules.toml');
  writeFileSync(rules, '');
  // as `warden serve` does: no connection-wide channel, each call brings its own
  const runtime = await createRuntime({ store: t.store, rulesPath: rules, decisionTimeoutMs: opts.decisionTimeoutMs, channel: null });
  const storePath = join(t.dir, 'events.db');
  const built = buildServer({
    store: t.store,
    effects: runtime.effects,
    policy: { approval: 'untrusted', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: true },
    sessionId: 'agent-text',
    defaultCwd: realpathSync(t.dir),
    decisionTimeoutMs: opts.decisionTimeoutMs,
    // the real serve hint: it must reach warden's log only
    outOfBandHint: `run \`warden approve --store ${storePath}\` in a terminal (or use \`warden inspect\`)`,
    origin: (callId) => ({ surface: 'mcp', pid: process.pid, host: 'test', callId }),
    progressIntervalMs: 50,
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await built.server.connect(serverSide);
  const client = new Client({ name: 'agent-text', version: '1' }, { capabilities: opts.elicitation ? { elicitation: {} } : {} });
  const asked: string[] = [];
  if (opts.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(JSON.stringify(req.params));
      return { action: 'decline' };
    });
  }
  await client.connect(clientSide);
  return {
    client,
    asked,
    storePath,
    async close() {
      await client.close();
      await built.idle();
      await t.cleanup();
    },
  };
}

const textOf = (r: unknown) => JSON.stringify(r);

test('what a real server sends the agent never names the store or the approve command', async () => {
  const seen: string[] = [];
  // a client that cannot be asked: the request waits out of band, then times out
  const silent = await server({ elicitation: false, decisionTimeoutMs: 300 });
  try {
    seen.push(textOf(await silent.client.listTools()));
    seen.push(textOf(await silent.client.callTool({ name: 'shell', arguments: { command: ['touch', 'x'] } })));
    seen.push(textOf(await silent.client.callTool({ name: 'shell', arguments: { command: [] } }).catch((e: Error) => e.message)));
    seen.push(textOf(await silent.client.callTool({ name: 'no-such-tool', arguments: {} }).catch((e: Error) => e.message)));
  } finally {
    await silent.close();
  }
  // a client that is asked and declines
  const asking = await server({ elicitation: true, decisionTimeoutMs: 5000 });
  try {
    seen.push(textOf(await asking.client.callTool({ name: 'shell', arguments: { command: ['touch', 'y'], with_escalated_permissions: true } })));
    seen.push(...asking.asked);
    assert.ok(asking.asked.length > 0, 'the question was put');
  } finally {
    await asking.close();
  }
  const leaks = seen.filter((s) => TELLS_HOW.test(s) || s.includes(silent.storePath) || s.includes(asking.storePath));
  assert.deepEqual(leaks, []);
  assert.ok(seen.some((s) => /not run|nobody|denied/i.test(s)), `the results were read: ${seen.join('\n').slice(0, 2000)}`);
});
