/**
 * better-sqlite3's native module not loading in the Node that runs warden (another ABI after a Node
 * upgrade, a broken build): the real CLI, on a copy of the compiled package whose
 * better_sqlite3.node is not a loadable module, so the real dlopen fails. warden must name the
 * module, the running Node and its ABI, and `npm rebuild better-sqlite3`, and must not blame the
 * store file ("cannot open the event store"), for every command that opens the store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, warden } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';

function packageWithBrokenSqlite(): string {
  const root = tempDir('warden-abi-');
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(REPO, part), join(root, part), { recursive: true });
  const modules = join(root, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(join(REPO, 'node_modules'))) {
    if (name === 'better-sqlite3' || name === '.bin') continue;
    symlinkSync(join(REPO, 'node_modules', name), join(modules, name));
  }
  const sqlite = join(modules, 'better-sqlite3');
  mkdirSync(join(sqlite, 'build', 'Release'), { recursive: true });
  for (const part of ['package.json', 'lib']) cpSync(join(REPO, 'node_modules', 'better-sqlite3', part), join(sqlite, part), { recursive: true });
  // Not an ELF object: dlopen refuses it as it refuses one built for another Node's ABI.
  writeFileSync(join(sqlite, 'build', 'Release', 'better_sqlite3.node'), 'not a shared object\n');
  return root;
}

test('a better-sqlite3 that does not load in this Node: one clear line naming Node, its ABI and the fix', () => {
  const root = packageWithBrokenSqlite();
  try {
    const ws = join(root, 'ws');
    mkdirSync(ws);
    // a real store made by the working warden: audit and verify open only a store that exists
    const made = warden(['exec', '--approval', 'never', '--store', join(ws, 'events.db'), '--', 'true'], { cwd: ws });
    assert.equal(made.code, 0, made.stderr);
    for (const args of [['exec', '--', 'true'], ['audit'], ['verify']]) {
      const r = spawnSync(process.execPath, [join(root, 'bin', 'warden.js'), ...args, '--store', join(ws, 'events.db')], {
        cwd: ws,
        env: { ...process.env, WARDEN_LOG: 'silent' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      const what = `warden ${args.join(' ')}`;
      assert.equal(r.status, 2, `${what}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`better-sqlite3's native module does not load in Node ${process.version.replace(/\./g, '\\.')} \\(ABI ${process.versions.modules}\\)`), what);
      assert.match(r.stderr, /npm rebuild better-sqlite3/, what);
      assert.match(r.stderr, new RegExp(`in ${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), `${what}: names the folder to rebuild in`);
      assert.doesNotMatch(r.stderr, /cannot open the event store/, `${what}: the store is not to blame`);
      assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: no stack trace`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
