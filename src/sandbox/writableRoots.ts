/**
 * Which directories a workspace-write run may write, and which paths inside them stay read-only.
 * Shared by the bubblewrap argv builder and the Seatbelt profile generator, so both platforms agree on
 * the policy. Pure given an `FsProbe` (the real one, `nodeFsProbe`, does synchronous reads only).
 *
 * Why protect `.git` and `.warden`: a write to `.git/hooks/*`, `.git/config` or `.warden/…` would run
 * code or change warden's own rules on the user's next unsandboxed action. They are protected even
 * when missing, since creating a fresh `.git` with hooks (or a `.warden`) is the same escalation.
 */
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, basename, isAbsolute, join, resolve } from 'node:path';
import type { SandboxSpec } from './types.ts';

/** Names re-bound read-only inside every writable root. */
export const PROTECTED_NAMES = ['.git', '.warden'] as const;

export type PathKind = 'dir' | 'file' | 'symlink' | 'missing';

/** The few file-system questions the planner asks; a table-driven fake stands in for it in tests. */
export interface FsProbe {
  /** lstat: what is at `path` itself, without following a final symlink. */
  kind(path: string): PathKind;
  /** Fully resolved path, or null when it does not resolve (missing, dangling link, loop). */
  realpath(path: string): string | null;
  /** Contents of a small regular file, or null. */
  readText(path: string): string | null;
}

export const nodeFsProbe: FsProbe = {
  kind(path) {
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) return 'symlink';
      if (st.isDirectory()) return 'dir';
      return 'file'; // regular files, sockets, fifos, devices: all bind the same way
    } catch {
      return 'missing';
    }
  },
  realpath(path) {
    try {
      return realpathSync(path);
    } catch {
      return null;
    }
  },
  readText(path) {
    try {
      return readFileSync(path, 'utf8').slice(0, 4096);
    } catch {
      return null;
    }
  },
};

export interface ProtectedPath {
  /** Canonical path (its parent resolved) of the protected entry. */
  path: string;
  kind: PathKind;
  /** For a symlink: where it resolves to, when it does. */
  target?: string;
  /** Why this path is protected, for messages and tests. */
  why: 'name' | 'gitdir';
}

export interface WritableRoot {
  /** Canonical (realpath) directory. */
  root: string;
  protected: ProtectedPath[];
  /** /tmp or $TMPDIR (and not also cwd or a configured root): shared with the rest of the machine. */
  temp: boolean;
}

export interface RootsPlan {
  roots: WritableRoot[];
  /** Requested roots that do not exist (nothing to bind, so they stay read-only). */
  skipped: string[];
}

/** Parse a `.git` file ("gitdir: ../x/.git/worktrees/y") into an absolute path, or null. */
export function parseGitdirPointer(text: string, gitFileDir: string): string | null {
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(text);
  if (!m || !m[1]) return null;
  return isAbsolute(m[1]) ? resolve(m[1]) : resolve(gitFileDir, m[1]);
}

/** Canonical form of a path that may not exist: realpath of the deepest existing ancestor + the rest. */
export function canonicalize(path: string, probe: FsProbe): string {
  const whole = probe.realpath(path);
  if (whole !== null) return whole;
  const parent = dirname(path);
  if (parent === path) return path;
  return join(canonicalize(parent, probe), basename(path));
}

function describe(path: string, why: ProtectedPath['why'], probe: FsProbe): ProtectedPath {
  const kind = probe.kind(path);
  if (kind === 'symlink') {
    const target = probe.realpath(path);
    return target === null ? { path, kind, why } : { path, kind, target, why };
  }
  return { path, kind, why };
}

/**
 * The writable roots of a spec: cwd, spec.writableRoots (relative ones against cwd), then /tmp and
 * $TMPDIR unless `tmpWrite` is off; each canonicalised (a root that is a symlink binds its real target),
 * de-duplicated, with its protected entries. Empty for any mode but workspace-write.
 */
export function planWritableRoots(
  spec: SandboxSpec,
  cwd: string,
  env: { TMPDIR?: string | undefined },
  probe: FsProbe,
): RootsPlan {
  if (spec.mode !== 'workspace-write') return { roots: [], skipped: [] };
  const requested = [cwd, ...spec.writableRoots.map((r) => resolve(cwd, r))].map((path) => ({ path, temp: false }));
  if (spec.tmpWrite) {
    requested.push({ path: '/tmp', temp: true });
    if (env.TMPDIR) requested.push({ path: resolve(env.TMPDIR), temp: true });
  }
  const seen = new Set<string>();
  const roots: WritableRoot[] = [];
  const skipped: string[] = [];
  for (const { path: want, temp } of requested) {
    const root = probe.realpath(want);
    if (root === null || probe.kind(root) !== 'dir') {
      if (want !== '/tmp' && !skipped.includes(want)) skipped.push(want); // no /tmp is normal on some hosts
      continue;
    }
    if (seen.has(root)) continue;
    seen.add(root);
    const prot: ProtectedPath[] = [];
    for (const name of PROTECTED_NAMES) {
      const entry = describe(join(root, name), 'name', probe);
      prot.push(entry);
      // A `.git` FILE points at the real git dir (worktrees, submodules): protect that too.
      if (name === '.git' && entry.kind === 'file') {
        const text = probe.readText(entry.path);
        const pointer = text === null ? null : parseGitdirPointer(text, root);
        if (pointer !== null) prot.push(describe(canonicalize(pointer, probe), 'gitdir', probe));
      }
    }
    roots.push({ root, protected: prot, temp });
  }
  return { roots, skipped };
}

/** True when `path` is `dir` or lies below it (both canonical). */
export function isWithin(path: string, dir: string): boolean {
  if (dir === '/') return path.startsWith('/');
  return path === dir || path.startsWith(dir + '/');
}
