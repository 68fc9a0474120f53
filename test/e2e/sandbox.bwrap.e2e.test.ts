/**
 * The sandbox as the kernel enforces it: real bubblewrap, real processes, temp dirs. These tests fail
 * (they do not skip) on a machine without a working bwrap: the sandbox is the product here.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import { platformSandbox, sandboxUnavailableReason } from '../../src/sandbox/platform.ts';
import type { RunRequest, SandboxSpec } from '../../src/sandbox/types.ts';

const WW: SandboxSpec = { mode: 'workspace-write', writableRoots: [], network: false, tmpWrite: false };
const RO: SandboxSpec = { mode: 'read-only', writableRoots: [], network: false, tmpWrite: true };

let base: string;
let n = 0;
/** A fresh workspace and a sibling "outside" dir, both under the test's temp base. */
function dirs() {
  const ws = join(base, `ws${++n}`);
  const outside = join(base, `outside${n}`);
  mkdirSync(ws);
  mkdirSync(outside);
  return { ws, outside };
}
const sh = (script: string, cwd: string, sandbox: SandboxSpec | null, over: Partial<RunRequest> = {}) =>
  runCommand({ command: ['sh', '-c', script], cwd, sandbox, ...over });

before(() => {
  base = mkdtempSync(join(tmpdir(), 'warden-sbx-'));
});
after(() => rmSync(base, { recursive: true, force: true }));

test('bubblewrap is available and works on this machine', () => {
  assert.equal(platformSandbox(), 'bwrap', sandboxUnavailableReason() ?? '');
});

test('workspace-write: a write inside the workspace lands on the host', async () => {
  const { ws } = dirs();
  const r = await sh('mkdir -p a/b && echo hello > a/b/f && cat a/b/f', ws, WW);
  assert.equal(r.sandboxType, 'bwrap');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'hello\n');
  assert.equal(readFileSync(join(ws, 'a/b/f'), 'utf8'), 'hello\n');
  assert.deepEqual(r.denial, { denied: false });
});

test('workspace-write: a write outside fails, is detected as a denial naming the path', async () => {
  const { ws, outside } = dirs();
  const target = join(outside, 'x');
  const r = await sh(`echo x > ${target}`, ws, WW);
  assert.notEqual(r.exitCode, 0);
  assert.ok(!existsSync(target));
  assert.equal(r.denial.denied, true, r.stderr);
  assert.equal(r.denial.what, `write to a read-only path: ${target}`);
  const etc = await sh('touch /etc/warden-sandbox-probe', ws, WW);
  assert.equal(etc.denial.denied, true);
  assert.ok(!existsSync('/etc/warden-sandbox-probe'));
});

test('workspace-write: /tmp is writable with tmpWrite and not without', async () => {
  const { ws, outside } = dirs(); // outside is under /tmp
  const f = join(outside, 'tmpfile');
  assert.equal((await sh(`echo t > ${f}`, ws, { ...WW, tmpWrite: true })).exitCode, 0);
  assert.ok(existsSync(f));
  rmSync(f);
  assert.notEqual((await sh(`echo t > ${f}`, ws, WW)).exitCode, 0);
  assert.ok(!existsSync(f));
});

test('workspace-write: an existing .git and .warden are read-only and cannot be swapped', async () => {
  const { ws } = dirs();
  mkdirSync(join(ws, '.git/hooks'), { recursive: true });
  writeFileSync(join(ws, '.git/config'), '[core]\n');
  mkdirSync(join(ws, '.warden'));
  const attempts = [
    'echo evil > .git/hooks/post-checkout',
    'echo "[core] fsmonitor = evil" >> .git/config',
    'rm -rf .git',
    'mv .git moved',
    'mv .warden moved2',
    'echo x > .warden/rules.toml',
  ];
  for (const a of attempts) {
    const r = await sh(a, ws, WW);
    assert.notEqual(r.exitCode, 0, `${a} succeeded`);
    assert.equal(r.denial.denied, true, `${a}: ${r.stderr}`);
  }
  assert.deepEqual(readdirSync(join(ws, '.git/hooks')), []);
  assert.equal(readFileSync(join(ws, '.git/config'), 'utf8'), '[core]\n');
  assert.deepEqual(readdirSync(ws).sort(), ['.git', '.warden']);
  assert.deepEqual(readdirSync(join(ws, '.warden')), []);
});

test('workspace-write: a missing .git and .warden cannot be created, and leave nothing behind', async () => {
  const { ws } = dirs();
  for (const a of ['mkdir .git', 'mkdir -p .git/hooks', 'git init -q .', 'mkdir .warden', 'touch .warden/x', 'rm -f .warden && mkdir .warden']) {
    const r = await sh(a, ws, WW);
    assert.notEqual(r.exitCode, 0, `${a} succeeded: ${r.stdout}`);
    assert.equal(r.denial.denied, true, `${a}: ${r.stderr}`);
  }
  // Ordinary writes beside them still work.
  assert.equal((await sh('echo ok > file', ws, WW)).exitCode, 0);
  assert.deepEqual(readdirSync(ws), ['file'], 'the mount-point files were removed');
});

test('workspace-write: a .git file protects its gitdir target, even in another writable root', async () => {
  const { ws, outside } = dirs();
  const gitdir = join(outside, 'repo.git');
  mkdirSync(join(gitdir, 'hooks'), { recursive: true });
  writeFileSync(join(ws, '.git'), `gitdir: ${gitdir}\n`);
  const spec = { ...WW, writableRoots: [outside] };
  assert.equal((await sh(`echo ok > ${join(outside, 'other')}`, ws, spec)).exitCode, 0, 'the other root is writable');
  const hook = await sh(`echo evil > ${join(gitdir, 'hooks/pre-commit')}`, ws, spec);
  assert.equal(hook.denial.denied, true, hook.stderr);
  const repoint = await sh('echo "gitdir: /tmp/evil" > .git', ws, spec);
  assert.equal(repoint.denial.denied, true, repoint.stderr);
  assert.deepEqual(readdirSync(join(gitdir, 'hooks')), []);
  assert.equal(readFileSync(join(ws, '.git'), 'utf8'), `gitdir: ${gitdir}\n`);
});

test('workspace-write: a symlinked .git makes the workspace read-only rather than unprotectable', async () => {
  const { ws, outside } = dirs();
  mkdirSync(join(outside, 'realgit'));
  symlinkSync(join(outside, 'realgit'), join(ws, '.git'));
  const r = await sh('rm .git && mkdir -p .git/hooks && echo evil > .git/hooks/post-checkout', ws, WW);
  assert.notEqual(r.exitCode, 0);
  assert.equal(r.denial.denied, true, r.stderr);
  assert.ok(existsSync(join(outside, 'realgit')));
  assert.ok(lstatSync(join(ws, '.git')).isSymbolicLink(), 'the link is still the original one');
  assert.notEqual((await sh('echo ok > file', ws, WW)).exitCode, 0, 'the whole workspace is read-only');
});

test('workspace-write: a symlink planted in the workspace does not let a write escape', async () => {
  const { ws, outside } = dirs();
  writeFileSync(join(outside, 'victim'), 'original');
  // Planted by a sandboxed command itself, then used by the next one.
  assert.equal((await sh(`ln -s ${outside} out && ln -s ${join(outside, 'victim')} v`, ws, WW)).exitCode, 0);
  const r1 = await sh('echo pwned > out/new', ws, WW);
  const r2 = await sh('echo pwned > v', ws, WW);
  const r3 = await sh('cp /etc/hostname out/', ws, WW);
  for (const r of [r1, r2, r3]) {
    assert.notEqual(r.exitCode, 0);
    assert.equal(r.denial.denied, true, r.stderr);
  }
  assert.deepEqual(readdirSync(outside), ['victim']);
  assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'original');
});

test('workspace-write: a writable root given as a symlink binds its real target', async () => {
  const { ws, outside } = dirs();
  symlinkSync(outside, join(base, `link${n}`));
  const r = await sh(`echo y > ${join(base, `link${n}`, 'through-link')}`, ws, { ...WW, writableRoots: [join(base, `link${n}`)] });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.ok(existsSync(join(outside, 'through-link')));
});

test('read-only: every write fails, including the workspace and /tmp', async () => {
  const { ws } = dirs();
  for (const target of [join(ws, 'f'), '/tmp/warden-ro-probe', join(base, 'f'), '/var/tmp/warden-ro-probe']) {
    const r = await sh(`echo x > ${target}`, ws, RO);
    assert.notEqual(r.exitCode, 0, target);
    assert.equal(r.denial.denied, true, r.stderr);
    assert.ok(!existsSync(target), target);
  }
  // Reading works; /dev/null and the fresh /dev are usable.
  const read = await sh('cat /etc/hostname >/dev/null && echo fine', ws, RO);
  assert.equal(read.stdout, 'fine\n');
});

test('the sandbox holds no capabilities, so it cannot remount / read-write (we run as root here)', async () => {
  const { ws } = dirs();
  const caps = await sh('grep CapEff /proc/self/status', ws, RO);
  assert.match(caps.stdout, /CapEff:\s+0+\n/);
  const remount = await sh('mount -o remount,rw / 2>&1; touch /warden-remount-probe', ws, RO);
  assert.notEqual(remount.exitCode, 0);
  assert.ok(!existsSync('/warden-remount-probe'));
});

test('a fresh pid namespace: host processes are invisible', async () => {
  const { ws } = dirs();
  const r = await sh('ls /proc | grep -c "^[0-9]"', ws, RO);
  assert.ok(Number(r.stdout.trim()) < 10, r.stdout);
});

test('network: a TCP connect to the host 127.0.0.1 fails inside, works with the network on', async () => {
  const { ws } = dirs();
  const server: Server = createServer((s) => s.on('error', () => {}).end('hi'));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  const client = `require('net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('connected'); process.exit(0) }).on('error', (e) => { console.error(e.message); process.exit(1) })`;
  try {
    const off = await runCommand({ command: [process.execPath, '-e', client], cwd: ws, sandbox: RO });
    assert.equal(off.exitCode, 1, off.stdout + off.stderr);
    assert.match(off.stderr, /ECONNREFUSED|ENETUNREACH|EPERM/);
    assert.deepEqual(off.denial, { denied: true, what: 'network connection blocked' });
    const on = await runCommand({ command: [process.execPath, '-e', client], cwd: ws, sandbox: { ...RO, network: true } });
    assert.equal(on.exitCode, 0, on.stderr);
    assert.equal(on.stdout, 'connected\n');
  } finally {
    server.close();
  }
});

/** Any live process whose command line contains `token`. */
function processesWith(token: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(token)) found.push(`${pid}: ${cmd}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

for (const [label, sandbox] of [['under bwrap', WW], ['bare', null]] as const) {
  test(`timeout ${label}: the whole tree is killed, recorded as a timeout, and nothing writes later`, async () => {
    const { ws } = dirs();
    const token = `warden-orphan-${label.replace(' ', '-')}-${process.pid}`;
    const marker = join(ws, 'late');
    // The grandchild ignores SIGTERM and would write the marker after the timeout.
    const script = `sh -c 'trap "" TERM; sleep 1.5; echo late > ${marker}' ${token} & sleep 30`;
    const started = Date.now();
    const r = await sh(script, ws, sandbox, { timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.ok(r.signal === 'SIGTERM' || r.signal === 'SIGKILL', String(r.signal));
    assert.equal(r.denial.denied, false);
    assert.ok(Date.now() - started < 3000, 'returned promptly');
    assert.deepEqual(processesWith(token), []);
    await new Promise((res) => setTimeout(res, 1800));
    assert.ok(!existsSync(marker), 'a descendant outlived the request');
  });

  test(`background job ${label}: left running at exit, it is killed with the run`, async () => {
    const { ws } = dirs();
    const token = `warden-bg-${label.replace(' ', '-')}-${process.pid}`;
    const marker = join(ws, 'late');
    const r = await sh(`sh -c 'sleep 1; echo late > ${marker}' ${token} & echo started`, ws, sandbox);
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'started\n');
    assert.ok(r.durationMs < 900, `waited for the background job: ${r.durationMs}`);
    assert.deepEqual(processesWith(token), []);
    await new Promise((res) => setTimeout(res, 1300));
    assert.ok(!existsSync(marker));
  });
}

test('output over the cap is truncated, counted and marked', async () => {
  const { ws } = dirs();
  const r = await sh('head -c 3000000 /dev/zero | tr "\\0" a; echo err >&2', ws, RO);
  const cap = 1024 * 1024;
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdoutBytes, 3_000_000);
  assert.equal(r.truncated, true);
  assert.equal(r.stdout, 'a'.repeat(cap) + `\n[warden: output truncated, ${3_000_000 - cap} bytes dropped]`);
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.stderrBytes, 4);
  const small = await sh('printf 0123456789', ws, RO, { outputCapBytes: 4 });
  assert.equal(small.stdout, '0123\n[warden: output truncated, 6 bytes dropped]');
  const under = await sh('printf 0123', ws, RO, { outputCapBytes: 4 });
  assert.equal(under.stdout, '0123');
  assert.equal(under.truncated, false);
});

test('a denial is a denial; a plain exit 1 is not', async () => {
  const { ws } = dirs();
  const plain = await sh('echo "test failed"; exit 1', ws, WW);
  assert.equal(plain.exitCode, 1);
  assert.deepEqual(plain.denial, { denied: false });
  const denied = await sh('echo x > /usr/warden-denied', ws, WW);
  assert.equal(denied.denial.denied, true);
  assert.match(denied.denial.what!, /read-only path: \/usr\/warden-denied/);
  const notFound = await sh('frobnicate-nothing', ws, WW);
  assert.equal(notFound.exitCode, 127);
  assert.equal(notFound.denial.denied, false);
});

test('stdin is written then closed; without it the command reads /dev/null', async () => {
  const { ws } = dirs();
  assert.equal((await runCommand({ command: ['cat'], cwd: ws, sandbox: RO, stdin: 'piped\n' })).stdout, 'piped\n');
  const r = await runCommand({ command: ['cat'], cwd: ws, sandbox: RO, timeoutMs: 5000 });
  assert.equal(r.timedOut, false);
  assert.equal(r.stdout, '');
});

test('a command that cannot be started is an outcome with error, not a throw', async () => {
  const { ws } = dirs();
  for (const sandbox of [null, RO]) {
    const r = await runCommand({ command: ['/nonexistent/warden-cmd'], cwd: ws, sandbox });
    assert.equal(r.exitCode, null);
    assert.match(r.error ?? '', /warden-cmd/);
    assert.equal(r.denial.denied, false);
  }
});

test('the sandbox tells the command it is sandboxed', async () => {
  const { ws } = dirs();
  const r = await sh('echo $WARDEN_SANDBOX $WARDEN_SANDBOX_NETWORK_DISABLED', ws, RO);
  assert.equal(r.stdout, 'bwrap 1\n');
});

test('a sandbox that fails to set up is an outcome with error, never a denial or a bare run', async () => {
  const { ws } = dirs();
  // A "bwrap" that exits 1 without reporting the sandbox as ready on its info fd.
  const r = await runCommand(
    { command: ['sh', '-c', `echo ran > ${join(ws, 'ran')}`], cwd: ws, sandbox: RO },
    { detection: { type: 'bwrap', executable: '/bin/false', reason: null } },
  );
  assert.equal(r.exitCode, null);
  assert.match(r.error ?? '', /^sandbox set-up failed/);
  assert.equal(r.denial.denied, false);
  assert.ok(!existsSync(join(ws, 'ran')));
});

test('a Unix socket on the host file system cannot be connected to, network on or off, unless listed', async () => {
  const { ws, outside } = dirs();
  const path = join(outside, 'host.sock');
  const server: Server = createServer((s) => s.on('error', () => {}).end('hi'));
  await new Promise<void>((res) => server.listen(path, res));
  const client = `require('net').connect(${JSON.stringify(path)}).on('connect', () => { console.log('connected'); process.exit(0) }).on('error', (e) => { console.error(e.message); process.exit(1) })`;
  try {
    const off = await runCommand({ command: [process.execPath, '-e', client], cwd: ws, sandbox: RO });
    assert.equal(off.exitCode, 1, off.stdout + off.stderr);
    assert.match(off.stderr, /EPERM/);
    assert.equal(off.denial.denied, true);
    // With the network on the socket stays blocked (issue #13: docker.sock, the session bus) ...
    const on = await runCommand({ command: [process.execPath, '-e', client], cwd: ws, sandbox: { ...RO, network: true } });
    assert.equal(on.exitCode, 1, on.stdout + on.stderr);
    assert.match(on.stderr, /EPERM/);
    // ... unless it is listed, and then only it: another listening socket is still unreachable.
    const other = join(outside, 'other.sock');
    const otherServer: Server = createServer((s) => s.on('error', () => {}).end('hi'));
    await new Promise<void>((res) => otherServer.listen(other, res));
    try {
      for (const network of [true, false]) {
        const allowed = await runCommand({ command: [process.execPath, '-e', client], cwd: ws, sandbox: { ...RO, network, allowUnixSockets: [path] } });
        assert.equal(allowed.stdout, 'connected\n', allowed.stderr);
        const otherClient = client.replace(JSON.stringify(path), JSON.stringify(other));
        const blocked = await runCommand({ command: [process.execPath, '-e', otherClient], cwd: ws, sandbox: { ...RO, network, allowUnixSockets: [path] } });
        assert.equal(blocked.exitCode, 1, blocked.stdout + blocked.stderr);
        assert.match(blocked.stderr, /EACCES|ECONNREFUSED/);
        assert.equal(blocked.denial.denied, true, blocked.stderr);
      }
    } finally {
      otherServer.close();
    }
    // Local IPC that needs no connect still works with the network off.
    const pair = await runCommand({
      command: [process.execPath, '-e', "require('child_process').spawn(process.execPath, ['-e', 'process.send(1)'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }).on('message', (m) => { console.log('ipc', m); process.exit(0) })"],
      cwd: ws,
      sandbox: RO,
    });
    assert.equal(pair.stdout, 'ipc 1\n', pair.stderr);
  } finally {
    server.close();
  }
});

test('concurrent runs on one workspace: the first to finish does not lift the other\'s mask', async () => {
  const { ws } = dirs();
  // The first run creates the mask files; the second starts while they exist and outlives the first.
  const first = sh('sleep 0.4', ws, WW);
  await new Promise((res) => setTimeout(res, 200));
  const second = sh('sleep 0.8; mkdir .warden && echo created', ws, WW);
  assert.equal((await first).exitCode, 0);
  const r = await second;
  assert.notEqual(r.exitCode, 0, r.stdout);
  assert.equal(r.denial.denied, true, r.stderr);
  assert.deepEqual(readdirSync(ws), []);
});
