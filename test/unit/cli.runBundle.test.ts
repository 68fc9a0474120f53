/**
 * The command bundles' V8 code cache (src/cli/runBundle.ts): a bundle runs the same with and
 * without it, a cache is used only for exactly the bundle it was made from, and a file that anyone
 * but this user could have written, or that is damaged, is never handed to V8. Real files, real
 * node processes (a cache is saved when its process exits).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cacheKey, codeCacheDir, readCache, writeCache } from '../../src/cli/runBundle.ts';
import { wardenOwnPaths } from '../../src/sandbox/hiddenPaths.ts';

const RUN_BUNDLE = resolve(import.meta.dirname, '../../src/cli/runBundle.ts');

// What a built bundle uses: strict mode, require, its own file URL and import() (scripts/build.mjs).
const BUNDLE = `"use strict";
const { basename } = require("node:path");
let strict = true;
try { undeclared = 1; strict = false; } catch {}
__wardenImport("./dep.mjs").then((dep) => {
  process.stdout.write(JSON.stringify({ strict, file: basename(new URL(__wardenImportMetaUrl).pathname), dep: dep.value, viaRequire: typeof require("node:fs").readFileSync }) + "\\n");
});
`;

function sandbox(): { dir: string; bundle: string; state: string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-runbundle-')));
  const bundle = join(dir, 'main.test.cjs');
  writeFileSync(bundle, BUNDLE);
  writeFileSync(join(dir, 'dep.mjs'), 'export const value = 42;\n');
  return { dir, bundle, state: join(dir, 'state'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the bundle through runBundle in a fresh node process: its output and the cache use. */
function runIn(bundle: string, state: string, extraEnv: NodeJS.ProcessEnv = {}): { out: unknown; use: string } {
  const script = `const { runBundle } = await import(${JSON.stringify(RUN_BUNDLE)}); process.stderr.write(runBundle(${JSON.stringify(bundle)}));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, XDG_STATE_HOME: state, WARDEN_COMPILE_CACHE: '', ...extraEnv },
  });
  assert.equal(r.status, 0, r.stderr);
  return { out: JSON.parse(r.stdout), use: r.stderr.trim() };
}

const cacheFiles = (state: string) => {
  try {
    return readdirSync(join(state, 'warden', 'v8-cache'));
  } catch {
    return [];
  }
};

test('a bundle runs the same without a cache, saving one, and with it; the cache is private to this user', () => {
  const s = sandbox();
  try {
    const expected = { strict: true, file: 'main.test.cjs', dep: 42, viaRequire: 'function' };
    const first = runIn(s.bundle, s.state);
    assert.deepEqual(first, { out: expected, use: 'miss' });
    const files = cacheFiles(s.state);
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^main\.test\.cjs\.[0-9a-f]{32}\.v8$/);
    assert.equal(statSync(join(s.state, 'warden', 'v8-cache')).mode & 0o777, 0o700);
    assert.equal(statSync(join(s.state, 'warden', 'v8-cache', files[0]!)).mode & 0o777, 0o600);
    assert.deepEqual(runIn(s.bundle, s.state), { out: expected, use: 'hit' });
    assert.deepEqual(runIn(s.bundle, s.state, { WARDEN_COMPILE_CACHE: '0' }), { out: expected, use: 'off' });
  } finally {
    s.cleanup();
  }
});

test('a changed bundle of the same length does not get the old one\'s cache (V8 itself checks only the length)', () => {
  const s = sandbox();
  try {
    assert.equal(runIn(s.bundle, s.state).use, 'miss');
    writeFileSync(s.bundle, BUNDLE.replace('dep.value', 'dep.VALUE'));
    const changed = runIn(s.bundle, s.state);
    assert.equal(changed.use, 'miss');
    assert.equal((changed.out as { dep: unknown }).dep, undefined);
    assert.equal(cacheFiles(s.state).length, 2);
  } finally {
    s.cleanup();
  }
});

test('node\'s options are part of the key: a cache made under other options is not read', () => {
  const bundle = Buffer.from(BUNDLE);
  assert.ok(!cacheKey(bundle, {}).equals(cacheKey(bundle, { NODE_OPTIONS: '--max-old-space-size=100' })));
  assert.ok(cacheKey(bundle, {}).equals(cacheKey(bundle, {})));
});

test('a cache file is refused unless it is this user\'s, private, a regular file, undamaged and for this key', () => {
  const s = sandbox();
  try {
    const dir = join(s.state, 'warden', 'v8-cache');
    const key = cacheKey(Buffer.from(BUNDLE));
    const payload = Buffer.from('compiled code stand-in');
    const file = join(dir, 'main.test.cjs.k.v8');
    const fresh = () => {
      rmSync(dir, { recursive: true, force: true });
      writeCache(file, key, payload, 'main.test.cjs');
    };
    fresh();
    assert.deepEqual(readCache(file, key), payload);
    // another bundle's key
    assert.equal(readCache(file, cacheKey(Buffer.from(`${BUNDLE} `))), null);
    // writable by the group or by others: someone else could have written it
    chmodSync(file, 0o620);
    assert.equal(readCache(file, key), null);
    chmodSync(file, 0o602);
    assert.equal(readCache(file, key), null);
    chmodSync(file, 0o644);
    assert.deepEqual(readCache(file, key), payload, 'readable by others is no risk');
    // in a folder others can write to
    chmodSync(dir, 0o770);
    assert.equal(readCache(file, key), null);
    chmodSync(dir, 0o700);
    // damaged: one byte of the payload changed
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    writeFileSync(file, bytes);
    assert.equal(readCache(file, key), null);
    // a symlink to a good cache file
    fresh();
    const link = join(dir, 'main.test.cjs.link.v8');
    symlinkSync(file, link);
    assert.equal(readCache(link, key), null);
    // a FIFO in its place is refused at once, not waited on
    const fifo = join(dir, 'main.test.cjs.fifo.v8');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    assert.equal(readCache(fifo, key), null);
    // another user's file (only root can make one)
    if (process.getuid!() === 0) {
      fresh();
      chownSync(file, 65534, 65534);
      assert.equal(readCache(file, key), null);
      chownSync(file, 0, 0);
      chownSync(dir, 65534, 65534);
      assert.equal(readCache(file, key), null);
    }
    assert.equal(readCache(join(dir, 'missing.v8'), key), null);
  } finally {
    s.cleanup();
  }
});

test('the cache folder is inside the state folder every sandbox hides, resolved from the same variables', () => {
  const hidden = (env: { HOME?: string; XDG_STATE_HOME?: string }) => wardenOwnPaths({ storePath: null, rulesPath: '/r/rules.toml', env });
  for (const env of [{ HOME: '/home/u' }, { HOME: '/home/u', XDG_STATE_HOME: '/s' }, { HOME: '/home/u', XDG_STATE_HOME: 'relative' }, { XDG_STATE_HOME: '/s' }]) {
    const dir = codeCacheDir(env);
    assert.ok(dir !== null);
    assert.ok(hidden(env).some((h) => dir.startsWith(`${h}/`)), `${dir} is not under a hidden path of ${JSON.stringify(env)}`);
  }
  assert.equal(codeCacheDir({}), null, 'no absolute HOME or XDG_STATE_HOME: nowhere the sandbox is known to hide');
  assert.equal(codeCacheDir({ HOME: 'relative' }), null);
  assert.equal(codeCacheDir({ HOME: '/home/u', WARDEN_COMPILE_CACHE: '0' }), null);
});

test('a bundle can save its cache when it asks (serve, after a tool\'s first call): it is there even when the process is then killed', () => {
  const s = sandbox();
  try {
    // what serve does: ask for the save, then be killed as MCP clients kill their servers
    writeFileSync(s.bundle, `"use strict";\nconst save = globalThis[Symbol.for("warden.codeCache.saveNow")];\nprocess.stdout.write(typeof save);\nif (typeof save === "function") { save(); process.kill(process.pid, "SIGKILL"); }\n`);
    const script = `const { runBundle } = await import(${JSON.stringify(RUN_BUNDLE)}); runBundle(${JSON.stringify(s.bundle)});`;
    const run = () => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, XDG_STATE_HOME: s.state, WARDEN_COMPILE_CACHE: '' } });
    const first = run();
    assert.equal(first.signal, 'SIGKILL');
    assert.equal(first.stdout, 'function');
    assert.equal(cacheFiles(s.state).length, 1);
    // a start that found its cache offers no save: nothing is written again
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, 'undefined');
  } finally {
    s.cleanup();
  }
});
