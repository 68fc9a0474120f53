/**
 * `warden inspect`'s own flag: the port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePort } from '../../src/cli/commands/inspect.ts';
import { isConfigError } from '../../src/errors.ts';

test('--port accepts 0..65535 and refuses anything else', () => {
  assert.equal(parsePort(undefined), 0);
  assert.equal(parsePort('0'), 0);
  assert.equal(parsePort('8080'), 8080);
  assert.equal(parsePort('65535'), 65535);
  for (const bad of ['-1', '65536', '80.5', 'http', '', '1e9']) {
    assert.throws(() => parsePort(bad), (e: unknown) => isConfigError(e), bad);
  }
});
