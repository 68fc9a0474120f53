/**
 * Output honest and bounded over MCP: the cap holds for what is sent (after JSON escaping: 3 MB of
 * NUL bytes must not become a 12 MB reply), the output is sent once, and output that is not UTF-8
 * arrives, and is recorded, as base64 of its bytes, marked so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWorkspace, readEvents, startServer } from './mcp.harness.ts';
import { boundForReply, REPLY_OUTPUT_CAP_BYTES } from '../../src/mcp/result.ts';

test('NUL-heavy output: the reply stays under the cap after escaping, and the output is in it once', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'never', '--sandbox', 'danger-full-access'], clientName: 'claude-code' });
  const r = await client.call('shell', { command: ['sh', '-c', 'head -c 3000000 /dev/zero; printf MARK-END'] });
  const line = client.stdoutLines.find((l) => l.includes(`"requestId":"${r.structuredContent.requestId}"`) && l.includes('"result"'))!;
  assert.ok(Buffer.byteLength(line) < REPLY_OUTPUT_CAP_BYTES + 64 * 1024, `reply is ${Buffer.byteLength(line)} bytes`);
  assert.equal(r.structuredContent.truncated, true);
  assert.match(r.structuredContent.stdout, /^\u0000+\n\[warden: /);
  assert.equal(r.content[0].text.includes('\u0000'), false, 'the text block does not carry a second copy');
  assert.match(r.content[0].text, /stdout: \d+ bytes, in structuredContent\.stdout/);
  assert.equal(await client.close(), 0);
});

test('binary output is base64 of its bytes, marked, in the reply and in the record', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'never', '--sandbox', 'danger-full-access'], clientName: 'claude-code' });
  const r = await client.call('shell', { command: ['sh', '-c', "printf '\\377\\376\\000abc'; printf 'plain text' >&2"] });
  assert.equal(r.structuredContent.stdoutEncoding, 'base64');
  assert.deepEqual(Buffer.from(r.structuredContent.stdout, 'base64'), Buffer.from([0xff, 0xfe, 0x00, 0x61, 0x62, 0x63]));
  assert.equal(r.structuredContent.stderr, 'plain text');
  assert.equal(r.structuredContent.stderrEncoding, undefined);
  const finished = (await readEvents(w.storePath)).find((e) => e.type === 'ExecutionFinished')!;
  assert.equal((finished.data as { stdoutEncoding?: string }).stdoutEncoding, 'base64');
  assert.equal((finished.data as { stdoutExcerpt: string }).stdoutExcerpt, r.structuredContent.stdout);
  // UTF-8 cut in two by the cap is still text
  const cut = await client.call('shell', { command: ['sh', '-c', 'i=0; while [ $i -lt 600000 ]; do printf "é"; i=$((i+1)); done; printf x'] });
  assert.equal(cut.structuredContent.stdoutEncoding, undefined);
  assert.match(cut.structuredContent.stdout.slice(-200), /é\n\[warden: output truncated/, cut.structuredContent.stdout.slice(-200));
  const body = cut.structuredContent.stdout as string; const at = /^é*/.exec(body)![0].length;
  assert.equal(body[at], "\n", JSON.stringify(body.slice(at - 5, at + 40)) + " at " + at);
  assert.equal(await client.close(), 0);
});

test('a client not known to read structuredContent gets the output once, in the text, bounded the same', async () => {
  const w = makeWorkspace();
  const client = await startServer(w, { args: ['--approval', 'never', '--sandbox', 'danger-full-access'] });
  const r = await client.call('shell', { command: ['sh', '-c', 'head -c 3000000 /dev/zero'] });
  const line = client.stdoutLines.find((l) => l.includes(`"requestId":"${r.structuredContent.requestId}"`) && l.includes('"result"'))!;
  assert.ok(Buffer.byteLength(line) < REPLY_OUTPUT_CAP_BYTES + 64 * 1024, `reply is ${Buffer.byteLength(line)} bytes`);
  assert.equal(r.structuredContent.stdout, undefined);
  assert.match(r.content[0].text, /--- stdout ---\n\u0000+/);
  assert.equal(await client.close(), 0);
});

test('boundForReply: the escaped form never exceeds the cap; what fits is unchanged; pairs are never split', () => {
  const alphabet = ['a', '\u0000', '"', '\\', '\n', 'é', '€', '😀', '\ud800', '\udc00', '\u001f', '\u2028'];
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  for (let k = 0; k < 400; k++) {
    const len = rand(300);
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[rand(alphabet.length)];
    const cap = 120 + rand(400);
    const b = boundForReply(s, cap);
    const size = Buffer.byteLength(JSON.stringify(b)) - 2;
    if (Buffer.byteLength(JSON.stringify(s)) - 2 <= cap) assert.equal(b, s);
    else {
      assert.ok(size <= cap, `${size} > ${cap}`);
      const kept = b.slice(0, b.indexOf('\n[warden: reply cut'));
      assert.ok(s.startsWith(kept));
      const last = kept.charCodeAt(kept.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) assert.ok(!(s.charCodeAt(kept.length) >= 0xdc00 && s.charCodeAt(kept.length) <= 0xdfff), 'split a pair');
    }
  }
});
