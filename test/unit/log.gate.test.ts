/**
 * The logger's level gate (src/log.ts): a line below the level is dropped before pino is loaded, a
 * line at or above it is pino's as before, and the gate's idea of "enabled" is pino's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pino } from 'pino';

const LOG = resolve(import.meta.dirname, '../../src/log.ts');
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** In a fresh process: logs `lines` at `level`, then says whether pino was loaded. */
function logIn(level: string, lines: Array<[string, string]>): { loaded: boolean; written: Array<{ level: number; msg: string }> } {
  const script = `
    import { createRequire } from 'node:module';
    const { configureLogger, logger } = await import(${JSON.stringify(LOG)});
    configureLogger(${JSON.stringify(level)});
    for (const [at, msg] of ${JSON.stringify(lines)}) logger()[at]({ n: 1 }, msg);
    const cache = createRequire(import.meta.url).cache;
    process.stdout.write(String(Object.keys(cache).some((k) => k.includes('/node_modules/pino/'))));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const written = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string });
  return { loaded: r.stdout === 'true', written };
}

test('lines below the level are dropped without loading pino', () => {
  assert.deepEqual(logIn('warn', [['info', 'dropped'], ['debug', 'dropped too']]), { loaded: false, written: [] });
  assert.deepEqual(logIn('silent', [['fatal', 'dropped'], ['error', 'dropped']]), { loaded: false, written: [] });
});

test('a line at or above the level loads pino and is written as pino writes it', () => {
  const r = logIn('warn', [['info', 'dropped'], ['warn', 'kept'], ['error', 'kept too']]);
  assert.equal(r.loaded, true);
  assert.deepEqual(r.written.map((l) => [l.level, l.msg]), [[40, 'kept'], [50, 'kept too']]);
});

test("the gate's enabled levels are pino's own, for every level pair", async () => {
  const { configureLogger, logger } = await import('../../src/log.ts');
  for (const level of LEVELS) {
    configureLogger(level);
    const reference = pino({ level }, pino.destination({ dest: '/dev/null', sync: true }));
    for (const at of LEVELS.filter((l) => l !== 'silent')) assert.equal(logger().isLevelEnabled(at), reference.isLevelEnabled(at), `${at} at level ${level}`);
  }
  configureLogger('silent');
});
