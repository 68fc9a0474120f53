/**
 * nativeModuleHint (src/cli/nativeModule.ts): which failures it explains, and that it explains no
 * other (an unrelated error keeps its own message).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeModuleHint } from '../../src/cli/nativeModule.ts';

const abiMismatch = () =>
  Object.assign(
    new Error(
      "The module '/x/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 108. This version of Node.js requires\nNODE_MODULE_VERSION 115. Please try re-compiling or re-installing\nthe module (for instance, using `npm rebuild` or `npm install`).",
    ),
    { code: 'ERR_DLOPEN_FAILED' },
  );

test('an ABI mismatch, wrapped by the store: names both ABIs and the rebuild', () => {
  const wrapped = new Error('cannot open the event store /s/events.db: ERR_DLOPEN_FAILED', { cause: abiMismatch() });
  const hint = nativeModuleHint(wrapped);
  assert.ok(hint);
  assert.match(hint, new RegExp(`in Node ${process.version.replace(/\./g, '\\.')} \\(ABI ${process.versions.modules}\\): it was built for ABI 108`));
  assert.match(hint, /npm rebuild better-sqlite3/);
});

test('a missing build (bindings cannot find it) is explained too', () => {
  assert.match(nativeModuleHint(new Error('Could not locate the bindings file. Tried: ...')) ?? '', /npm rebuild better-sqlite3/);
});

test('other failures are not explained as a native-module problem', () => {
  assert.equal(nativeModuleHint(new Error('cannot open the event store /s: SQLITE_CANTOPEN')), null);
  assert.equal(nativeModuleHint(Object.assign(new Error('/x/other.node: invalid ELF header'), { code: 'ERR_DLOPEN_FAILED' })), null);
  assert.equal(nativeModuleHint('a string'), null);
  // a cause chain that loops ends
  const a: { cause?: unknown; message: string } = { message: 'a' };
  a.cause = a;
  assert.equal(nativeModuleHint(a), null);
});
