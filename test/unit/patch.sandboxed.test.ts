/**
 * Patches applied exactly as the executor applies them: the run `runRequestFor` makes of a patch
 * request (`applyPatchCommand()`, the native helper, talked with through `patchConversation`),
 * spawned by runCommand inside real bubblewrap under a workspace-write plan. The sandbox, not the patch code, must be what stops a write outside the
 * workspace, through a symlink, or to a hidden file; what the agent reads must be the plain account
 * of the change, never the helper's protocol. Then the helper itself on malformed input.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { applyPatchCommand, patchConversation } from '../../src/safety/patch/applyPatchCommand.ts';
import { nodePatchFs } from '../../src/safety/patch/patchFs.ts';
import { frameOf, remotePatchFs, u32 } from '../../src/safety/patch/remotePatchFs.ts';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import { runRequestFor } from '../../src/requests/effects.ts';
import type { ApprovalRequest } from '../../src/machines/approval.machine.ts';
import type { RequestPolicy } from '../../src/events/types.ts';

const wrap = (...body: string[]) => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');
const SECRET = 'TOP-SECRET-VALUE';

let base: string;
let ws: string;
before(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'warden-sandboxed-patch-')));
  ws = path.join(base, 'ws');
  mkdirSync(ws);
  mkdirSync(path.join(base, 'outside'));
  writeFileSync(path.join(base, 'outside', 'target.txt'), 'outside\n');
  writeFileSync(path.join(base, 'secret.txt'), `${SECRET}\n`);
});
after(() => rmSync(base, { recursive: true, force: true }));

const policy = (hidden: string[]): RequestPolicy => ({ approval: 'on-request', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: false, hidden });
const patchRequest = (patch: string, hidden: string[] = []): ApprovalRequest => ({ kind: 'patch', patch, cwd: ws, withEscalatedPermissions: false, policy: policy(hidden), origin: { surface: 'test', pid: process.pid, host: 'test' } });
const PLAN = { sandboxType: 'bwrap', mode: 'workspace-write' } as const;
const apply = (patch: string, hidden: string[] = []) => runCommand(runRequestFor(patchRequest(patch, hidden), PLAN, applyPatchCommand()));
/** The workspace's entries, without the mount points bwrap leaves for masked names. */
const entries = (dir: string) => readdirSync(dir).filter((n) => !(lstatSync(path.join(dir, n)).isFile() && statSync(path.join(dir, n)).size === 0 && n.startsWith('.'))).sort();

test('applyPatchCommand names the native helper, absolute and built: no node start in the sandbox', () => {
  const argv = applyPatchCommand();
  assert.equal(argv.length, 1);
  assert.match(argv[0]!, /\/native\/build\/warden-apply$/);
  assert.ok(path.isAbsolute(argv[0]!) && existsSync(argv[0]!));
});

test("the executor's run of a patch talks with the helper (no stdin) and sets up no process-limit cgroup for it alone", () => {
  const own = runRequestFor(patchRequest(wrap('*** Add File: a.txt', '+a')), PLAN, applyPatchCommand());
  assert.equal(own.stdin, undefined);
  assert.equal(typeof own.converse, 'function');
  assert.equal(own.makesNoProcesses, true);
  assert.equal(own.opensNoSockets, true);
  // and none of the environment but what plans its sandbox ($TMPDIR, the homes)
  const env = { HOME: '/home/p', TMPDIR: '/tmp/p', XDG_CONFIG_HOME: '/home/p/.c', OPENAI_API_KEY: 'sk-x', MARKER: 'm' };
  assert.deepEqual(runRequestFor(patchRequest(wrap('*** Add File: a.txt', '+a')), PLAN, applyPatchCommand(), env).env, { HOME: '/home/p', TMPDIR: '/tmp/p', XDG_CONFIG_HOME: '/home/p/.c' });
  assert.equal(runRequestFor(patchRequest(wrap('*** Add File: a.txt', '+a')), PLAN, ['/bin/true'], env).env, env);
  // any other program in its place (a test's) is limited as every sandboxed run is
  assert.equal(runRequestFor(patchRequest(wrap('*** Add File: a.txt', '+a')), PLAN, ['/bin/true']).makesNoProcesses, undefined);
  assert.equal(runRequestFor(patchRequest(wrap('*** Add File: a.txt', '+a')), PLAN, ['/bin/true']).opensNoSockets, undefined);
});

test('the helper runs under its own no-fork seccomp filter, so it needs no process-limit cgroup', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(applyPatchCommand()[0]!, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const remote = remotePatchFs(child.stdin, child.stdout);
  try {
    await remote.lstat(base); // answered: past its start, so its filter is in place
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    assert.match(status, /^Seccomp:\s+2$/m);
  } finally {
    remote.close();
    await new Promise((resolve) => child.on('close', resolve));
  }
});

test('inside bwrap: the patch lands in cwd and the result is the plain account; a write outside fails and writes nothing', async () => {
  const ok = await apply(wrap('*** Add File: hello.txt', '+hi from the sandbox'));
  assert.equal(ok.exitCode, 0, ok.stderr);
  assert.equal(ok.sandboxType, 'bwrap');
  assert.equal(readFileSync(path.join(ws, 'hello.txt'), 'utf8'), 'hi from the sandbox\n');
  // What the agent reads: a plain account of the change, not the helper's frames.
  assert.equal(ok.stdout, 'Success. Updated the following files:\nA hello.txt (+1 -0)\n');
  assert.equal(ok.stderr, '');
  assert.equal(ok.pidsLimit, undefined, 'no process-limit cgroup for a helper that cannot fork');

  const bad = await apply(wrap('*** Add File: inside.txt', '+fine', '*** Add File: ../outside/escape.txt', '+escape'));
  assert.equal(bad.exitCode, 1);
  assert.match(bad.stderr, /^apply_patch: .*(EROFS|read-only file system)/i);
  assert.equal(bad.stdout, '');
  assert.equal(bad.denial.denied, true, 'a write the sandbox refused is a denial (the person may be asked)');
  assert.equal(existsSync(path.join(base, 'outside', 'escape.txt')), false);
  // All or nothing: the allowed half of the failed patch was not written either.
  assert.deepEqual(entries(ws), ['hello.txt']);
});

test('an update, a move and a delete through the helper keep the mode and leave no temp file', async () => {
  writeFileSync(path.join(ws, 'run.sh'), 'echo one\necho two\n');
  chmodSync(path.join(ws, 'run.sh'), 0o750);
  writeFileSync(path.join(ws, 'gone.txt'), 'bye\n');
  const r = await apply(wrap('*** Update File: run.sh', '*** Move to: bin/run.sh', '@@', ' echo one', '-echo two', '+echo 2', '*** Delete File: gone.txt'));
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'Success. Updated the following files:\nM run.sh -> bin/run.sh (+1 -1)\nD gone.txt (+0 -1)\n');
  assert.equal(readFileSync(path.join(ws, 'bin', 'run.sh'), 'utf8'), 'echo one\necho 2\n');
  assert.equal(statSync(path.join(ws, 'bin', 'run.sh')).mode & 0o777, 0o750);
  assert.equal(existsSync(path.join(ws, 'run.sh')), false);
  assert.equal(existsSync(path.join(ws, 'gone.txt')), false);
  assert.deepEqual(readdirSync(path.join(ws, 'bin')), ['run.sh']);
  rmSync(path.join(ws, 'bin'), { recursive: true });
});

test('a parse error is one apply_patch line on stderr, exit 1, nothing written', async () => {
  const before = entries(ws);
  const r = await apply(wrap('*** Nope: x'));
  assert.equal(r.exitCode, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^apply_patch: line 2: not a valid hunk header/);
  assert.deepEqual(entries(ws), before);
});

test('attack: a symlink in the workspace to a file outside is replaced, its target never written', async () => {
  symlinkSync(path.join(base, 'outside', 'target.txt'), path.join(ws, 'link.txt'));
  const r = await apply(wrap('*** Update File: link.txt', '-outside', '+changed'));
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(readFileSync(path.join(base, 'outside', 'target.txt'), 'utf8'), 'outside\n');
  assert.equal(lstatSync(path.join(ws, 'link.txt')).isFile(), true);
  assert.equal(readFileSync(path.join(ws, 'link.txt'), 'utf8'), 'changed\n');
  rmSync(path.join(ws, 'link.txt'));
});

test('attack: a symlinked directory leading outside the workspace cannot be written through', async () => {
  symlinkSync(path.join(base, 'outside'), path.join(ws, 'out'));
  const r = await apply(wrap('*** Add File: out/planted.txt', '+planted'));
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /EROFS|read-only file system/i);
  assert.deepEqual(readdirSync(path.join(base, 'outside')), ['target.txt']);
  rmSync(path.join(ws, 'out'));
});

test('attack: a hidden file reached by a symlink reads as the decoy; its text never reaches the result', async () => {
  const secret = path.join(base, 'secret.txt');
  symlinkSync(secret, path.join(ws, 'peek.txt'));
  const r = await apply(wrap('*** Update File: peek.txt', `-${SECRET}`, '+stolen'), [secret]);
  assert.equal(r.exitCode, 1);
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
  assert.equal(readFileSync(secret, 'utf8'), `${SECRET}\n`);
  assert.equal(lstatSync(path.join(ws, 'peek.txt')).isSymbolicLink(), true);
  rmSync(path.join(ws, 'peek.txt'));
});

test('attack: a hidden file inside the workspace cannot be overwritten or deleted by a patch', async () => {
  const creds = path.join(ws, 'creds.txt');
  writeFileSync(creds, `${SECRET}\n`);
  try {
    for (const patch of [wrap('*** Add File: creds.txt', '+overwritten'), wrap('*** Delete File: creds.txt')]) {
      const r = await apply(patch, [creds]);
      assert.equal(r.exitCode, 1, `${patch}: ${r.stdout}`);
      assert.equal(r.denial.what, `access to a hidden path: ${creds}`);
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
      assert.equal(readFileSync(creds, 'utf8'), `${SECRET}\n`);
    }
  } finally {
    rmSync(creds);
  }
});

// --- the helper on its own, fed bytes directly (no sandbox needed to judge its parsing) ---

const frame = (op: number, ...fields: Buffer[]) => frameOf(Buffer.from([op]), fields);
const UNLINK = 8;
const helper = (input: Buffer) => spawnSync(applyPatchCommand()[0]!, [], { input, cwd: base, timeout: 30_000 });

test('the helper refuses malformed requests with exit 2 before doing anything they ask', () => {
  const victim = path.join(base, 'victim.txt');
  writeFileSync(victim, 'keep\n');
  const unlinkVictim = frame(UNLINK, Buffer.from(victim));
  const cases: Array<[string, Buffer, RegExp]> = [
    ['truncated length', Buffer.from([5, 0]), /truncated request/],
    ['truncated body', unlinkVictim.subarray(0, unlinkVictim.length - 3), /truncated request/],
    ['zero length', u32(0), /bad length/],
    ['a length past the limit', Buffer.concat([u32(0xffffffff), Buffer.alloc(16)]), /bad length/],
    ['an unknown operation', frame(200, Buffer.from(victim)), /unknown operation/],
    ['a missing field', Buffer.concat([u32(1), Buffer.from([UNLINK])]), /missing field/],
    ['a field running past the request', Buffer.concat([u32(9), Buffer.from([UNLINK]), u32(1000), Buffer.from('abcd')]), /runs past/],
    ['extra bytes after the fields', (() => {
      const f = frame(UNLINK, Buffer.from(victim));
      const padded = Buffer.concat([f, Buffer.from('zz')]);
      padded.writeUInt32LE(f.length - 4 + 2, 0);
      return padded;
    })(), /extra bytes/],
    ['an integer field of the wrong size', frame(6, Buffer.from(path.join(base, 'new.txt')), Buffer.from('x'), Buffer.from('1'), Buffer.alloc(8), Buffer.alloc(8)), /not 8 bytes/],
  ];
  for (const [name, input, message] of cases) {
    const r = helper(input);
    assert.equal(r.status, 2, `${name}: exit ${r.status}`);
    assert.match(r.stderr.toString(), message, name);
    assert.match(r.stderr.toString(), /^warden-apply: /, name);
    assert.equal(r.stdout.length, 0, `${name}: answered`);
    assert.equal(readFileSync(victim, 'utf8'), 'keep\n', `${name}: the victim was touched`);
  }
  // One good request answered, then the malformed one ends it: the request after is never done.
  const r = helper(Buffer.concat([frame(1, Buffer.from(victim)), Buffer.from([1, 0, 0]), unlinkVictim]));
  assert.equal(r.status, 2);
  assert.ok(r.stdout.length > 0);
  assert.equal(existsSync(victim), true);
  assert.equal(existsSync(path.join(base, 'new.txt')), false);
  rmSync(victim);
});

test('the helper refuses a path with a NUL byte (EINVAL) instead of cutting it short', () => {
  const victim = path.join(base, 'nul-victim');
  writeFileSync(victim, 'keep\n');
  const r = helper(frame(UNLINK, Buffer.from(`${victim}\0/ignored`)));
  assert.equal(r.status, 0, r.stderr.toString());
  const status = r.stdout.readInt32LE(4);
  assert.equal(status, 22, 'EINVAL');
  assert.equal(existsSync(victim), true);
  rmSync(victim);
});

test('the helper fails each call as node would: same code and message as nodePatchFs', async () => {
  const child = (await import('node:child_process')).spawn(applyPatchCommand()[0]!, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const remote = remotePatchFs(child.stdin, child.stdout);
  const missing = path.join(base, 'missing', 'x');
  const file = path.join(base, 'secret.txt');
  const calls: Array<[string, (fs: typeof nodePatchFs) => Promise<unknown>]> = [
    ['lstat', (fs) => fs.lstat(missing)],
    ['readFile', (fs) => fs.readFile(missing)],
    ['readlink of a file', (fs) => fs.readlink(file)],
    ['writeNew over an existing file', (fs) => fs.writeNew(file, 'x', null, null)],
    ['rename of a missing file', (fs) => fs.rename(missing, path.join(base, 'y'))],
    ['mkdirp through a file', (fs) => fs.mkdirp(path.join(file, 'sub'))],
    ['rmdir of a file', (fs) => fs.rmdir(file)],
  ];
  try {
    for (const [name, call] of calls) {
      const local = await call(nodePatchFs).then(() => null, (e: NodeJS.ErrnoException) => e);
      const far = await call(remote).then(() => null, (e: NodeJS.ErrnoException) => e);
      assert.ok(local !== null && far !== null, `${name}: both fail`);
      assert.equal(far.code, local.code, name);
      assert.equal(far.message, local.message, name);
    }
    assert.equal((await remote.readFile(file)).toString(), `${SECRET}\n`);
  } finally {
    remote.close();
    await new Promise((resolve) => child.on('close', resolve));
  }
  // Once the helper is gone every call fails at once, it does not hang.
  await assert.rejects(remote.lstat(file), /ended before answering/);
});

test('a conversation whose helper dies mid-way fails the patch, and nothing half-read is applied', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  const talk = patchConversation(wrap('*** Add File: never.txt', '+x'), ws)({ input, output });
  output.end(); // the helper died before its first answer
  const r = await talk;
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /^apply_patch: .*ended before answering/);
  assert.equal(existsSync(path.join(ws, 'never.txt')), false);
});

test('attack: a racer swapping a directory of the patch for links outside and to a hidden file never gets a write out nor a hidden byte in', async () => {
  // The helper's calls are by path (lstat, open, rename in turn), so a directory swapped for a link
  // between them is followed: what must hold is that the sandbox, not the timing, bounds them.
  const racy = path.join(base, 'racy');
  const outside = path.join(racy, 'outside');
  const hid = path.join(racy, 'hid');
  const work = path.join(racy, 'ws');
  for (const d of [outside, hid, path.join(work, 'd.dir')]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(outside, 'file.txt'), 'old\n');
  writeFileSync(path.join(hid, 'file.txt'), `old\n${SECRET}\n`);
  writeFileSync(path.join(work, 'd.dir', 'file.txt'), 'old\n');
  symlinkSync(outside, path.join(work, 'd.out'));
  symlinkSync(hid, path.join(work, 'd.hid'));
  renameSync(path.join(work, 'd.dir'), path.join(work, 'd'));
  const stop = path.join(racy, 'stop');
  // ws/d is in turn the real directory, a link outside (read-only in the sandbox) and a link to the hidden one
  const racer = spawn(process.execPath, ['-e', `
    const { renameSync, existsSync } = require('node:fs');
    const w = ${JSON.stringify(work)}, d = w + '/d';
    const swap = (away, back) => { renameSync(d, w + '/' + away); renameSync(w + '/' + back, d); };
    // the real directory stays a while (up to 30 ms, so whole patches can land), each link briefly
    const hold = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    const end = Date.now() + 120000;
    let n = 0;
    for (let i = 0; !existsSync(${JSON.stringify(stop)}) && Date.now() < end; i++) {
      swap('d.dir', 'd.out'); hold(Math.random() * 2); swap('d.out', 'd.hid'); hold(Math.random() * 2); swap('d.hid', 'd.dir');
      if (++n === 1) process.stdout.write('racing\\n');
      hold(Math.random() * 30);
    }
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => racer.stdout.once('data', resolve));
  const request = (patch: string): ApprovalRequest => ({ ...patchRequest(patch, [path.join(hid, 'file.txt')]), cwd: work });
  const outcomes = { ok: 0, failed: 0 };
  try {
    for (let i = 0; i < 60; i++) {
      const patch = wrap('*** Update File: d/file.txt', '@@', ' old', `+added ${i}`, `*** Add File: d/new-${i}.txt`, `+new ${i}`);
      const r = await runCommand(runRequestFor(request(patch), PLAN, applyPatchCommand()));
      outcomes[r.exitCode === 0 ? "ok" : "failed"]++;
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET), `patch ${i}`);
    }
  } finally {
    writeFileSync(stop, '');
    await new Promise((resolve) => (racer.exitCode !== null ? resolve(null) : racer.once('exit', resolve)));
  }
  // the race was real: some patches landed, some met a link
  assert.ok(outcomes.ok > 0 && outcomes.failed > 0, JSON.stringify(outcomes));
  assert.deepEqual(readdirSync(outside), ['file.txt']);
  assert.equal(readFileSync(path.join(outside, 'file.txt'), 'utf8'), 'old\n');
  assert.deepEqual(readdirSync(hid), ['file.txt']);
  assert.equal(readFileSync(path.join(hid, 'file.txt'), 'utf8'), `old\n${SECRET}\n`);
  // nothing the patches wrote in the workspace came from the hidden file
  const real = ['d', 'd.dir', 'd.out', 'd.hid'].map((n) => path.join(work, n)).find((p) => lstatSync(p).isDirectory())!;
  for (const name of readdirSync(real)) assert.doesNotMatch(readFileSync(path.join(real, name), 'utf8'), new RegExp(SECRET), name);
  rmSync(racy, { recursive: true, force: true });
});

test("attack: a link to the helper's own /proc/self/environ cannot be patched into the workspace", async () => {
  const marker = 'WARDEN_ENV_MARKER_' + process.pid;
  symlinkSync('/proc/self/environ', path.join(ws, 'env.txt'));
  symlinkSync('/proc/self/cmdline', path.join(ws, 'cmd.txt'));
  try {
    for (const name of ['env.txt', 'cmd.txt']) {
      // a pure addition: goes at the end of whatever the file is, so any bytes would do
      const run = runRequestFor(patchRequest(wrap(`*** Update File: ${name}`, '@@', '+tail')), PLAN, applyPatchCommand(), { ...process.env, [marker]: 'leaked' });
      const r = await runCommand(run);
      assert.equal(r.exitCode, 1, `${name}: ${r.stdout}`);
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(marker));
      assert.equal(lstatSync(path.join(ws, name)).isSymbolicLink(), true, `${name} was replaced`);
    }
  } finally {
    rmSync(path.join(ws, 'env.txt'));
    rmSync(path.join(ws, 'cmd.txt'));
  }
});
