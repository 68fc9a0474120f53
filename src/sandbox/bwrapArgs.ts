/**
 * The bubblewrap argv for a sandbox spec (Linux). Pure given an `FsProbe`: runCommand feeds it the real
 * file system, unit tests feed it tables. Mount order is the policy, since later mounts cover earlier
 * ones: `/` read-only, fresh `/dev` and `/proc`, then each writable root read-write (with the person's
 * home inside one re-bound read-only, and the directories above every inner mount pinned, outer
 * before inner: pinsFor, writableRoots.ts homeIslands), then every protected path read-only on top.
 *
 * Protected entries (see writableRoots.ts) inside a writable root:
 * - an existing dir or file is re-bound read-only onto itself (a mount point cannot be unlinked or
 *   renamed from inside, so it cannot be swapped either);
 * - a missing one is masked with a read-only bind of `/dev/null`, so it cannot be created
 *   (mkdir fails with EEXIST, `x/…` with ENOTDIR). bwrap creates the empty mount-point file on the host;
 *   runCommand removes it afterwards (`masks`). Not in /tmp and $TMPDIR: a transient empty /tmp/.git
 *   file would break git for every other process on the machine working below /tmp, so there only
 *   existing entries are protected;
 * - a symlink cannot be covered: a mount always lands on the link's target, and the link itself could
 *   be replaced by a real `.git` with hooks. The roots holding it are demoted to read-only (fail closed:
 *   writes there are denied and escalate to a person) and the target, when it resolves, is re-bound
 *   read-only.
 *
 * Hidden paths (hiddenPaths.ts) come last, in every mode, so nothing bound before can uncover them:
 * directories get `--perms 0000 --tmpfs P --remount-ro P`, files a read-only bind of the decoy (an
 * empty mode-000 file), and finally the decoy's own directory is hidden too, so a command cannot
 * reach the decoy through a writable /tmp and give it content.
 */
import { basename, dirname, join } from 'node:path';
import type { SandboxSpec } from './types.ts';
import { demotedRoots, homeIslands, isWithin, planWritableRoots, sandboxEntries, type FsProbe, type ProtectedPath, type RootsEnv } from './writableRoots.ts';
import { planHides, type HidePlan } from './hiddenPaths.ts';

export interface BwrapInput {
  spec: SandboxSpec;
  cwd: string;
  command: string[];
  env: RootsEnv;
  probe: FsProbe;
  /** Pass `--info-fd N`: bwrap writes JSON there once the sandbox is set up (tells set-up failures apart). */
  infoFd?: number;
  /** `--seccomp N`: the fd the caller writes the seccomp filter to (seccomp.ts). */
  seccompFd?: number;
  /** An empty mode-000 file bound over hidden files; needed when spec.hidden names existing files. */
  decoy?: string;
  /** The directory hidden so no command reaches the decoy: its own directory unless given (runCommand: every decoy's, decoy.ts decoyRoot). */
  decoyDir?: string;
  /** Paths bound read-only onto themselves after everything else (the domain proxy's socket directory). */
  readOnlyBinds?: string[];
  /**
   * The folder of every domain proxy's socket directories (src/network/socketRoot.ts): covered with
   * an empty tmpfs, in which only the `readOnlyBinds` inside it are bound.
   */
  socketRoot?: string;
  /**
   * Cover bwrap's PID 1's memory files (`/proc/1/mem`, `/proc/1/task/1/mem`) with /dev/null: behind
   * the domain proxy PID 1 carries the program that lets it make Unix sockets, and a command that
   * wrote its memory could make it connect to a host socket made after planning (red team). ptrace
   * and process_vm_writev are the command's seccomp program's (noTrace).
   */
  maskInitMemory?: boolean;
  /**
   * Bind every read-write directory (the roots and the pins) from an open fd, `--bind-fd N P` with N
   * from this number on, in `rwBinds` order; the caller opens them (runCommand openBindFds). Without
   * it, `--bind P P` (pure tests, the bench).
   */
  bindFdBase?: number;
  /**
   * Bind hidden files from fds of the decoy, not its path: one fd each, right after the read-write
   * binds' fds (`decoyFds` in the plan says how many). Needs `bindFdBase`.
   */
  decoyFds?: boolean;
  /**
   * Files bound read-only over these paths from fds the caller opens, one each, right after the
   * decoy fds (`coverFds` in the plan says how many): git's config files without their credentials
   * (gitCredentials.ts). Needs `bindFdBase`; a path inside a hidden one is left to its mask.
   */
  covers?: string[];
  /**
   * The program cannot make a socket of any kind (the patch helper: its own seccomp filter fails
   * socket and socketpair before it reads a request): with the network off it needs no empty
   * network namespace, whose set-up and teardown cost every run ~1 ms of kernel work. Nothing
   * else changes: the same masks, the same seccomp program.
   */
  opensNoSockets?: boolean;
}

export interface BwrapPlan {
  /** argv after the bwrap executable. */
  args: string[];
  /** Writable roots actually bound read-write (canonical). */
  writableRoots: string[];
  /** Roots left read-only, and why. */
  demoted: Array<{ root: string; reason: string }>;
  /** Missing protected paths masked with /dev/null; bwrap creates these on the host as mount points. */
  masks: string[];
  /** Existing protected paths re-bound read-only onto themselves. */
  readOnly: string[];
  /** The person's home-like directories inside writable roots, re-bound read-only (homeIslands). */
  islands: string[];
  /** Directories bound onto themselves so they cannot be renamed (pinsFor). */
  pins: string[];
  /** Missing `.git` at a temp root's top, masked with an empty read-only directory (left on the host). */
  tempGitDirs: string[];
  /** The read-write directories in bind order; with `bindFdBase`, bound from fds base, base+1, ... */
  rwBinds: string[];
  /** How many fds of the decoy the command needs after the read-write binds' fds (input `decoyFds`). */
  decoyFds: number;
  /** The `covers` bound, in the order of their fds after the decoy fds. */
  covered: string[];
  /** Requested roots that do not exist. */
  skipped: string[];
  /** Hidden paths masked for this run (canonical), and those that could not be. */
  hides: HidePlan;
}

/** Namespace and privilege flags shared by every sandboxed run (and by the availability probe). */
export function baseBwrapArgs(network: boolean): string[] {
  return [
    '--new-session', // no TIOCSTI into the caller's terminal
    '--die-with-parent', // if warden dies, the sandbox dies
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    ...(network ? [] : ['--unshare-net']),
    // As root without a user namespace bwrap would keep every capability: a sandboxed `mount -o
    // remount,rw` would undo the policy. Drop them all (bwrap also sets no_new_privs).
    '--cap-drop',
    'ALL',
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
  ];
}

/**
 * A bare run's containment (danger-full-access, an approved run without the sandbox): its own pid
 * namespace and nothing else. The whole file system stays as it is (`--dev-bind / /`, the network and
 * every capability warden has); only `/proc` is the namespace's own so `ps` and `kill` agree with it.
 * What it buys: when the command (or bwrap) ends, or warden dies (`--die-with-parent`), the kernel kills
 * every process left in the namespace, including a `setsid` double-forked daemon that a process-group
 * kill misses. What it costs, by design: the command cannot signal processes outside its run, and
 * bwrap's no_new_privs means setuid programs (sudo) do not gain privileges.
 */
export function bareBwrapArgs(cwd: string, command: string[], infoFd?: number): string[] {
  if (command.length === 0) throw new TypeError('empty command');
  return [
    '--die-with-parent',
    '--unshare-pid',
    '--dev-bind',
    '/',
    '/',
    '--proc',
    '/proc',
    ...(infoFd === undefined ? [] : ['--info-fd', String(infoFd)]),
    '--chdir',
    cwd,
    '--',
    ...command,
  ];
}

/** Does I/O only through `probe`. */
export function buildBwrapArgs(input: BwrapInput): BwrapPlan {
  const { spec, cwd, command, probe } = input;
  if (command.length === 0) throw new TypeError('empty command');
  const plan = planWritableRoots(spec, cwd, input.env, probe);
  const allRoots = plan.roots.map((r) => r.root);
  // Missing entries of the shared temp roots are not masked (see the header).
  const entries: ProtectedPath[] = sandboxEntries(plan);

  // First decide which roots cannot be protected and must stay read-only (the shared model).
  const demoted = demotedRoots(plan, probe);
  const writable = allRoots.filter((r) => !demoted.has(r)).sort((a, b) => a.length - b.length);
  // The person's home inside a writable root is read-only as a whole (writableRoots.ts withHomes).
  const islands = homeIslands(plan, demoted);
  /**
   * Whether `path` is writable once the roots and homes are bound: the innermost of them holding it
   * is a root. Inside a read-only home nothing needs masking (and a mask's mount point could not be
   * made there).
   */
  const bindLayers = [...writable.map((path) => ({ path, rw: true })), ...islands.map((path) => ({ path, rw: false }))];
  const writableAt = (path: string) => innermostLayer(path, bindLayers, false)?.rw === true;

  const args = [...baseBwrapArgs(spec.network || input.opensNoSockets === true)];
  if (input.maskInitMemory === true) args.push('--ro-bind', '/dev/null', '/proc/1/mem', '--ro-bind', '/dev/null', '/proc/1/task/1/mem');
  // Everything mounted inside the writable roots, in order, after the roots themselves.
  const inner: string[] = [];
  /** Directories mounted read-only or hidden (a rename below them fails with EROFS already). */
  const sealed: string[] = [...islands];

  const masks: string[] = [];
  const bound = new Set<string>();
  const roBind = (path: string) => {
    if (bound.has(path)) return;
    bound.add(path);
    inner.push('--ro-bind', path, path);
    if (probe.kind(path) === 'dir') sealed.push(path);
  };
  const targets: string[] = [];
  for (const e of entries) {
    if (e.kind === 'symlink') {
      // The link's roots are read-only already; keep its target read-only wherever it lives.
      if (e.target !== undefined && writableAt(e.target)) {
        roBind(e.target);
        targets.push(e.target);
      }
      continue;
    }
    if (!writableAt(e.path)) continue;
    targets.push(e.path);
    if (e.kind === 'missing') {
      if (bound.has(e.path)) continue;
      bound.add(e.path);
      masks.push(e.path);
      inner.push('--ro-bind', '/dev/null', e.path);
    } else {
      roBind(e.path);
    }
  }

  // A missing `.git` at the top of a shared temp root (/tmp, $TMPDIR) is masked with an empty
  // read-only directory. Red team (issue #13): a sandboxed `git init --bare /tmp/.git` plus
  // `core.fsmonitor = <cmd>` ran <cmd> on the host at the person's next `git status` in any directory
  // below /tmp that is not a repository (a shell prompt runs one on every cd), since git's discovery
  // walks up to /tmp/.git. An empty directory is what git's discovery skips (no HEAD: not a
  // repository, it goes on upwards), unlike an empty file ("invalid gitfile format"), so the mount
  // point bwrap leaves on the host breaks nothing and is left in place: removing it after the run
  // would lift the mask of a concurrent run in another warden process, and once there it is an
  // existing entry, re-bound read-only by every later run.
  // The same for a missing `.git` in a directory above the workspace (or another root) inside a
  // temp root (writableRoots.ts withAbove): git's discovery from the workspace reaches it.
  const tempGitDirs: string[] = [];
  for (const r of plan.roots) {
    if (!r.temp) continue;
    const above = r.protected.filter((e) => e.why === 'above' && e.kind === 'missing' && basename(e.path) === '.git').map((e) => e.path);
    for (const git of [join(r.root, '.git'), ...above]) {
      if (!writableAt(git) || bound.has(git) || probe.kind(git) !== 'missing') continue;
      bound.add(git);
      tempGitDirs.push(git);
      inner.push('--tmpfs', git, '--remount-ro', git);
      // pinned like any mount inside a root, so the directory holding it cannot be renamed away
      if (git !== join(r.root, '.git')) targets.push(git);
    }
  }
  const hides = planHides(spec.hidden ?? [], [cwd, ...writable], probe);
  // Before the hides, after the read-only binds of the .git directories they lie in.
  const coverSlots: number[] = [];
  const covered: string[] = [];
  for (const path of input.covers ?? []) {
    if ([...hides.dirs, ...hides.files].some((h) => isWithin(path, h))) continue;
    inner.push('--ro-bind-fd', '', path);
    coverSlots.push(inner.length - 2);
    covered.push(path);
  }
  if (hides.files.length > 0 && input.decoy === undefined) throw new TypeError('hidden files need a decoy file');
  for (const dir of hides.dirs) inner.push('--perms', '0000', '--tmpfs', dir, '--remount-ro', dir);
  // With `decoyFdBase` each hidden file is bound from its own fd of the decoy (bwrap closes an fd
  // once it has bound it), numbered after the read-write binds once their count is known below.
  const decoySlots: number[] = [];
  for (const file of hides.files) {
    if (input.decoyFds === true) {
      inner.push('--ro-bind-fd', '', file);
      decoySlots.push(inner.length - 2);
    } else {
      inner.push('--ro-bind', input.decoy!, file);
    }
  }
  sealed.push(...hides.dirs);
  targets.push(...hides.dirs, ...hides.files);
  // A missing rollback journal of a hidden file (the store's `-journal`) inside a writable root is
  // masked so it cannot be created: SQLite plays a planted "hot" journal back into the store on the
  // next open and truncates it (red team, issue #13). The empty mount point bwrap leaves on the host
  // is no hot journal, and runCommand removes it after the run.
  for (const file of hides.files) {
    const journal = `${file}-journal`;
    if (!(spec.hidden ?? []).includes(journal) || bound.has(journal) || probe.kind(journal) !== 'missing') continue;
    if (!writableAt(journal)) continue;
    bound.add(journal);
    masks.push(journal);
    targets.push(journal);
    inner.push('--ro-bind', '/dev/null', journal);
  }
  // A given decoyDir holds other processes' decoys too: hidden even when this run binds none.
  if (input.decoy !== undefined && (hides.files.length > 0 || input.decoyDir !== undefined)) {
    const decoyDir = input.decoyDir ?? dirname(input.decoy);
    inner.push('--perms', '0000', '--tmpfs', decoyDir, '--remount-ro', decoyDir);
    targets.push(decoyDir);
  }
  targets.push(...writable, ...islands, ...(input.readOnlyBinds ?? []));

  // The roots (read-write), the homes in them (read-only) and the pins, outer before inner.
  const pins = pinsFor(targets, writable, sealed);
  const layers = [
    ...writable.map((path) => ({ path, flag: '--bind' })),
    ...islands.map((path) => ({ path, flag: '--ro-bind' })),
    ...pins.map((path) => ({ path, flag: '--bind' })),
  ].sort((a, b) => a.path.length - b.path.length);
  // Read-write binds come from fds when the caller opens them. Red team (issue #13): a bind by path
  // is resolved when bwrap mounts it, and a sandboxed command running at the same time (the agent
  // runs several) could turn a directory planned as writable into a symlink to ~ in between; the
  // new sandbox would then bind the home read-write. An fd opened and checked after planning binds
  // the directory that was planned, whatever the path says by then.
  const rwBinds: string[] = [];
  for (const { path, flag } of layers) {
    if (flag === '--bind' && input.bindFdBase !== undefined) {
      args.push('--bind-fd', String(input.bindFdBase + rwBinds.length), path);
      rwBinds.push(path);
    } else {
      if (flag === '--bind') rwBinds.push(path);
      args.push(flag, path, path);
    }
  }
  for (const [i, slot] of decoySlots.entries()) inner[slot] = String((input.bindFdBase ?? 0) + rwBinds.length + i);
  for (const [i, slot] of coverSlots.entries()) inner[slot] = String((input.bindFdBase ?? 0) + rwBinds.length + decoySlots.length + i);
  args.push(...inner);

  const socketRoot = input.socketRoot;
  const inRoot = (path: string) => socketRoot !== undefined && isWithin(path, socketRoot) && path !== socketRoot;
  for (const path of input.readOnlyBinds ?? []) if (!inRoot(path)) args.push('--ro-bind', path, path);
  if (socketRoot !== undefined) {
    // Other runs' sockets are out of sight (and out of reach to replace); the run's own is bound in.
    args.push('--tmpfs', socketRoot);
    for (const path of input.readOnlyBinds ?? []) if (inRoot(path)) args.push('--ro-bind', path, path);
    args.push('--remount-ro', socketRoot);
  }
  if (input.infoFd !== undefined) args.push('--info-fd', String(input.infoFd));
  if (input.seccompFd !== undefined) args.push('--seccomp', String(input.seccompFd));
  args.push('--chdir', cwd, '--', ...command);
  return {
    args,
    writableRoots: writable,
    demoted: [...demoted].map(([root, reason]) => ({ root, reason })),
    masks,
    readOnly: [...bound].filter((p) => !masks.includes(p) && !tempGitDirs.includes(p)),
    islands,
    pins,
    tempGitDirs,
    rwBinds,
    decoyFds: decoySlots.length,
    covered,
    skipped: plan.skipped,
    hides,
  };
}

/**
 * The directories to "pin": every directory between a writable root and something mounted inside
 * it (an inner root, a home, a protected entry, a mask, a hidden path), bound read-write onto itself
 * so it is a mount point. Red team (issue #13): a mount point cannot be renamed, but the directory
 * above it can, and the mounts move along with it. `mv sub sub2` (sub holding a read-only `.git`),
 * then `mkdir -p sub/.git` and a `config` with `core.fsmonitor` planted a repository the person's
 * next `git status` in sub runs; `mv /tmp/a /tmp/b` with the workspace in /tmp/a/ws moved it away and
 * let a fresh /tmp/a/ws/.git/hooks be made, and the same moved a store in /tmp/a away from its path.
 * With each such directory a mount point, rename fails with EBUSY all the way up to the root (itself
 * a mount point). Nothing changes for writes: each pin is read-write where it already was. Inside a
 * read-only or hidden directory (`sealed`) nothing can be renamed anyway, so no pins are needed
 * below one. Pure.
 */
export function pinsFor(targets: readonly string[], writable: readonly string[], sealed: readonly string[]): string[] {
  const pins = new Set<string>();
  const layers = [...writable.map((path) => ({ path, rw: true })), ...sealed.map((path) => ({ path, rw: false }))];
  for (const target of targets) {
    // the innermost root or sealed directory strictly holding the target
    const holder = innermostLayer(target, layers, true);
    if (holder === null || !holder.rw) continue;
    for (let at = dirname(target); at !== holder.path && at.length > holder.path.length; at = dirname(at)) pins.add(at);
  }
  return [...pins].sort((a, b) => a.length - b.length);
}

/**
 * The innermost of `layers` (read-write roots, read-only homes or sealed directories) holding `path`,
 * `path` itself included unless `strict`; on equal depth the earlier layer wins. Pure.
 */
function innermostLayer<L extends { path: string }>(path: string, layers: readonly L[], strict: boolean): L | null {
  let holder: L | null = null;
  for (const l of layers) {
    if ((strict && l.path === path) || !isWithin(path, l.path)) continue;
    if (holder === null || l.path.length > holder.path.length) holder = l;
  }
  return holder;
}
