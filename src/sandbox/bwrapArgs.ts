/**
 * The bubblewrap argv for a sandbox spec (Linux). Pure given an `FsProbe`: runCommand feeds it the real
 * file system, unit tests feed it tables. Mount order is the policy, since later mounts cover earlier
 * ones: `/` read-only, fresh `/dev` and `/proc`, then each writable root read-write, then every protected
 * path read-only on top.
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
import { dirname } from 'node:path';
import type { SandboxSpec } from './types.ts';
import { isWithin, planWritableRoots, type FsProbe, type ProtectedPath } from './writableRoots.ts';
import { planHides, type HidePlan } from './hiddenPaths.ts';

export interface BwrapInput {
  spec: SandboxSpec;
  cwd: string;
  command: string[];
  env: { TMPDIR?: string | undefined };
  probe: FsProbe;
  /** Pass `--info-fd N`: bwrap writes JSON there once the sandbox is set up (tells set-up failures apart). */
  infoFd?: number;
  /** `--seccomp N`: the fd the caller writes the seccomp filter to (seccomp.ts). */
  seccompFd?: number;
  /** An empty mode-000 file bound over hidden files; needed when spec.hidden names existing files. */
  decoy?: string;
  /** Paths bound read-only onto themselves after everything else (the domain proxy's socket directory). */
  readOnlyBinds?: string[];
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

/** Does I/O only through `probe`. */
export function buildBwrapArgs(input: BwrapInput): BwrapPlan {
  const { spec, cwd, command, probe } = input;
  if (command.length === 0) throw new TypeError('empty command');
  const plan = planWritableRoots(spec, cwd, input.env, probe);
  const allRoots = plan.roots.map((r) => r.root);
  // Missing entries of the shared temp roots are not masked (see the header).
  const entries: ProtectedPath[] = plan.roots.flatMap((r) =>
    r.temp ? r.protected.filter((e) => !(e.kind === 'missing' && e.why === 'name')) : r.protected,
  );
  const holders = (path: string, roots: string[]) => roots.filter((root) => isWithin(path, root));

  // First decide which roots cannot be protected and must stay read-only.
  const demoted = new Map<string, string>();
  for (const e of entries) {
    const inside = holders(e.path, allRoots);
    if (inside.length === 0) continue; // outside every writable root: already read-only
    let reason: string | null = null;
    if (e.kind === 'symlink') reason = `${e.path} is a symlink; it could be replaced, so this root stays read-only`;
    // A missing gitdir target whose parent is missing too cannot be masked in place.
    if (e.kind === 'missing' && probe.kind(dirname(e.path)) !== 'dir') {
      reason = `${e.path} is missing and cannot be masked, so this root stays read-only`;
    }
    if (reason !== null) for (const root of inside) if (!demoted.has(root)) demoted.set(root, reason);
  }
  const writable = allRoots.filter((r) => !demoted.has(r)).sort((a, b) => a.length - b.length);

  const args = [...baseBwrapArgs(spec.network)];
  for (const root of writable) args.push('--bind', root, root);

  const masks: string[] = [];
  const bound = new Set<string>();
  const roBind = (path: string) => {
    if (bound.has(path)) return;
    bound.add(path);
    args.push('--ro-bind', path, path);
  };
  for (const e of entries) {
    if (e.kind === 'symlink') {
      // The link's roots are read-only already; keep its target read-only wherever it lives.
      if (e.target !== undefined && holders(e.target, writable).length > 0) roBind(e.target);
      continue;
    }
    if (holders(e.path, writable).length === 0) continue;
    if (e.kind === 'missing') {
      if (bound.has(e.path)) continue;
      bound.add(e.path);
      masks.push(e.path);
      args.push('--ro-bind', '/dev/null', e.path);
    } else {
      roBind(e.path);
    }
  }

  const hides = planHides(spec.hidden ?? [], [cwd, ...writable], probe);
  if (hides.files.length > 0 && input.decoy === undefined) throw new TypeError('hidden files need a decoy file');
  for (const dir of hides.dirs) args.push('--perms', '0000', '--tmpfs', dir, '--remount-ro', dir);
  for (const file of hides.files) args.push('--ro-bind', input.decoy!, file);
  if (input.decoy !== undefined && hides.files.length > 0) {
    const decoyDir = dirname(input.decoy);
    args.push('--perms', '0000', '--tmpfs', decoyDir, '--remount-ro', decoyDir);
  }

  for (const path of input.readOnlyBinds ?? []) args.push('--ro-bind', path, path);
  if (input.infoFd !== undefined) args.push('--info-fd', String(input.infoFd));
  if (input.seccompFd !== undefined) args.push('--seccomp', String(input.seccompFd));
  args.push('--chdir', cwd, '--', ...command);
  return {
    args,
    writableRoots: writable,
    demoted: [...demoted].map(([root, reason]) => ({ root, reason })),
    masks,
    readOnly: [...bound].filter((p) => !masks.includes(p)),
    skipped: plan.skipped,
    hides,
  };
}
