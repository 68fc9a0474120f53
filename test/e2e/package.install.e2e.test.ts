/**
 * warden as people install it (issue #14): `npm pack` (which builds dist/ through `prepare`), the
 * tarball installed with npm into an empty folder, and the installed bin run from there:
 * `--version`, `exec -- true` in the bwrap sandbox (so better-sqlite3's native module was built
 * for this Node and the store opens), stdin through `exec`, and `serve` through initialize,
 * tools/list and one apply_patch. The relay for `--allow-domain` (native/build/warden-netns) and the
 * patch applier (native/build/warden-apply) must have been built by the package's postinstall. Slow by nature: npm builds better-sqlite3 from source when no prebuilt
 * binary can be fetched (the registry is reachable; packages come from the local cache first).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';

/** One JSON-RPC exchange at a time over the server's stdio, as a client does. */
function mcpSession(bin: string, cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(bin, ['serve'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  let stderr = '';
  const waiting = new Map<number, (msg: Record<string, unknown>) => void>();
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      waiting.get(msg.id as number)?.(msg);
    }
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    request(id: number, method: string, params: unknown): Promise<Record<string, unknown>> {
      return new Promise((resolve, reject) => {
        waiting.set(id, resolve);
        void exited.then(() => reject(new Error(`serve exited before answering ${method}: ${stderr}`)));
        child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
      });
    },
    notify(method: string): void {
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
    },
    async close(): Promise<void> {
      child.stdin.end();
      await exited;
    },
  };
}

test('the packed tarball installs with npm into an empty folder and runs from there', { timeout: 30 * 60_000 }, async () => {
  const base = tempDir('warden-install-');
  try {
    const packOut = execFileSync('npm', ['pack', '--pack-destination', base, '--json'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [packed] = JSON.parse(packOut) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = packed!.files.map((f) => f.path);
    assert.ok(paths.includes('dist/cli/main.js'), 'the compiled CLI is in the package');
    assert.ok(paths.includes('bin/warden.js'));
    assert.ok(paths.includes('native/warden-netns.c'));
    assert.ok(paths.includes('native/warden-apply.c'));
    for (const p of paths) assert.doesNotMatch(p, /^(test|bench|\.ci|src)\//, `${p} does not belong in the package`);

    const app = join(base, 'app');
    mkdirSync(app);
    const installed = spawnSync(
      'npm',
      ['install', '--prefix', app, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error', join(base, packed!.filename)],
      { encoding: 'utf8', timeout: 28 * 60_000 },
    );
    assert.equal(installed.status, 0, `npm install failed:\n${installed.stdout}\n${installed.stderr}`);

    const bin = join(app, 'node_modules', '.bin', 'warden');
    const helper = join(app, 'node_modules', 'warden', 'native', 'build', 'warden-netns');
    assert.ok(statSync(helper).isFile(), 'postinstall built the relay');
    accessSync(helper, constants.X_OK);
    accessSync(join(app, 'node_modules', 'warden', 'native', 'build', 'warden-apply'), constants.X_OK); // and the patch applier

    const ws = join(base, 'ws');
    mkdirSync(ws);
    const env = { ...process.env, WARDEN_LOG: 'silent', WARDEN_STORE: join(base, 'events.db'), XDG_CONFIG_HOME: join(base, 'config') };
    const run = (args: string[], input = '') => spawnSync(bin, args, { cwd: ws, env, input, encoding: 'utf8', timeout: 120_000 });

    const version = run(['--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), (JSON.parse(execFileSync('npm', ['pkg', 'get', 'version'], { cwd: REPO, encoding: 'utf8' })) as string));

    const exec = run(['exec', '--', 'true']);
    assert.equal(exec.status, 0, exec.stderr);
    const cat = run(['exec', 'cat'], 'through the installed warden\n');
    assert.equal(cat.status, 0, cat.stderr);
    assert.equal(cat.stdout, 'through the installed warden\n');
    const audit = run(['audit', '--json']);
    assert.equal(audit.status, 0, audit.stderr);
    assert.equal(audit.stdout.trim().split('\n').length, 2, 'both runs recorded');

    const mcp = mcpSession(bin, ws, env);
    try {
      const init = await mcp.request(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'install-test', version: '0' } });
      assert.equal((init.result as { serverInfo: { name: string } }).serverInfo.name, 'warden');
      mcp.notify('notifications/initialized');
      const list = await mcp.request(2, 'tools/list', {});
      const names = (list.result as { tools: Array<{ name: string }> }).tools.map((t) => t.name).sort();
      assert.deepEqual(names, ['apply_patch', 'shell']);
      // the installed package's own applier, found from its bundle, applies a patch in the sandbox
      const patch = await mcp.request(3, 'tools/call', { name: 'apply_patch', arguments: { patch: '*** Begin Patch\n*** Add File: from-install.txt\n+installed\n*** End Patch\n' } });
      assert.equal((patch.result as { structuredContent: { state: string } }).structuredContent.state, 'completed', JSON.stringify(patch.result));
      assert.equal(readFileSync(join(ws, 'from-install.txt'), 'utf8'), 'installed\n');
    } finally {
      await mcp.close();
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
