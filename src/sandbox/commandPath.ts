/**
 * The PATH a command runs with, and where that PATH finds a program. A command inherits the
 * person's (or the agent's) PATH; an entry the command itself can fill would let an agent plant
 * `./ls` and have it run as "known-safe `ls`" or under a rule written for the real program. So
 * every run gets the PATH without the entries warden cannot vouch for: empty ones and relative
 * ones (both mean a directory relative to wherever the command runs, usually the workspace), and
 * absolute ones inside the command's directory, a writable root, /tmp or $TMPDIR (a sandboxed
 * command may write there; an unsandboxed one anywhere). The remaining entries are outside what a
 * sandboxed command can write. `searchPathFor` is pure (canonicalising is passed in);
 * `locateProgram` does I/O and is called at the edge (src/requests/effects.ts), never by the
 * classifier, which gets its answers as a table.
 */
import { accessSync, constants, lstatSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';

export interface SearchPathContext {
  /** The directory the command runs in. */
  cwd: string;
  /** Roots the command may write under workspace-write (the policy's writable roots). */
  writableRoots: readonly string[];
  /** /tmp, $TMPDIR and the like: shared scratch space any command may fill. */
  tmpDirs: readonly string[];
  /** The real path of a directory (symlinks resolved), or the path itself when it does not exist. */
  canonical?: (path: string) => string;
}

export interface SearchPath {
  /** The PATH value the command gets. */
  path: string;
  /** Its entries, in order. */
  entries: string[];
  /** Entries of the original PATH that were left out (empty ones as ''). */
  dropped: string[];
  /** The directories the command may write (as given and canonical): no program found there is the system's. */
  writable: string[];
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** A directory's real path, or the normalised path when it cannot be resolved (I/O). */
export function canonicalDir(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return normalize(path);
  }
}

/** The PATH a command gets: `path` without empty, relative or command-writable entries (pure but for `canonical`). */
export function searchPathFor(path: string | undefined, ctx: SearchPathContext): SearchPath {
  const canonical = ctx.canonical ?? ((p: string) => normalize(p));
  const writable = [...new Set([ctx.cwd, ...ctx.writableRoots, ...ctx.tmpDirs].filter((d) => isAbsolute(d)).flatMap((d) => [normalize(d), canonical(d)]))];
  const entries: string[] = [];
  const dropped: string[] = [];
  for (const entry of (path ?? '').split(':')) {
    // '' (`::`, a leading or trailing `:`) and `.`, `bin`, `node_modules/.bin` are the cwd or under it
    if (entry === '' || !isAbsolute(entry)) {
      dropped.push(entry);
      continue;
    }
    const forms = [normalize(entry), canonical(entry)];
    if (forms.some((f) => writable.some((w) => within(f, w)))) {
      dropped.push(entry);
      continue;
    }
    if (!entries.includes(entry)) entries.push(entry);
  }
  return { path: entries.join(':'), entries, dropped, writable };
}

/** True for a symlink whose target is missing (I/O). */
function isDanglingLink(path: string): boolean {
  try {
    if (!lstatSync(path).isSymbolicLink()) return false;
  } catch {
    return false;
  }
  try {
    statSync(path);
    return false;
  } catch {
    return true;
  }
}

/** True for a file this process could execute (I/O). */
function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** How the lookup reads the disk (injected by tests). */
export interface LookupProbe {
  isExecutable(path: string): boolean;
  /** The real path of a directory or file (symlinks resolved). */
  canonical(path: string): string;
  /** True for a symlink whose target is missing; absent means none is. */
  isDanglingLink?(path: string): boolean;
}

const FS_PROBE: LookupProbe = { isExecutable: isExecutableFile, canonical: canonicalDir, isDanglingLink };

/**
 * The file a bare program name runs as under `entries` (the first executable `dir/name`, the way
 * execvp looks), with its directory canonicalised so a symlinked PATH entry is judged by where it
 * really points; null when no entry holds it. A file that is itself a symlink into `writable` (a
 * system directory's `ls` linked to a build in the workspace) is reported as where it points, so
 * it is not the system's; a dangling symlink answers null, since its target may be filled between
 * this look-up and the run. I/O.
 */
export function locateProgram(name: string, entries: readonly string[], probe: LookupProbe = FS_PROBE, writable: readonly string[] = []): string | null {
  if (name === '' || name.includes('/')) return null;
  for (const dir of entries) {
    const file = join(dir, name);
    if (probe.isDanglingLink?.(file) === true) return null;
    if (!probe.isExecutable(file)) continue;
    const real = probe.canonical(file);
    if (writable.some((w) => within(real, w))) return real;
    return join(probe.canonical(dir), name);
  }
  return null;
}

/**
 * The locator a classification gets: each of `names` looked up once under `entries` now (I/O), so
 * the classifier reads a table and stays pure; a name not in `names` is not found.
 */
export function locatorFor(names: readonly string[], entries: readonly string[], probe: LookupProbe = FS_PROBE, writable: readonly string[] = []): (name: string) => string | null {
  const table = new Map(names.map((n) => [n, locateProgram(n, entries, probe, writable)] as const));
  return (name) => table.get(name) ?? null;
}
