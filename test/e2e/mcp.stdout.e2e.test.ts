/**
 * stdout belongs to the protocol: with the most verbose logging and commands that print, every
 * line the server writes on stdout is a JSON-RPC 2.0 message, and the logs are on stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWorkspace, startServer, outputOf } from './mcp.harness.ts';

test('nothing but JSON-RPC on stdout, logs on stderr', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, {
    args: ['--approval', 'untrusted', '--log-level', 'trace'],
    onElicit: () => ({ result: { action: 'accept', content: { decision: 'approved' } } }),
  });
  const echo = await client.call('shell', { command: ['echo', 'printed by the command'] });
  assert.equal(outputOf(echo), 'printed by the command\n');
  await client.call('shell', { command: ['bash', '-c', 'echo out; echo err >&2'] });
  await client.request('tools/call', { name: 'shell', arguments: { command: [] } });
  assert.equal(await client.close(), 0);
  assert.ok(client.stdoutLines.length >= 4);
  assert.deepEqual(client.nonProtocolLines, []);
  for (const line of client.stdoutLines) assert.equal(JSON.parse(line).jsonrpc, '2.0');
  assert.match(client.stderr, /warden MCP server ready on stdio/);
  assert.ok(!client.stdoutLines.some((l) => l.includes('"level":')), 'no log line on stdout');
});
