/**
 * Where a patch may write without asking: path canonicalisation (lexical `..`, then symlinks
 * resolved on disk) and the writable-root / protected-subpath rules of CODEX-REFERENCE §6b.
 * Reads the file system (lstat, readlink, reading `.git` files) and never writes. Used by
 * classifyPatch; the OS sandbox enforces the same roots at run time.
 *
 * Stricter than the reference, which compares lexically only: a symlink inside the workspace
 * pointing outside makes the path outside, `.git` / `.warden` are protected at any depth and in
 * any letter case (case-insensitive file systems), and a `.git` file's gitdir target is protected.
 */
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { RequestPolicy } from '../../events/types.ts';

/** The kernel gives up after 40 links (ELOOP); so do we, and treat the path as unresolvable. */
const MAX_SYMLINKS = 40;

const PROTECTED_NAMES = ['.git', '.warden'];

/**
 * The path the kernel would reach, as far as the disk can tell: every existing component's
 * symlink is followed (also dangling ones and the last component); from the first missing
 * component on the rest is taken lexically. `null` when it cannot be resolved (a loop, or a
 * component we may not inspect): callers must treat that as "not provably inside".
 * Does I/O (lstat, readlink).
 */
export function canonicalPath(absolute: string): string | null {
  if (!path.isAbsolute(absolute) || absolute.includes('\0')) return null;
  const pending = absolute.split('/').filter((c) => c !== '');
  let resolved = '/';
  let links = 0;
  let missing = false;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === '.') continue;
    if (comp === '..') {
      resolved = path.dirname(resolved);
      continue;
    }
    const next = resolved === '/' ? `/${comp}` : `${resolved}/${comp}`;
    if (missing) {
      resolved = next;
      continue;
    }
    let isLink: boolean;
    try {
      isLink = lstatSync(next).isSymbolicLink();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        missing = true;
        resolved = next;
        continue;
      }
      return null; // EACCES and the like: we cannot tell where this leads
    }
    if (!isLink) {
      resolved = next;
      continue;
    }
    if (++links > MAX_SYMLINKS) return null;
    let target: string;
    try {
      target = readlinkSync(next);
    } catch {
      return null;
    }
    if (path.isAbsolute(target)) resolved = '/';
    pending.unshift(...target.split('/').filter((c) => c !== ''));
  }
  return resolved;
}

/** `child` is `parent` or below it (both canonical absolute paths). */
export function isWithin(child: string, parent: string): boolean {
  if (parent === '/') return child.startsWith('/');
  return child === parent || child.startsWith(`${parent}/`);
}

/**
 * The writable roots of a policy, canonical, or `'all'` (danger-full-access) / `[]` (read-only).
 * workspace-write: cwd, the policy's roots (relative ones against cwd), and /tmp and $TMPDIR when
 * `tmpWrite`. Roots that cannot be resolved are dropped (fail closed). Does I/O.
 */
export function writableRoots(policy: RequestPolicy, cwd: string, env: NodeJS.ProcessEnv = process.env): string[] | 'all' {
  if (policy.sandbox === 'danger-full-access') return 'all';
  if (policy.sandbox !== 'workspace-write') return []; // read-only, and anything unknown
  const raw = [cwd, ...policy.writableRoots.map((r) => path.resolve(cwd, r))];
  if (policy.tmpWrite) {
    raw.push('/tmp');
    const tmpdir = env.TMPDIR;
    if (tmpdir !== undefined && tmpdir !== '' && path.isAbsolute(tmpdir)) raw.push(tmpdir);
  }
  const roots: string[] = [];
  for (const r of raw) {
    if (r.includes('\0')) continue;
    const c = canonicalPath(path.resolve(r));
    if (c !== null && !roots.includes(c)) roots.push(c);
  }
  return roots;
}

/**
 * Directories inside the roots that stay read-only beyond the name rule: the target of a
 * `gitdir: <dir>` pointer in `<root>/.git` when that is a file (worktrees, submodules). Does I/O.
 */
export function gitdirTargets(roots: string[]): string[] {
  const out: string[] = [];
  for (const root of roots) {
    const dotGit = path.join(root, '.git');
    try {
      if (!lstatSync(dotGit).isFile()) continue;
      const text = readFileSync(dotGit, 'utf8').slice(0, 64 * 1024);
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(text);
      if (m === null) continue;
      const target = canonicalPath(path.resolve(root, m[1]!));
      if (target !== null) out.push(target);
    } catch {
      // no readable .git file: nothing more to protect
    }
  }
  return out;
}

/** The policy's hidden paths, canonical (those that cannot be resolved are kept as given). Does I/O. */
export function hiddenRoots(hidden: readonly string[] | undefined): string[] {
  return (hidden ?? []).filter((h) => path.isAbsolute(h)).map((h) => canonicalPath(h) ?? h);
}

/** Why a canonical path is protected, or null. A `.git` / `.warden` component anywhere counts. */
export function protectedReason(canonical: string, gitdirs: string[]): string | null {
  for (const comp of canonical.split('/')) {
    const lower = comp.toLowerCase();
    if (PROTECTED_NAMES.includes(lower)) return `inside ${lower}`;
  }
  for (const g of gitdirs) if (isWithin(canonical, g)) return `inside the git directory ${g}`;
  return null;
}

export type PathVerdict = { writable: true; canonical: string } | { writable: false; why: string };

/**
 * Whether one absolute (lexically normalised) path may be written without asking. Does I/O.
 * `roots === 'all'` is danger-full-access: every path, protected names included, as the reference.
 */
export function judgePath(absolute: string, roots: string[] | 'all', gitdirs: string[], hidden: string[] = []): PathVerdict {
  if (roots === 'all') return { writable: true, canonical: absolute };
  const canonical = canonicalPath(absolute);
  if (canonical === null) return { writable: false, why: `${absolute} cannot be resolved (symlink loop or unreadable component)` };
  const via = canonical === absolute ? '' : ` (resolves to ${canonical})`;
  // The sandbox masks hidden paths in every mode (src/sandbox/hiddenPaths.ts): a patch may not write them either.
  const secret = hidden.find((h) => isWithin(canonical, h));
  if (secret !== undefined) return { writable: false, why: `${absolute} is hidden from sandboxed commands (${secret})${via}` };
  if (!roots.some((r) => isWithin(canonical, r))) return { writable: false, why: `${absolute} is outside the writable roots${via}` };
  const prot = protectedReason(canonical, gitdirs);
  if (prot !== null) return { writable: false, why: `${absolute} is ${prot}, which stays read-only${via}` };
  return { writable: true, canonical };
}
