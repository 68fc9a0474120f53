/**
 * The seccomp-BPF filter every bwrap run gets, handed to bwrap with `--seccomp FD`. Pure (returns bytes).
 *
 * Why, on top of the network namespace: a fresh network namespace cuts TCP/UDP and abstract Unix
 * sockets, but a Unix socket that lives on the file system stays connectable through the read-only
 * bind of `/`, and several of those are escapes: the systemd user bus (`systemd-run --user` runs
 * anything outside the sandbox), docker.sock, an X11 display (keystrokes into the user's terminal),
 * ssh-agent. With `--network` there is no network namespace at all, so abstract sockets are reachable
 * too. Three shapes, by what the run may do:
 * - network off, no allowed sockets (as Codex): `connect` fails with EPERM, `socket` only makes AF_UNIX
 *   sockets (pairs and listeners still work);
 * - network on, no allowed sockets: `socket(AF_UNIX)` fails with EPERM, so no Unix socket of the host
 *   can be reached, pathname or abstract; TCP/UDP work;
 * - some sockets allowed (`--allow-unix-socket`): AF_UNIX sockets may be made and connected; the
 *   others are masked on the file system instead (bwrapArgs.ts, from /proc/net/unix). seccomp cannot
 *   see a connect's path, so this is the only shape that can tell sockets apart. With the network on
 *   abstract sockets of the host stay reachable in this shape (docs/security.md says so). Behind the
 *   domain proxy bwrap installs this shape on the whole sandbox and the relay adds the network-on
 *   one on the command (runCommand.ts outerSeccomp).
 * Always: io_uring is refused because its operations bypass seccomp, and a process of another
 * architecture (x86 `int 0x80`, x32) could dodge syscall numbers, so it is killed. A new user
 * namespace is refused too (`unshare`/`clone` with CLONE_NEWUSER get EPERM; `clone3`, whose flags
 * seccomp cannot read, gets ENOSYS so libc falls back to `clone`, as Docker's profile does): inside
 * one, a command could mount its own /proc and fake the process ancestry that `warden approve`
 * checks before it accepts a decision, or reach kernel surface only namespace root can.
 * And the kernel keyrings are refused (`add_key`, `request_key`, `keyctl` get EPERM, as in Docker's
 * profile): they are not namespaced, so the person's user keyring, with Kerberos' KEYRING: caches and
 * whatever else keeps secrets there, read the same from inside as outside (red team: a sandboxed
 * KEYCTL_SEARCH + KEYCTL_READ printed a key the host had added to @u).
 */

export interface SeccompOptions {
  network: boolean;
  /** True when some Unix sockets are allowed by path (then the file system does the filtering). */
  unixByPath: boolean;
  /**
   * Refuse reaching into another process (ptrace, process_vm_readv/writev, pidfd_getfd: EPERM): the
   * command's own program behind the domain proxy, so it cannot drive bwrap's PID 1, whose looser
   * program lets it make Unix sockets (runCommand.ts; PID 1's /proc mem is masked by bwrapArgs.ts).
   */
  noTrace?: boolean;
}

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
const CLONE_NEWUSER = 0x10000000;
const AF_UNIX = 1;
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0_LO = 16; // little-endian low half of args[0]

interface ArchTable {
  audit: number;
  socket: number;
  connect: number;
  clone: number;
  unshare: number;
  /** add_key, request_key, keyctl. */
  keyring: readonly number[];
  /** Syscall numbers at or above this are another ABI (x32); none on arm64. */
  abiLimit: number | null;
  /** ptrace, process_vm_readv, process_vm_writev. */
  trace: readonly number[];
}

const ARCHES: Partial<Record<NodeJS.Architecture, ArchTable>> = {
  x64: { audit: 0xc000003e, socket: 41, connect: 42, clone: 56, unshare: 272, keyring: [248, 249, 250], abiLimit: 0x40000000, trace: [101, 310, 311] },
  arm64: { audit: 0xc00000b7, socket: 198, connect: 203, clone: 220, unshare: 97, keyring: [217, 218, 219], abiLimit: null, trace: [117, 270, 271] },
};
const CLONE3 = 435; // same number on every architecture
const IO_URING = [425, 426, 427]; // setup, enter, register: same number on every architecture
const PIDFD_GETFD = 438; // same number on every architecture

type Insn = [code: number, jt: number, jf: number, k: number];

/** The network-off filter for `arch` (no allowed sockets), or null when warden has no syscall table for it. */
export function networkSeccompFilter(arch: NodeJS.Architecture = process.arch): Buffer | null {
  return sandboxSeccompFilter({ network: false, unixByPath: false }, arch);
}

const built = new Map<string, Buffer | null>();

/**
 * The filter for a run's shape on `arch`, or null when warden has no syscall table for it. Built once
 * per shape in a process (the start-up's bwrap probe and its first run need the same one); each
 * caller gets its own copy.
 */
export function sandboxSeccompFilter(options: SeccompOptions, arch: NodeJS.Architecture = process.arch): Buffer | null {
  const key = `${arch}:${options.network}:${options.unixByPath}:${options.noTrace === true}`;
  if (!built.has(key)) built.set(key, buildFilter(options, arch));
  const filter = built.get(key)!;
  return filter === null ? null : Buffer.from(filter);
}

function buildFilter(options: SeccompOptions, arch: NodeJS.Architecture): Buffer | null {
  const t = ARCHES[arch];
  if (t === undefined) return null;
  // Labels are resolved to relative jumps below.
  type Jump = [code: number, k: number, onTrue: string, onFalse: string];
  // What socket(domain) does with the domain in the accumulator: the one rule that differs by shape.
  const socketRule: Array<Insn | Jump | string> = options.network
    ? options.unixByPath
      ? []
      : [[BPF_JEQ_K, t.socket, 'socket', 'allow'], 'socket', [BPF_LD_W_ABS, 0, 0, OFF_ARG0_LO], [BPF_JEQ_K, AF_UNIX, 'eperm', 'allow']]
    : [[BPF_JEQ_K, t.socket, 'socket', 'allow'], 'socket', [BPF_LD_W_ABS, 0, 0, OFF_ARG0_LO], [BPF_JEQ_K, AF_UNIX, 'allow', 'eperm']];
  const blockConnect = !options.network && !options.unixByPath;
  const prog: Array<Insn | Jump | string> = [
    [BPF_LD_W_ABS, 0, 0, OFF_ARCH],
    [BPF_JEQ_K, t.audit, 'native', 'kill'],
    'native',
    [BPF_LD_W_ABS, 0, 0, OFF_NR],
    ...(t.abiLimit === null ? [] : [[BPF_JGE_K, t.abiLimit, 'kill', 'next0'] as Jump, 'next0']),
    ...(blockConnect ? [[BPF_JEQ_K, t.connect, 'eperm', 'next1'] as Jump, 'next1'] : []),
    ...IO_URING.flatMap((nr, i) => [[BPF_JEQ_K, nr, 'eperm', `uring${i}`] as Jump, `uring${i}`]),
    ...t.keyring.flatMap((nr, i) => [[BPF_JEQ_K, nr, 'eperm', `key${i}`] as Jump, `key${i}`]),
    ...(options.noTrace === true ? [...t.trace, PIDFD_GETFD] : []).flatMap((nr, i) => [[BPF_JEQ_K, nr, 'eperm', `trace${i}`] as Jump, `trace${i}`]),
    [BPF_JEQ_K, CLONE3, 'enosys', 'notClone3'],
    'notClone3',
    // clone(flags, ...) and unshare(flags): flags is args[0] on both architectures
    [BPF_JEQ_K, t.clone, 'nsFlags', 'notClone'],
    'notClone',
    [BPF_JEQ_K, t.unshare, 'nsFlags', 'notNs'],
    'nsFlags',
    [BPF_LD_W_ABS, 0, 0, OFF_ARG0_LO],
    [BPF_JSET_K, CLONE_NEWUSER, 'eperm', 'allow'],
    'notNs',
    ...socketRule,
    'allow',
    [BPF_RET_K, 0, 0, RET_ALLOW],
    'eperm',
    [BPF_RET_K, 0, 0, RET_ERRNO | EPERM],
    'enosys',
    [BPF_RET_K, 0, 0, RET_ERRNO | ENOSYS],
    'kill',
    [BPF_RET_K, 0, 0, RET_KILL_PROCESS],
  ];
  const labels = new Map<string, number>();
  const insns: Array<Insn | Jump> = [];
  for (const item of prog) {
    if (typeof item === 'string') labels.set(item, insns.length);
    else insns.push(item);
  }
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, i) => {
    let code: number, jt: number, jf: number, k: number;
    if (insn.length === 4 && typeof insn[2] === 'string') {
      const [c, kk, onTrue, onFalse] = insn as Jump;
      const rel = (label: string) => {
        const at = labels.get(label);
        if (at === undefined || at <= i || at - i - 1 > 255) throw new Error(`bad seccomp label ${label}`);
        return at - i - 1;
      };
      [code, jt, jf, k] = [c, rel(onTrue), rel(onFalse), kk];
    } else {
      [code, jt, jf, k] = insn as Insn;
    }
    out.writeUInt16LE(code, i * 8);
    out.writeUInt8(jt, i * 8 + 2);
    out.writeUInt8(jf, i * 8 + 3);
    out.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return out;
}
