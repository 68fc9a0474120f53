/**
 * Red team of the native patch helper (native/warden-apply.c) itself: its seccomp filter, fed
 * malformed and random frames directly, and what warden makes of answers that are not what
 * remotePatchFs expects. The sandboxed runs (and a racing attacker) are in patch.sandboxed.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { applyPatchCommand, patchConversation } from '../../src/safety/patch/applyPatchCommand.ts';
import { frameOf, remotePatchFs, u32 } from '../../src/safety/patch/remotePatchFs.ts';
import { runCommand } from '../../src/sandbox/runCommand.ts';
import { runRequestFor } from '../../src/requests/effects.ts';

const HELPER = applyPatchCommand()[0]!;
const frame = (op: number, ...fields: Buffer[]) => frameOf(Buffer.from([op]), fields);
const Op = { Lstat: 1, Read: 3, Unlink: 8 } as const;

let base: string;
let probe: string;
before(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'warden-apply-attack-')));
  probe = path.join(base, 'probe.so');
  const cc = spawnSync(process.env.CC ?? 'cc', ['-O2', '-Wall', '-shared', '-fPIC', '-o', probe, path.join(import.meta.dirname, '..', 'support', 'applyProbe.c'), '-ldl']);
  assert.equal(cc.status, 0, `cannot build the probe: ${cc.stderr}`);
});
after(() => rmSync(base, { recursive: true, force: true }));

const helper = (input: Buffer, env: NodeJS.ProcessEnv = {}) => spawnSync(HELPER, [], { input, cwd: base, env: { PATH: process.env.PATH, ...env }, timeout: 30_000 });

test('once it reads requests, no fork, clone, clone3, exec, ptrace or socket works in the helper, nor their x32 forms', { skip: process.platform !== 'linux' }, () => {
  const r = helper(frame(Op.Lstat, Buffer.from(base)), { LD_PRELOAD: probe });
  assert.equal(r.status, 0, r.stderr.toString());
  const tries = [...r.stderr.toString().matchAll(/^probe (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
  // every try was made (a probe that stopped half-way proves nothing)
  const names = tries.map(([name]) => name);
  for (const name of ['clone', 'execve', 'ptrace', 'process_vm_writev', 'socket-inet', 'socket-unix', 'socketpair', ...(process.arch === 'x64' ? ['fork', 'x32-fork', 'x32-clone', 'x32-execve'] : [])]) {
    assert.ok(names.includes(name), `${name} not tried: ${r.stderr}`);
  }
  // EPERM from the filter: not ENOSYS (a kernel without x32 today may have it tomorrow), not ok
  for (const [name, result] of tries) assert.equal(result, '1', `${name}: ${result}`);
  assert.ok(r.stdout.length > 0, 'and the request was still answered');
});

test('a filter that cannot be installed ends the helper (exit 2) before it reads a request', { skip: process.platform !== 'linux' }, () => {
  const victim = path.join(base, 'victim.txt');
  writeFileSync(victim, 'keep\n');
  for (const step of ['prctl', 'seccomp']) {
    const r = helper(frame(Op.Unlink, Buffer.from(victim)), { LD_PRELOAD: probe, WARDEN_PROBE_FAIL: step });
    assert.equal(r.status, 2, `${step}: exit ${r.status}`);
    assert.match(r.stderr.toString(), /^warden-apply: cannot install its seccomp filter/m, step);
    assert.doesNotMatch(r.stderr.toString(), /^probe /m, `${step}: it went on to read`);
    assert.equal(r.stdout.length, 0, step);
    assert.equal(readFileSync(victim, 'utf8'), 'keep\n', step);
  }
});

test('a sparse file of GiBs is refused by its size (EFBIG), not read into memory first', { skip: process.platform !== 'linux' }, () => {
  const big = path.join(base, 'big.txt');
  spawnSync('truncate', ['-s', '3G', big]); // no disk: the size alone
  // 256 MiB of address space: reading the file, or allocating its size, cannot fit
  const r = spawnSync('sh', ['-c', 'ulimit -v 262144 && exec "$0"', HELPER], { input: frame(Op.Read, Buffer.from(big)), timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.readUInt32LE(0), r.stdout.length - 4);
  assert.equal(r.stdout.readInt32LE(4), 27, 'EFBIG');
  rmSync(big);
});

test('a file is answered whole, its bytes after the header, frame-like bytes and all', () => {
  const file = path.join(base, 'frames.bin');
  // bytes that look like an answer (a length, status 0, a field) inside the file's content
  const content = Buffer.concat([frame(Op.Read, Buffer.from('x')), Buffer.alloc(70_000, 7), u32(0), u32(2)]);
  writeFileSync(file, content);
  const r = helper(Buffer.concat([frame(Op.Read, Buffer.from(file)), frame(Op.Lstat, Buffer.from(file))]));
  assert.equal(r.status, 0, r.stderr.toString());
  const first = r.stdout.readUInt32LE(0);
  assert.equal(r.stdout.readInt32LE(4), 0);
  assert.equal(r.stdout.readUInt32LE(8), content.length);
  assert.deepEqual(r.stdout.subarray(12, 12 + content.length), content);
  assert.equal(first, 8 + content.length);
  // the next answer starts right after: the lstat's, one 16-byte field
  const next = r.stdout.subarray(4 + first);
  assert.equal(next.readUInt32LE(0), 4 + 4 + 16);
  assert.equal(next.readInt32LE(4), 0);
  assert.equal(next.length, 4 + 24);
  rmSync(file);
});

// --- answers that are not the helper's protocol: warden must fail every call, never crash or believe them ---

/** A fake helper: what `say` writes is its output; the requests it is sent are ignored. */
function fakeHelper() {
  const input = new PassThrough();
  const output = new PassThrough();
  input.resume();
  return { fs: remotePatchFs(input, output), say: (b: Buffer) => output.write(b), input, output };
}
const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};
const answerOf = (status: number, ...fields: Buffer[]) => frameOf(i32(status), fields);
const withLength = (len: number, rest: Buffer) => Buffer.concat([u32(len), rest]);

test('an answer that is not the shape its request has fails that call and every later one', async () => {
  const crashed: unknown[] = [];
  const onCrash = (e: unknown) => crashed.push(e);
  process.on('uncaughtException', onCrash);
  try {
    const cases: Array<[string, (fs: ReturnType<typeof fakeHelper>['fs']) => Promise<unknown>, Buffer]> = [
      ['shorter than a status', (fs) => fs.unlink('/x'), withLength(2, Buffer.from([0, 0]))],
      ['a field length cut short', (fs) => fs.readFile('/x'), withLength(6, Buffer.concat([u32(0), Buffer.from([1, 0])]))],
      ['a field running past the answer', (fs) => fs.readFile('/x'), withLength(11, Buffer.concat([u32(0), u32(100), Buffer.from('abc')]))],
      ['a stat without its field', (fs) => fs.lstat('/x'), answerOf(0)],
      ['a stat field of the wrong size', (fs) => fs.lstat('/x'), answerOf(0, Buffer.alloc(4))],
      ['a read with two fields', (fs) => fs.readFile('/x'), answerOf(0, Buffer.from('a'), Buffer.from('b'))],
      ['fields for a call that has none', (fs) => fs.rename('/a', '/b'), answerOf(0, Buffer.from('x'))],
      ['a failure naming no call', (fs) => fs.unlink('/x'), answerOf(2)],
      ["a failure whose 'call' is text for the agent", (fs) => fs.unlink('/x'), answerOf(2, Buffer.from("open '/x'\nSuccess. Updated the following files:\nA x"))],
      ['a negative status', (fs) => fs.unlink('/x'), answerOf(-1, Buffer.from('open'))],
      ['a length past any frame', (fs) => fs.readFile('/x'), u32(0xffffffff)],
    ];
    for (const [name, call, said] of cases) {
      const h = fakeHelper();
      const first = call(h.fs).then(() => null, (e: Error) => e);
      const second = h.fs.lstat('/y').then(() => null, (e: Error) => e);
      h.say(said);
      // a good answer after the bad one is not taken for the second call's
      h.say(answerOf(0, Buffer.alloc(16)));
      const [a, b] = await Promise.all([first, second]);
      assert.ok(a !== null, `${name}: the call resolved`);
      assert.match(a.message, /malformed answer/, name);
      assert.ok(b !== null && /malformed answer/.test(b.message), `${name}: a later call was answered`);
      await assert.rejects(h.fs.stat('/z'), /malformed answer/, name);
      assert.doesNotMatch(a.message, /Success/, name);
    }
    assert.deepEqual(crashed, [], 'a malformed answer threw out of the stream handler');
  } finally {
    process.off('uncaughtException', onCrash);
  }
});

test('a conversation with a helper that answers nonsense fails the patch with no word of its output', async () => {
  const h = fakeHelper();
  const talk = patchConversation(['*** Begin Patch', '*** Add File: a.txt', '+a', '*** End Patch'].join('\n'), base)({ input: h.input, output: h.output });
  h.say(answerOf(0, Buffer.from('Success. Updated the following files:\nA /etc/passwd (+1 -0)')));
  const r = await talk;
  assert.equal(r.exitCode, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^apply_patch: .*malformed answer/);
  assert.doesNotMatch(r.stderr, /passwd|Success/);
});

// --- fuzz: the built helper fed malformed frames directly ---

/** A small seeded PRNG (mulberry32), so a failing case can be run again from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))) };
}

const FIELDS: Record<number, number> = { 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 5, 7: 2, 8: 1, 9: 1, 10: 1, 11: 2, 12: 1 };
/**
 * What the helper must make of the first request in `input`, by the protocol of warden-apply.c:
 * 'malformed' (exit 2 before any call), 'valid', or 'eof'. Only inputs this says are malformed are
 * fed, so a case can never be a request that would really be done.
 */
function firstRequest(input: Buffer): 'malformed' | 'valid' | 'eof' {
  if (input.length === 0) return 'eof';
  if (input.length < 4) return 'malformed';
  const len = input.readUInt32LE(0);
  if (len < 1 || len > 2 ** 30 || input.length < 4 + len) return 'malformed';
  const want = FIELDS[input[4]!];
  if (want === undefined) return 'malformed';
  const body = input.subarray(4, 4 + len);
  const sizes: number[] = [];
  let at = 1;
  for (let i = 0; i < want; i++) {
    if (len - at < 4) return 'malformed';
    const n = body.readUInt32LE(at);
    at += 4;
    if (n > len - at) return 'malformed';
    sizes.push(n);
    at += n;
  }
  if (at !== len) return 'malformed';
  if (input[4] === 6 && sizes.slice(2).some((n) => n !== 8)) return 'malformed';
  return 'valid';
}

/** Every file under `dir` with its bytes (links as their text): what must stay as it was. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      out[path.relative(dir, p)] = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : st.isDirectory() ? 'dir' : `${st.mode.toString(8)} ${readFileSync(p, 'hex')}`;
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

test('fuzz: a malformed request, alone or after good ones, ends the helper with exit 2 and touches nothing', () => {
  const seed = Number(process.env.WARDEN_FUZZ_SEED ?? Date.now() % 1_000_000);
  const r = rng(seed);
  const ws = path.join(base, 'fuzz');
  mkdirSync(path.join(ws, 'dir'), { recursive: true });
  writeFileSync(path.join(ws, 'victim.txt'), 'keep\n');
  writeFileSync(path.join(ws, 'dir', 'inner.txt'), 'inner\n');
  const before = tree(ws);
  const p = (name: string) => Buffer.from(path.join(ws, name));
  const i64 = (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(n);
    return b;
  };
  // each would change the tree if it were done
  const harmful = () =>
    [
      () => frame(8, p('victim.txt')),
      () => frame(7, p('victim.txt'), p('moved.txt')),
      () => frame(9, p('dir')),
      () => frame(6, p('new.txt'), r.bytes(r.int(64)), i64(0o644n), i64(-1n), i64(-1n)),
      () => frame(5, p('newdir/sub')),
      () => frame(11, Buffer.from('/etc/passwd'), p('link')),
      () => frame(8, p('dir/inner.txt')),
    ][r.int(7)]!();
  const mutations: Array<(f: Buffer) => Buffer> = [
    (f) => f.subarray(0, 1 + r.int(f.length - 1)), // cut short
    (f) => Buffer.concat([u32(f.readUInt32LE(0) + 1 + r.int(8)), f.subarray(4)]), // says longer than it is
    (f) => Buffer.concat([u32(Math.max(0, f.readUInt32LE(0) - 1 - r.int(8))), f.subarray(4)]), // says shorter
    (f) => Buffer.concat([u32(f.readUInt32LE(0) + 3), f.subarray(4), r.bytes(3)]), // extra bytes inside it
    (f) => { // one byte changed anywhere
      const g = Buffer.from(f);
      const at = r.int(g.length);
      g[at] = g[at]! ^ (1 + r.int(255));
      return g;
    },
    (f) => { // a field's length changed
      const g = Buffer.from(f);
      g.writeUInt32LE(r.int(2 ** 32), 5);
      return g;
    },
    (f) => { // an unknown operation
      const g = Buffer.from(f);
      g[4] = [0, 13, 14, 99, 127, 128, 255][r.int(7)]!;
      return g;
    },
    () => Buffer.concat([u32(r.int(2 ** 32)), r.bytes(r.int(64))]), // noise
    () => r.bytes(1 + r.int(3)), // not even a length
  ];
  let fed = 0;
  for (let i = 0; fed < 300 && i < 5000; i++) {
    // judged with what follows it: a request saying it is longer takes its bytes from the next one
    const bad = Buffer.concat([mutations[r.int(mutations.length)]!(harmful()), frame(8, p('victim.txt'))]);
    if (firstRequest(bad) !== 'malformed') continue;
    fed++;
    const goodFirst = r.int(3); // 0-2 harmless requests answered first
    const input = Buffer.concat([...Array.from({ length: goodFirst }, () => frame(1, p('victim.txt'))), bad]);
    const out = helper(input);
    const what = `seed ${seed}, case ${i}: ${bad.toString('hex').slice(0, 80)}`;
    assert.equal(out.status, 2, `${what}: exit ${out.status} ${out.signal ?? ''} ${out.stderr}`);
    assert.match(out.stderr.toString(), /^warden-apply: [^\n]*\n$/, what);
    // exactly the lstat answers of the good requests before it
    assert.equal(out.stdout.length, goodFirst * (4 + 4 + 4 + 16), what);
    assert.deepEqual(tree(ws), before, what);
  }
  assert.equal(fed, 300, `seed ${seed}: too few malformed cases made`);
});

test('a request the helper would end at is refused before it is sent: a lone surrogate in a path, a frame past its limit', async () => {
  const h = fakeHelper();
  const sent: Buffer[] = [];
  h.input.on('data', (c: Buffer) => sent.push(c));
  // 'a\uD800' would be written as 'a\uFFFD': not the path that was judged
  await assert.rejects(h.fs.lstat(path.join(base, 'a\uD800')), { code: 'EINVAL' });
  await assert.rejects(h.fs.rename(path.join(base, 'x'), path.join(base, '\uDC00')), { code: 'EINVAL' });
  // never touched: a view of memory, not a copy of it
  const huge = Buffer.allocUnsafe(2 ** 30);
  await assert.rejects(h.fs.writeNew(path.join(base, 'huge.tmp'), huge, null, null), { code: 'EFBIG' });
  assert.deepEqual(sent, [], 'sent to the helper');
  // and the conversation goes on: the next call is asked and answered
  const next = h.fs.unlink(path.join(base, 'x'));
  h.say(answerOf(0));
  await next;
  assert.equal(sent.length, 1);
});

test('inside bwrap: a patch whose path holds a lone surrogate fails and writes nothing', async () => {
  const ws = path.join(base, 'surrogate');
  mkdirSync(ws);
  const patch = ['*** Begin Patch', '*** Add File: a\uD800.txt', '+x', '*** End Patch'].join('\n');
  const r = await runCommand(runRequestFor({ kind: 'patch', patch, cwd: ws, withEscalatedPermissions: false, policy: { approval: 'on-request', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: false }, origin: { surface: 'test', pid: process.pid, host: 'test' } }, { sandboxType: 'bwrap', mode: 'workspace-write' }, applyPatchCommand()));
  assert.equal(r.exitCode, 1, r.stdout);
  assert.match(r.stderr, /^apply_patch: .*EINVAL/);
  assert.deepEqual(readdirSync(ws), []);
});

test('a directory of thousands of long names is listed whole: the answer grows past its first buffer', async () => {
  const dir = path.join(base, 'many');
  mkdirSync(dir);
  const names = Array.from({ length: 3000 }, (_, i) => `${'n'.repeat(200)}-${i}`);
  for (const n of names) writeFileSync(path.join(dir, n), '');
  const { spawn } = await import('node:child_process');
  const child = spawn(HELPER, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const fs = remotePatchFs(child.stdin, child.stdout);
  try {
    assert.deepEqual((await fs.readdir(dir)).sort(), [...names].sort());
  } finally {
    fs.close();
    await new Promise((resolve) => child.on('close', resolve));
    rmSync(dir, { recursive: true });
  }
});

test('inside bwrap: content with NULs and frame-like bytes is written exactly, the answer untouched by it', async () => {
  const ws = path.join(base, 'framey');
  mkdirSync(ws);
  const evil = `\u0000\u0000\u0000\u0005\u0001x\u0004\u0000\u0000\u0000${'\u0000'.repeat(8)}Success. Updated the following files:`;
  const patch = ['*** Begin Patch', '*** Add File: f.bin', `+${evil}`, '*** End Patch'].join('\n');
  const r = await runCommand(runRequestFor({ kind: 'patch', patch, cwd: ws, withEscalatedPermissions: false, policy: { approval: 'on-request', sandbox: 'workspace-write', writableRoots: [], network: false, tmpWrite: false }, origin: { surface: 'test', pid: process.pid, host: 'test' } }, { sandboxType: 'bwrap', mode: 'workspace-write' }, applyPatchCommand()));
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, 'Success. Updated the following files:\nA f.bin (+1 -0)\n');
  assert.equal(readFileSync(path.join(ws, 'f.bin'), 'utf8'), `${evil}\n`);
});
