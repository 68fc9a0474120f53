/**
 * The network relay ships: what `npm pack` puts in the tarball (package.json `files`) is enough to
 * build native/build/warden-netns where warden looks for it, and `postinstall` builds it on install.
 * Checked on a copy of exactly the packed files, compiled there with the machine's C compiler, so a
 * file missing from `files` (or a build script that reaches outside the package) fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[]; scripts: Record<string, string> };

test('the packed files build the relay where sandboxNetwork.ts looks for it', () => {
  // npm's own list of what it would pack (no build: --ignore-scripts), read as JSON.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  assert.ok(files.includes('native/warden-netns.c'), 'the relay source is packed');
  assert.ok(files.includes('scripts/build-native.mjs'), 'its build script is packed');
  assert.ok(!files.some((f) => f.startsWith('native/build/')), 'no binary built for this machine is packed');
  assert.match(pkg.scripts.postinstall ?? '', /build-native\.mjs/, 'postinstall builds it');

  const dir = mkdtempSync(join(tmpdir(), 'warden-pack-'));
  try {
    for (const f of files) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      cpSync(join(ROOT, f), join(dir, f));
    }
    execFileSync(process.execPath, ['scripts/build-native.mjs'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const helper = join(dir, 'native', 'build', 'warden-netns');
    assert.ok(statSync(helper).isFile());
    accessSync(helper, constants.X_OK);
    // the path warden computes from dist/network/sandboxNetwork.js is the one just built
    assert.equal(resolve(dir, 'dist', 'network', '..', '..', 'native', 'build', 'warden-netns'), helper);
    // and it is the relay: run without arguments it names itself in its usage line
    let usage = '';
    try {
      execFileSync(helper, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      usage = String((error as { stderr?: string }).stderr ?? '');
    }
    assert.match(usage, /warden-netns/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
