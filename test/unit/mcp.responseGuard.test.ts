import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResponseGuard, rewriteLine } from '../../src/mcp/responseGuard.ts';

const K = 'k';
const CASES: Array<[string, string, unknown]> = [
  // [label, line, expected result value under K, or null = unchanged]
  ['a request passes', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}', null],
  ['a notification passes', '{"jsonrpc":"2.0","method":"notifications/initialized"}', null],
  ['a well-formed error passes', '{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"x"}}', null],
  ['not JSON passes (the SDK drops it)', 'hello', null],
  ['no usable id passes (cannot be matched)', '{"jsonrpc":"2.0","id":null,"result":{}}', null],
  ['an object result is wrapped', '{"jsonrpc":"2.0","id":2,"result":{"action":"decline"}}', { action: 'decline' }],
  ['a null result is wrapped', '{"jsonrpc":"2.0","id":2,"result":null}', null as unknown],
  ['a string result is wrapped', '{"jsonrpc":"2.0","id":"a","result":"approved"}', 'approved'],
  ['result and error: unusable', '{"jsonrpc":"2.0","id":2,"result":{},"error":{"code":1,"message":"m"}}', { unusable_response: { jsonrpc: '2.0', result: {}, error: { code: 1, message: 'm' } } }],
  ['malformed error: unusable', '{"jsonrpc":"2.0","id":2,"error":{"code":"x"}}', { unusable_response: { jsonrpc: '2.0', error: { code: 'x' } } }],
  ['neither: unusable', '{"jsonrpc":"2.0","id":2}', { unusable_response: { jsonrpc: '2.0' } }],
  ['wrong version: unusable', '{"jsonrpc":"1.0","id":2,"result":{}}', { unusable_response: { jsonrpc: '1.0', result: {} } }],
];

for (const [label, line, expected] of CASES) {
  test(`rewriteLine: ${label}`, () => {
    const out = rewriteLine(line, K);
    const unchanged = expected === null && label.includes('passes');
    if (unchanged) return assert.equal(out, null);
    assert.ok(out !== null);
    const msg = JSON.parse(out);
    assert.equal(msg.jsonrpc, '2.0');
    assert.deepEqual(Object.keys(msg.result), [K]);
    assert.deepEqual(msg.result[K], expected);
  });
}

test('guard wraps a response by reference and unwrap recovers the value; requests pass; a forged key is not unwrapped', () => {
  const guard = createResponseGuard();
  const wrapped = guard.guard({ jsonrpc: '2.0', id: 7, result: 'ap\u00e9' });
  assert.equal(guard.unwrap(wrapped.result), 'ap\u00e9');
  const request = { jsonrpc: '2.0', method: 'x' };
  assert.equal(guard.guard(request), request);
  const forged = { warden_unwrap_guess: { action: 'accept' } };
  assert.equal(guard.unwrap(forged), forged);
});

test('rewriteLine: a response nested 5,000 levels deep is left alone instead of overflowing the stack', () => {
  const deep = `{"jsonrpc":"2.0","id":1,"result":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  assert.equal(rewriteLine(deep, K), null);
});
