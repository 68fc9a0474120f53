/**
 * The server driven the way real clients drive it: the SDK's own `Client` over
 * `StdioClientTransport`, answering elicitations from a handler registered with
 * `setRequestHandler(ElicitRequestSchema, ...)`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { makeWorkspace, readEvents, WARDEN_BIN } from './mcp.harness.ts';

test('the SDK Client lists the tools, is asked through its elicitation handler, and gets each outcome', async () => {
  const w = makeWorkspace();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [WARDEN_BIN, 'serve', '--approval', 'untrusted', '--store', w.storePath, '--rules', w.rulesPath, '--log-level', 'warn', '--min-decision-ms', '0'],
    cwd: w.ws,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'sdk-test-client', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
  const asked: Array<{ message: string; enum: string[] }> = [];
  let answer: ElicitResult = { action: 'decline' };
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    const params = req.params as unknown as { message: string; requestedSchema: { properties: { decision: { enum: string[] } } } };
    asked.push({ message: params.message, enum: params.requestedSchema.properties.decision.enum });
    return answer;
  });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['apply_patch', 'shell']);

    answer = { action: 'accept', content: { decision: 'approved' } };
    const ok = await client.callTool({ name: 'shell', arguments: { command: ['touch', 'sdk-ok.txt'], justification: 'sdk test' } });
    assert.equal(ok.isError, false, JSON.stringify(ok.content));
    assert.ok(existsSync(join(w.ws, 'sdk-ok.txt')));
    assert.match(asked[0]!.message, /touch sdk-ok\.txt/);
    assert.ok(asked[0]!.enum.includes('approved_for_session'));
    assert.equal((ok.structuredContent as any).decision.source, 'client');

    answer = { action: 'decline' };
    const no = await client.callTool({ name: 'shell', arguments: { command: ['touch', 'sdk-no.txt'] } });
    assert.equal(no.isError, true);
    assert.match((no.content as Array<{ text: string }>)[0]!.text, /^The answer in the MCP client was no/);
    assert.equal(existsSync(join(w.ws, 'sdk-no.txt')), false);

    const safe = await client.callTool({ name: 'shell', arguments: { command: ['pwd'] } });
    // output is sent once: to a client other than Claude Code or Codex, in the text (docs/mcp.md)
    assert.match((safe.content as Array<{ text: string }>).map((c) => c.text).join('\n'), new RegExp(`${w.ws.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
    assert.equal((safe.structuredContent as any).stdout, undefined);
    assert.equal(asked.length, 2, 'a known-safe command is not asked');

    answer = { action: 'accept', content: { decision: 'approved' } };
    const patched = await client.callTool({ name: 'apply_patch', arguments: { patch: '*** Begin Patch\n*** Add File: sdk.txt\n+from the sdk\n*** End Patch\n' } });
    assert.equal(patched.isError, false, JSON.stringify(patched.content));
    assert.ok(existsSync(join(w.ws, 'sdk.txt')));

    await assert.rejects(client.callTool({ name: 'shell', arguments: { command: 'ls' } }), /invalid arguments for shell/);
  } finally {
    await client.close();
  }
  const events = await readEvents(w.storePath);
  assert.equal(events.filter((e) => e.type === 'ApprovalRequested').length, 4);
  assert.equal(stderr.includes('"level":50'), false, stderr);
});
