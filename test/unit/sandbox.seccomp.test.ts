/**
 * The network seccomp filter, run through a small classic-BPF interpreter: which syscalls it allows,
 * refuses with EPERM, or kills. The kernel's view is in test/e2e/sandbox.bwrap.e2e.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkSeccompFilter, sandboxSeccompFilter } from '../../src/sandbox/seccomp.ts';

/** Runs a seccomp program on (arch, nr, arg0); returns the action word. */
function evaluate(prog: Buffer, arch: number, nr: number, arg0: number): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  data.writeUInt32LE(arg0, 16);
  let acc = 0;
  for (let pc = 0; pc < prog.length / 8; ) {
    const code = prog.readUInt16LE(pc * 8);
    const jt = prog.readUInt8(pc * 8 + 2);
    const jf = prog.readUInt8(pc * 8 + 3);
    const k = prog.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) acc = data.readUInt32LE(k), pc++;
    else if (code === 0x15) pc += 1 + (acc === k ? jt : jf);
    else if (code === 0x35) pc += 1 + (acc >= k ? jt : jf);
    else if (code === 0x45) pc += 1 + ((acc & k) !== 0 ? jt : jf);
    else if (code === 0x06) return k;
    else throw new Error(`unknown opcode ${code}`);
  }
  throw new Error('fell off the end');
}

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const KILL = 0x80000000;
const X64 = 0xc000003e;
const ARM64 = 0xc00000b7;

test('x64: connect refused, socket only AF_UNIX, io_uring refused, everything else allowed', () => {
  const p = networkSeccompFilter('x64')!;
  assert.equal(evaluate(p, X64, 42, 0), EPERM); // connect
  assert.equal(evaluate(p, X64, 41, 1), ALLOW); // socket(AF_UNIX)
  assert.equal(evaluate(p, X64, 41, 2), EPERM); // socket(AF_INET)
  assert.equal(evaluate(p, X64, 41, 10), EPERM); // socket(AF_INET6)
  assert.equal(evaluate(p, X64, 53, 1), ALLOW); // socketpair
  for (const nr of [425, 426, 427]) assert.equal(evaluate(p, X64, nr, 0), EPERM);
  for (const nr of [0, 1, 2, 59, 60, 231]) assert.equal(evaluate(p, X64, nr, 0), ALLOW); // read write open execve exit
});

test('x64: the x32 ABI and i386 are killed, not numbered around', () => {
  const p = networkSeccompFilter('x64')!;
  assert.equal(evaluate(p, X64, 0x40000000 + 42, 0), KILL);
  assert.equal(evaluate(p, 0x40000003, 102, 0), KILL); // i386 socketcall
});

test('arm64: its own numbers', () => {
  const p = networkSeccompFilter('arm64')!;
  assert.equal(evaluate(p, ARM64, 203, 0), EPERM); // connect
  assert.equal(evaluate(p, ARM64, 198, 2), EPERM); // socket(AF_INET)
  assert.equal(evaluate(p, ARM64, 198, 1), ALLOW);
  assert.equal(evaluate(p, ARM64, 42, 0), ALLOW); // 42 is not connect here
  assert.equal(evaluate(p, X64, 42, 0), KILL);
});

test('an architecture without a table gets no filter', () => {
  assert.equal(networkSeccompFilter('ppc64'), null);
});

test('network on: socket(AF_UNIX) refused, inet sockets and connect allowed (issue #13: docker.sock, the session bus)', () => {
  const p = sandboxSeccompFilter({ network: true, unixByPath: false }, 'x64')!;
  assert.equal(evaluate(p, X64, 41, 1), EPERM); // socket(AF_UNIX)
  assert.equal(evaluate(p, X64, 41, 2), ALLOW); // socket(AF_INET)
  assert.equal(evaluate(p, X64, 41, 10), ALLOW); // socket(AF_INET6)
  assert.equal(evaluate(p, X64, 42, 0), ALLOW); // connect
  assert.equal(evaluate(p, X64, 53, 1), ALLOW); // socketpair: no host socket involved
  for (const nr of [425, 426, 427]) assert.equal(evaluate(p, X64, nr, 0), EPERM);
  assert.equal(evaluate(p, 0x40000003, 102, 0), KILL);
  const arm = sandboxSeccompFilter({ network: true, unixByPath: false }, 'arm64')!;
  assert.equal(evaluate(arm, ARM64, 198, 1), EPERM);
  assert.equal(evaluate(arm, ARM64, 198, 2), ALLOW);
});

test('sockets allowed by path: AF_UNIX and connect allowed (the file system masks the rest); network off keeps inet refused', () => {
  const on = sandboxSeccompFilter({ network: true, unixByPath: true }, 'x64')!;
  assert.equal(evaluate(on, X64, 41, 1), ALLOW);
  assert.equal(evaluate(on, X64, 42, 0), ALLOW);
  assert.equal(evaluate(on, X64, 425, 0), EPERM);
  const off = sandboxSeccompFilter({ network: false, unixByPath: true }, 'x64')!;
  assert.equal(evaluate(off, X64, 41, 1), ALLOW);
  assert.equal(evaluate(off, X64, 41, 2), EPERM);
  assert.equal(evaluate(off, X64, 42, 0), ALLOW);
  assert.equal(evaluate(off, X64, 0x40000000 + 42, 0), KILL);
});

const ENOSYS = 0x00050026;
const CLONE_NEWUSER = 0x10000000;
const CLONE_THREAD_FLAGS = 0x003d0f00; // what pthread_create passes: VM, FS, FILES, SIGHAND, THREAD, SYSVSEM, SETTLS, ...

test('the kernel keyrings are refused in every shape (not namespaced: the person\'s user keyring)', () => {
  for (const options of [{ network: false, unixByPath: false }, { network: true, unixByPath: false }, { network: true, unixByPath: true }]) {
    for (const [arch, audit, keyring] of [['x64', X64, [248, 249, 250]], ['arm64', ARM64, [217, 218, 219]]] as const) {
      const p = sandboxSeccompFilter(options, arch)!;
      for (const nr of keyring) assert.equal(evaluate(p, audit, nr, 0), EPERM, `${arch} ${nr} ${JSON.stringify(options)}`);
    }
  }
});

test('no new user namespace in any shape: unshare/clone with CLONE_NEWUSER refused, clone3 sent back to clone', () => {
  for (const options of [{ network: false, unixByPath: false }, { network: true, unixByPath: false }, { network: true, unixByPath: true }]) {
    for (const [arch, audit, clone, unshare] of [['x64', X64, 56, 272], ['arm64', ARM64, 220, 97]] as const) {
      const p = sandboxSeccompFilter(options, arch)!;
      const at = `${arch} ${JSON.stringify(options)}`;
      assert.equal(evaluate(p, audit, unshare, CLONE_NEWUSER), EPERM, `unshare -U: ${at}`);
      assert.equal(evaluate(p, audit, unshare, CLONE_NEWUSER | 0x00020000), EPERM, `unshare -Um: ${at}`);
      assert.equal(evaluate(p, audit, clone, CLONE_NEWUSER | 0x11), EPERM, `clone(NEWUSER): ${at}`);
      assert.equal(evaluate(p, audit, 435, 0), ENOSYS, `clone3: ${at}`);
      // threads and forks still work, and so do other namespaces' flags (bwrap made them already)
      assert.equal(evaluate(p, audit, clone, CLONE_THREAD_FLAGS), ALLOW, `pthread clone: ${at}`);
      assert.equal(evaluate(p, audit, clone, 0x11), ALLOW, `fork-like clone(SIGCHLD): ${at}`);
      assert.equal(evaluate(p, audit, unshare, 0x00020000), ALLOW, `unshare -m: ${at}`);
    }
  }
});

