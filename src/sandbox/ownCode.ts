/**
 * What warden itself runs later, outside any sandbox: its own code. Kept read-only in every
 * writable root (writableRoots.ts adds these as protected entries, for the sandbox and for patch
 * safety alike). Red team: with warden inside a writable root (a project's `npm i -D warden`, so
 * the hooks `warden init` writes run `node <project>/node_modules/warden/bin/warden.js`; or the
 * warden checkout as the workspace) a sandboxed `cat x > node_modules/warden/dist/cli/main.exec.cjs`
 * put code into the next `warden exec` or hook, which ran it as the person, unsandboxed, with the
 * store open (a decision nobody made recorded as the person's). The same for the packages warden
 * loads, the native helpers it starts (warden-netns splices outside the sandbox) and node itself.
 *
 * What is listed: the package root's `package.json` (its `type` decides how files load), `bin/`,
 * `dist/`, `native/build/` and `node_modules/`; every existing `node_modules` node looks in above
 * the package root (a project's, holding warden's hoisted dependencies), with the real directory of
 * each that is a symlink (and the folder holding the link: codePathsOf); the real directory of every
 * package in those folders that is a symlink, and the lookup path above it; and node's executable. Missing `node_modules`
 * above the root are not listed: node reaches them only for a package none nearer holds, and every
 * dependency of warden's is installed with it. Does I/O once per process (memoised: where the code is
 * does not change while it runs; what is there now is probed again by every plan).
 */
import { existsSync, readdirSync, readFileSync, realpathSync, type Dirent } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The entries of the package root that warden loads or executes at run time. */
export const CODE_ENTRIES = ['package.json', 'bin', 'dist', join('native', 'build'), 'node_modules'] as const;

let memo: string[] | null = null;

/** warden's own code paths for this process (see the header), absolute. Does I/O on first call. */
export function wardenCodePaths(): string[] {
  memo ??= codePathsOf(packageRoot(), process.execPath);
  return memo;
}

/**
 * The package root: the nearest directory above this module holding warden's package.json (two
 * levels up from src/sandbox, dist/sandbox and dist/cli's bundles alike; looked up by name, so a
 * nested package.json such as bin/'s is passed over). Null when none is found. Does I/O.
 */
function packageRoot(): string | null {
  let dir: string;
  try {
    dir = dirname(fileURLToPath(import.meta.url));
  } catch {
    return null;
  }
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'warden') return real(dir);
      } catch {
        // unreadable or not JSON: not warden's
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/**
 * The code paths of a package at `root` (canonical) run by the node at `node`: each entry as found,
 * and for one that is a symlink its target and, in its place, the folder holding it (a mount lands
 * on a link's target, never on the link, and a link left writable could be swapped for a folder of
 * planted packages; so the folder holding it is read-only instead, and only it). Does I/O.
 */
export function codePathsOf(root: string | null, node: string): string[] {
  const out = new Set<string>();
  const add = (path: string) => {
    const target = real(path);
    out.add(target === path ? path : dirname(path));
    out.add(target);
  };
  // node's lookup path from `from` up (Module._nodeModulePaths skips a folder named node_modules)
  const addLookupPath = (from: string) => {
    for (let dir = from; ; dir = dirname(dir)) {
      if (!dir.endsWith('/node_modules')) {
        const modules = join(dir, 'node_modules');
        if (existsSync(modules)) add(modules);
      }
      if (dirname(dir) === dir) break;
    }
  };
  if (root !== null) {
    for (const entry of CODE_ENTRIES) if (existsSync(join(root, entry))) add(join(root, entry));
    addLookupPath(dirname(root));
    // A package that is a symlink in one of those folders (a linked or workspace package, a nested
    // install of links) is loaded from its target, and what it requires is looked up from there.
    // Red team: with warden's node_modules a folder of links into a checkout under /tmp (writable in
    // every sandbox), `cp payload node_modules/warden/node_modules/commander/index.js` wrote through
    // the link into the checkout's commander, and the next warden start ran it outside the sandbox.
    for (const modules of [...out]) {
      if (!modules.endsWith('/node_modules')) continue;
      for (const target of linkedPackages(modules)) {
        add(target);
        addLookupPath(dirname(target));
      }
    }
  }
  // process.execPath is the kernel's own path of the executable (/proc/self/exe): already canonical
  out.add(real(node));
  return [...out];
}

/** The real directories of the packages in `modules` that are symlinks (a scope's too). Does I/O. */
function linkedPackages(modules: string): string[] {
  const out: string[] = [];
  const scan = (dir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isSymbolicLink()) out.push(real(join(dir, e.name)));
      else if (depth === 0 && e.isDirectory() && e.name.startsWith('@')) scan(join(dir, e.name), 1);
    }
  };
  scan(modules, 0);
  return out;
}

function real(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}
