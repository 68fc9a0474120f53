/**
 * Where a patch may write without asking: path canonicalisation (lexical `..`, then symlinks
 * resolved on disk) and the writable-root / protected-subpath rules of CODEX-REFERENCE §6b.
 * Reads the file system (lstat, readlink, reading `.git` files) and never writes. Used by
 * classifyPatch. The roots and their protected entries are the sandbox's own model
 * (src/sandbox/writableRoots.ts: one model, so the patch checker and the sandbox agree; the property
 * test test/property/writableRoots.property.test.ts holds them to it).
 *
 * Stricter than the sandbox can be, since a patch names its paths:
 * - a symlink inside the workspace pointing outside makes the path outside;
 * - protected names (.git, .warden, the persistence names) count at any depth and in every alias
 *   (protectedNameOf: case, HFS+ ignorable code points, NTFS dots, spaces, streams, 8.3 names);
 * - a directory that is a git directory after the patch (HEAD + objects/ + refs/, on disk or created
 *   by this very patch) is protected, at any depth: a planted `vendor/x` with a `config` holding
 *   `core.fsmonitor` runs code on the next `git -C vendor/x status`;
 * - a path in Windows syntax (a backslash, a drive letter) is not judged as a plain file name.
 * The one intended difference: a root that does not exist at all is kept here (the batch classifiers
 * judge hypothetical workspaces); the sandbox cannot bind it, so a patch there fails and escalates.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { RequestPolicy } from '../../events/types.ts';
import { wardenCodePaths } from '../../sandbox/ownCode.ts';
import { demotedRoots, homeIslands, personalDirs, sandboxEntries, looksLikeGitDir, nodeFsProbe, planWritableRoots, protectedNameOf, type FsProbe, type PathKind } from '../../sandbox/writableRoots.ts';

/** The kernel gives up after 40 links (ELOOP); so do we, and treat the path as unresolvable. */
const MAX_SYMLINKS = 40;

/**
 * The path the kernel would reach, as far as the disk can tell: every existing component's
 * symlink is followed (also dangling ones and the last component); from the first missing
 * component on the rest is taken lexically. `null` when it cannot be resolved (a loop, or a
 * component we may not inspect): callers must treat that as "not provably inside".
 * Does I/O (lstat, readlink).
 */
export function canonicalPath(absolute: string, seen?: ResolveMemo): string | null {
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
    const step = seen?.get(next) ?? lookUp(next);
    seen?.set(next, step);
    if (step === 'missing') {
      missing = true;
      resolved = next;
      continue;
    }
    if (step === 'unknown') return null; // EACCES and the like: we cannot tell where this leads
    if (step === 'other') {
      resolved = next;
      continue;
    }
    if (++links > MAX_SYMLINKS) return null;
    const target = step.link;
    if (path.isAbsolute(target)) resolved = '/';
    pending.unshift(...target.split('/').filter((c) => c !== ''));
  }
  return resolved;
}

/** What one path component is on disk, as canonicalPath walks it. */
type Step = 'missing' | 'other' | 'unknown' | { link: string };

/**
 * What canonicalPath found at each path it looked at, shared by the calls of one judgement (the ~90
 * hidden paths share a few parents: `/home/me` was looked up once per entry). Within one judgement
 * only, as each call is a look at the disk now: never kept across requests.
 */
export type ResolveMemo = Map<string, Step>;

/** One component: missing (ENOENT, ENOTDIR), a symlink and its text, something else, or unknown (EACCES...). Does I/O. */
function lookUp(path: string): Step {
  let st;
  try {
    // no exception for the common answer: most of the hidden list is absent on any one machine
    st = lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'missing' : 'unknown';
  }
  if (st === undefined) return 'missing';
  if (!st.isSymbolicLink()) return 'other';
  try {
    return { link: readlinkSync(path) };
  } catch {
    return 'unknown';
  }
}

/** `child` is `parent` or below it (both canonical absolute paths). */
export function isWithin(child: string, parent: string): boolean {
  if (parent === '/') return child.startsWith('/');
  return child === parent || child.startsWith(`${parent}/`);
}


export interface PatchRoots {
  /** Canonical writable roots, or 'all' (danger-full-access). */
  roots: string[] | 'all';
  /** Canonical protected directories besides the name rule: gitdir targets, hooksPath targets, warden's own code (ownCode.ts). */
  gitdirs: string[];
  /** The person's home-like directories inside the roots, read-only as a whole (homeIslands). */
  homes: string[];
}

/**
 * The writable roots of a policy, from the sandbox's model: `'all'` (danger-full-access), `[]`
 * (read-only and anything unknown), or workspace-write's canonical roots with their gitdir and
 * hooksPath targets. Does I/O.
 */
export function patchRoots(policy: RequestPolicy, cwd: string, env: NodeJS.ProcessEnv = process.env): PatchRoots {
  if (policy.sandbox === 'danger-full-access') return { roots: 'all', gitdirs: [], homes: [] };
  if (policy.sandbox !== 'workspace-write') return { roots: [], gitdirs: [], homes: [] };
  // The sandbox's own plan, walk included: what it protects at any depth (a `.git` file's target, a
  // planted repository, a symlinked protected name's target) is what a patch may not write either.
  const homes = personalDirs([env, process.env]);
  const plan = planWritableRoots({ mode: policy.sandbox, writableRoots: policy.writableRoots, tmpWrite: policy.tmpWrite }, cwd, { TMPDIR: env.TMPDIR, homes, code: wardenCodePaths }, nodeFsProbe);
  // A root the sandbox leaves read-only (a symlinked protected entry anywhere its walk reaches) is
  // no root for a patch either: auto-approving into it would only fail in the sandbox.
  const demoted = demotedRoots(plan, nodeFsProbe);
  const roots = plan.roots.map((r) => r.root).filter((r) => !demoted.has(r));
  // Hypothetical roots: missing entirely (not a file, not a dangling link), judged lexically.
  for (const want of plan.skipped) {
    const c = canonicalPath(path.resolve(cwd, want));
    if (c !== null && nodeFsProbe.kind(c) === 'missing' && !roots.includes(c)) roots.push(c);
  }
  const gitdirs = sandboxEntries(plan).flatMap((e) => {
    if (e.kind === 'symlink') return e.target === undefined ? [] : [e.target]; // the sandbox re-binds the target read-only
    return e.why === 'name' ? [] : [e.path];
  });
  return { roots, gitdirs, homes: homeIslands(plan, demoted) };
}

/** Kept for callers that want only the roots. Does I/O. */
export function writableRoots(policy: RequestPolicy, cwd: string, env: NodeJS.ProcessEnv = process.env): string[] | 'all' {
  return patchRoots(policy, cwd, env).roots;
}

/** The policy's hidden paths, canonical (those that cannot be resolved are kept as given). Does I/O. */
export function hiddenRoots(hidden: readonly string[] | undefined, keep: readonly string[] = []): string[] {
  // As the sandbox's planHides: a hidden directory holding the workspace or a writable root cannot be
  // masked there, so it is not judged hidden here either (its files, listed one by one, still are).
  const seen: ResolveMemo = new Map();
  const kept = keep.map((k) => canonicalPath(k, seen) ?? k);
  return (hidden ?? [])
    .filter((h) => path.isAbsolute(h))
    .map((h) => canonicalPath(h, seen) ?? h)
    .filter((h) => !kept.some((k) => k === h || k.startsWith(`${h}/`)));
}

/** Why a canonical path is protected by name, or null. A protected name (or alias) anywhere counts. */
export function protectedReason(canonical: string, gitdirs: string[]): string | null {
  for (const comp of canonical.split('/')) {
    const name = protectedNameOf(comp);
    if (name !== null) return comp === name ? `inside ${name}` : `inside ${JSON.stringify(comp)} (an alias of ${name})`;
  }
  for (const g of gitdirs) if (isWithin(canonical, g)) return `inside the protected ${wardenCodePaths().includes(g) ? "path of warden's own code" : 'git directory'} ${g}`;
  return null;
}

/**
 * The git directories among the ancestors of `canonical` once the patch is applied: an ancestor with
 * HEAD, objects/ and refs/, each on disk or among `created` (canonical paths the patch adds). Does I/O.
 */
export function gitDirAncestor(canonical: string, created: ReadonlySet<string>): string | null {
  const has = (p: string, kind: PathKind) => {
    if (nodeFsProbe.kind(p) === kind) return true;
    if (kind === 'file') return created.has(p);
    for (const c of created) if (c.startsWith(`${p}/`)) return true;
    return false;
  };
  for (let dir = path.dirname(canonical); ; dir = path.dirname(dir)) {
    const entries = (['HEAD', 'objects', 'refs'] as const).map((name) => ({ name, kind: (name === 'HEAD' ? 'file' : 'dir') as PathKind }));
    if (entries.every((e) => has(path.join(dir, e.name), e.kind)) && looksLikeGitDir(entries)) return dir;
    if (dir === '/') return null;
  }
}

/** A path written in Windows syntax: a backslash, or a drive letter (`C:`) as a component. Pure. */
export function windowsSyntax(raw: string): string | null {
  if (raw.includes('\\')) return `${raw} contains a backslash (a path separator on Windows)`;
  if (/(^|\/)[A-Za-z]:/.test(raw)) return `${raw} names a drive letter`;
  return null;
}

export type PathVerdict = { writable: true; canonical: string } | { writable: false; why: string };

/**
 * Whether one absolute (lexically normalised) path may be written without asking. Does I/O.
 * `roots === 'all'` is danger-full-access: every path, protected names included, as the reference.
 */
export function judgePath(
  absolute: string,
  roots: string[] | 'all',
  gitdirs: string[],
  hidden: string[] = [],
  created: ReadonlySet<string> = new Set(),
  homes: readonly string[] = [],
): PathVerdict {
  if (roots === 'all') return { writable: true, canonical: absolute };
  const windows = windowsSyntax(absolute);
  if (windows !== null) return { writable: false, why: windows };
  const canonical = canonicalPath(absolute);
  if (canonical === null) return { writable: false, why: `${absolute} cannot be resolved (symlink loop or unreadable component)` };
  const via = canonical === absolute ? '' : ` (resolves to ${canonical})`;
  // The sandbox masks hidden paths in every mode (src/sandbox/hiddenPaths.ts): a patch may not write them either.
  const secret = hidden.find((h) => isWithin(canonical, h));
  if (secret !== undefined) return { writable: false, why: `${absolute} is hidden from sandboxed commands (${secret})${via}` };
  if (!roots.some((r) => isWithin(canonical, r))) return { writable: false, why: `${absolute} is outside the writable roots${via}` };
  // As the sandbox: the person's home inside a writable root is read-only (its start-up files run later).
  const home = homes.find((h) => isWithin(canonical, h) && !roots.some((r) => r.length > h.length && isWithin(r, h) && isWithin(canonical, r)));
  if (home !== undefined) return { writable: false, why: `${absolute} is inside the home directory ${home}, which stays read-only${via}` };
  const prot = protectedReason(canonical, gitdirs);
  if (prot !== null) return { writable: false, why: `${absolute} is ${prot}, which stays read-only${via}` };
  const repo = gitDirAncestor(canonical, created);
  if (repo !== null) return { writable: false, why: `${absolute} is inside ${repo}, which is a git directory (HEAD, objects/, refs/)${via}` };
  return { writable: true, canonical };
}
