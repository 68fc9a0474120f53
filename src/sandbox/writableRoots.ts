/**
 * The one writable-roots model: which directories a workspace-write run may write, and which paths
 * inside them stay read-only. Shared by the bubblewrap argv builder, the Seatbelt profile generator
 * and patch safety (src/safety/patch/writablePaths.ts), so the sandbox and the patch checker agree on
 * the policy (test/property/writableRoots.property.test.ts says so). Pure given an `FsProbe` (the real
 * one, `nodeFsProbe`, does synchronous reads only).
 *
 * Why protect `.git` and `.warden`: a write to `.git/hooks/*`, `.git/config` or `.warden/…` would run
 * code or change warden's own rules on the user's next unsandboxed action. They are protected even
 * when missing, since creating a fresh `.git` with hooks (or a `.warden`) is the same escalation.
 * The persistence names (PERSISTENCE_NAMES) are the same attack one step removed: code or
 * configuration that the person's shell, editor, git or agent runs later, outside any sandbox.
 *
 * A git directory is what git thinks it is: a directory with HEAD, objects/ and refs/ (a bare or
 * planted repository, `git -C dir status` runs its `core.fsmonitor`), a `.git` file's gitdir target,
 * and the target of `core.hooksPath`, at any depth the walk reaches (MAX_WALK_DIRS per root).
 */
import { lstatSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, basename, isAbsolute, join, resolve } from 'node:path';
import type { SandboxSpec } from './types.ts';

/**
 * Files and folders whose contents run later, outside the sandbox: shell start-up files (the next
 * terminal), git's own config and submodule list, direnv's `.envrc` (runs on `cd`), MCP server lists
 * and the editors' and agents' project settings (tasks, hooks, MCP servers they start).
 */
export const PERSISTENCE_NAMES = [
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.profile',
  '.zshrc',
  '.zshenv',
  '.zprofile',
  '.zlogin',
  '.gitconfig',
  '.gitmodules',
  '.envrc',
  '.mcp.json',
  '.vscode',
  '.idea',
  '.claude',
  '.codex',
  '.gemini',
  '.cursor',
] as const;

/** Names re-bound read-only (or masked when missing) inside every writable root. */
export const PROTECTED_NAMES: readonly string[] = ['.git', '.warden', ...PERSISTENCE_NAMES];

/** Code points HFS+ ignores in names (git's is_hfs_dotgit list, plus U+200B and U+2060). */
const IGNORABLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]/g;

/**
 * The protected name a path component stands for on some file system, or null. Folds what makes a
 * different string the same name: letter case (case-insensitive volumes), HFS+ ignorable code points
 * (`.g\u200cit`), NTFS trailing dots and spaces (`.git.`), NTFS streams (`.git::$INDEX_ALLOCATION`)
 * and 8.3 short names (`GIT~1`, `WARDEN~1`). Pure.
 */
export function protectedNameOf(component: string): string | null {
  let name = component.normalize('NFC').replace(IGNORABLE, '');
  const colon = name.indexOf(':');
  if (colon > 0) name = name.slice(0, colon);
  name = name.replace(/[. ]+$/, '').toLowerCase();
  if (name === '') return null;
  for (const p of PROTECTED_NAMES) {
    if (name === p) return p;
    const short = p.replace(/\./g, '').slice(0, 6);
    if (name.startsWith(`${short}~`) && /^~\d+$/.test(name.slice(short.length))) return p;
  }
  return null;
}

export type PathKind = 'dir' | 'file' | 'symlink' | 'missing';

/** The few file-system questions the planner asks; a table-driven fake stands in for it in tests. */
export interface FsProbe {
  /** lstat: what is at `path` itself, without following a final symlink. */
  kind(path: string): PathKind;
  /** Fully resolved path, or null when it does not resolve (missing, dangling link, loop). */
  realpath(path: string): string | null;
  /** Contents of a small regular file, or null. */
  readText(path: string): string | null;
  /** A directory's entries with their lstat kinds, or null; without it nothing below a root is walked. */
  list?(path: string): Array<{ name: string; kind: PathKind }> | null;
  /**
   * lstat of a regular file: its identity (device and inode) and how many names (hard links) it has;
   * null for anything else or when it is gone. Without it hard links are not looked at (hiddenPaths.ts).
   */
  inode?(path: string): { id: string; links: number } | null;
}

export const nodeFsProbe: FsProbe = {
  kind(path) {
    try {
      // no exception for the common ENOENT: building one costs more than the lstat (bench/sandbox.ts)
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st === undefined) return 'missing';
      if (st.isSymbolicLink()) return 'symlink';
      if (st.isDirectory()) return 'dir';
      return 'file'; // regular files, sockets, fifos, devices: all bind the same way
    } catch {
      return 'missing';
    }
  },
  realpath(path) {
    try {
      // the libc realpath: one call, where the JS one lstats every component of every path
      return realpathSync.native(path);
    } catch {
      return null;
    }
  },
  readText(path) {
    try {
      return readFileSync(path, 'utf8').slice(0, 64 * 1024);
    } catch {
      return null;
    }
  },
  list(path) {
    try {
      return readdirSync(path, { withFileTypes: true }).map((d) => ({
        name: d.name,
        kind: d.isSymbolicLink() ? 'symlink' : d.isDirectory() ? 'dir' : 'file',
      }));
    } catch {
      return null;
    }
  },
  inode(path) {
    try {
      const st = lstatSync(path, { throwIfNoEntry: false, bigint: true });
      if (st === undefined || !st.isFile()) return null;
      return { id: `${st.dev}:${st.ino}`, links: Number(st.nlink) };
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
  why: 'name' | 'gitdir' | 'repo' | 'hooks' | 'code' | 'above';
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
  /**
   * The person's home-like directories (personalDirs) that lie in a writable root, canonical;
   * `missing` when the directory does not exist (then it could be created, start-up files and all).
   */
  homes: Array<{ path: string; missing: boolean }>;
  /** Requested roots that do not exist or are not directories (nothing to bind, so they stay read-only). */
  skipped: string[];
  /** Roots whose walk stopped at MAX_WALK_DIRS: protected entries deeper than that were not looked for. */
  truncated: string[];
}

/** Directories looked at below one root, at most (a big tree costs time on every run). */
export const MAX_WALK_DIRS = 4000;

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

/** Whether a directory's entries make it a git directory: HEAD plus objects/ plus refs/, as git's is_git_directory. */
export function looksLikeGitDir(entries: ReadonlyArray<{ name: string; kind: PathKind }>): boolean {
  const kind = (n: string) => entries.find((e) => e.name === n)?.kind;
  return kind('HEAD') === 'file' && kind('objects') === 'dir' && kind('refs') === 'dir';
}

/** `core.hooksPath` from a git config text, or null. */
export function hooksPathOf(configText: string): string | null {
  let inCore = false;
  for (const raw of configText.split('\n')) {
    const line = raw.trim();
    const section = /^\[\s*([^\]\s"]+)/.exec(line);
    if (section) inCore = section[1]!.toLowerCase() === 'core';
    const m = inCore ? /^hookspath\s*=\s*(.+?)\s*$/i.exec(line) : null;
    if (m?.[1]) return m[1].replace(/^"(.*)"$/, '$1');
  }
  return null;
}

/**
 * What a git directory adds: itself, and its `core.hooksPath` target (relative to the worktree top,
 * `worktree`, as git resolves it; `~/` against $HOME is left alone: it is outside the roots or a
 * persistence name's business). Does I/O only through `probe`.
 */
function gitDirEntries(gitDir: string, worktree: string, why: ProtectedPath['why'], probe: FsProbe): ProtectedPath[] {
  const out = [describe(gitDir, why, probe)];
  const config = probe.readText(join(gitDir, 'config'));
  const hooks = config === null ? null : hooksPathOf(config);
  if (hooks !== null && !hooks.startsWith('~')) out.push(describe(canonicalize(resolve(worktree, hooks), probe), 'hooks', probe));
  return out;
}

/**
 * The protected entries of one writable root: the protected names at its top (missing ones too), a
 * `.git` file's gitdir target, hooksPath targets, and, walking below it (not into protected entries,
 * not through symlinks), every existing protected name, `.git` file target and git-looking directory.
 */
function protectedEntries(root: string, walk: boolean, probe: FsProbe): { entries: ProtectedPath[]; truncated: boolean } {
  const prot: ProtectedPath[] = [];
  const add = (e: ProtectedPath) => {
    if (!prot.some((p) => p.path === e.path)) prot.push(e);
  };
  /** A protected entry found at `dir/name` (kind known); its extras (gitdir target, hooksPath). */
  const found = (dir: string, name: string) => {
    const entry = describe(join(dir, name), 'name', probe);
    add(entry);
    if (protectedNameOf(name) !== '.git') return;
    if (entry.kind === 'file') {
      // A `.git` FILE points at the real git dir (worktrees, submodules): protect that too.
      const text = probe.readText(entry.path);
      const pointer = text === null ? null : parseGitdirPointer(text, dir);
      if (pointer !== null) for (const e of gitDirEntries(canonicalize(pointer, probe), dir, 'gitdir', probe)) add(e);
    } else if (entry.kind === 'dir') {
      for (const e of gitDirEntries(entry.path, dir, 'name', probe).slice(1)) add(e);
    }
  };
  for (const name of PROTECTED_NAMES) found(root, name);
  const top = probe.list?.(root);
  if (top && looksLikeGitDir(top)) for (const e of gitDirEntries(root, root, 'repo', probe)) add(e);
  if (!walk || probe.list === undefined) return { entries: prot, truncated: false };

  let budget = MAX_WALK_DIRS;
  // each directory is listed once: the listing that tells whether it is a git directory is the one walked
  const queue: Array<{ dir: string; list: ReturnType<NonNullable<FsProbe['list']>> }> = [{ dir: root, list: top ?? null }];
  for (let next = 0; next < queue.length; next++) {
    const { dir, list } = queue[next]!;
    if (!list) continue;
    for (const e of list) {
      if (protectedNameOf(e.name) !== null) {
        if (dir !== root || !PROTECTED_NAMES.includes(e.name)) found(dir, e.name);
        continue; // never walk into a protected entry: it is read-only as a whole
      }
      if (e.kind !== 'dir') continue;
      const sub = join(dir, e.name);
      if (budget-- <= 0) return { entries: prot, truncated: true };
      const entries = probe.list(sub);
      if (entries && looksLikeGitDir(entries)) {
        for (const g of gitDirEntries(sub, dir, 'repo', probe)) add(g);
        continue;
      }
      queue.push({ dir: sub, list: entries });
    }
  }
  return { entries: prot, truncated: false };
}

/**
 * The writable roots of a spec: cwd, spec.writableRoots (relative ones against cwd), then /tmp and
 * $TMPDIR (absolute only: a relative one means nothing certain) unless `tmpWrite` is off; each
 * canonicalised (a root that is a symlink binds its real target), de-duplicated, with its protected
 * entries. A root that is missing or not a directory is skipped. Empty for any mode but
 * workspace-write. Shared temp roots are not walked (all of /tmp on every run would be slow, and
 * there only what exists is protected anyway, see bwrapArgs.ts).
 */
export function planWritableRoots(
  spec: Pick<SandboxSpec, 'mode' | 'writableRoots' | 'tmpWrite' | 'onlyRoots'>,
  cwd: string,
  env: RootsEnv,
  probe: FsProbe,
): RootsPlan {
  if (spec.mode !== 'workspace-write') return { roots: [], homes: [], skipped: [], truncated: [] };
  const code = (env.code?.() ?? []).filter((p) => isAbsolute(p) && !p.includes('\0'));
  if (spec.onlyRoots) {
    const exact = planExactRoots(spec.writableRoots, cwd, probe, code);
    return withCode(withHomes({ ...exact, roots: withAbove(exact.roots, probe) }, env, probe), code, probe);
  }
  const requested = [cwd, ...spec.writableRoots.map((r) => resolve(cwd, r))].map((path) => ({ path, temp: false }));
  if (spec.tmpWrite) {
    requested.push({ path: '/tmp', temp: true });
    if (env.TMPDIR && isAbsolute(env.TMPDIR)) requested.push({ path: resolve(env.TMPDIR), temp: true });
  }
  const seen = new Set<string>();
  const roots: WritableRoot[] = [];
  const skipped: string[] = [];
  const truncated: string[] = [];
  for (const { path: want, temp } of requested) {
    if (want.includes('\0')) continue;
    const root = probe.realpath(want);
    if (root === null || probe.kind(root) !== 'dir') {
      if (want !== '/tmp' && !skipped.includes(want)) skipped.push(want); // no /tmp is normal on some hosts
      continue;
    }
    if (seen.has(root)) {
      // A temp root that is also cwd or a configured root is walked and masked as that one.
      continue;
    }
    seen.add(root);
    const { entries, truncated: cut } = protectedEntries(root, !temp, probe);
    if (cut) truncated.push(root);
    roots.push({ root, protected: entries, temp });
  }
  return withCode(withHomes({ roots: withAbove(roots, probe), homes: [], skipped, truncated }, env, probe), code, probe);
}

/**
 * Adds, to the root holding it, what is protected in each directory above a root that lies inside
 * another root (the workspace below a writable /tmp, or below a `--writable-root`): the protected
 * names there (why `above`, missing ones too) and a repository's git directory. git's discovery
 * walks up from the directory it is run in, so a `.git` above the workspace is the workspace's.
 * Red team: with the workspace in /tmp/a/ws (not a repository), a sandboxed `git init --bare
 * /tmp/a/.git` with `core.fsmonitor` ran its command on the host at the person's next `git status`
 * in the workspace; and with the workspace a subdirectory of a repository cloned below /tmp (temp
 * roots are not walked) its `../.git/hooks/pre-commit` was writable. Does I/O only through `probe`.
 */
function withAbove(roots: WritableRoot[], probe: FsProbe): WritableRoot[] {
  const extra = new Map<WritableRoot, ProtectedPath[]>();
  for (const r of roots) {
    if (r.temp) continue;
    for (let at = dirname(r.root); ; at = dirname(at)) {
      // the innermost root holding `at`; none means nothing further up is writable either
      const holder = roots.filter((h) => h !== r && isWithin(at, h.root)).sort((a, b) => b.root.length - a.root.length)[0];
      if (holder === undefined) break;
      // a root's own top is planned with the root
      if (holder.root !== at) {
        const list = extra.get(holder) ?? [];
        for (const e of protectedEntries(at, false, probe).entries) list.push(e.why === 'name' ? { ...e, why: 'above' } : e);
        extra.set(holder, list);
      }
      if (dirname(at) === at) break;
    }
  }
  return roots.map((r) => {
    const more = (extra.get(r) ?? []).filter((e, i, all) => !r.protected.some((p) => p.path === e.path) && all.findIndex((o) => o.path === e.path) === i);
    return more.length === 0 ? r : { ...r, protected: [...r.protected, ...more] };
  });
}

/**
 * Adds warden's own code (ownCode.ts) lying in a root to that root's protected entries: read-only
 * like a `.git`, whatever its name, in the shared temp roots too. Does I/O only through `probe`.
 */
function withCode(plan: RootsPlan, code: readonly string[], probe: FsProbe): RootsPlan {
  if (code.length === 0) return plan;
  const roots = plan.roots.map((r) => {
    const mine = code.filter((p) => isWithin(p, r.root) && !r.protected.some((e) => e.path === p));
    return mine.length === 0 ? r : { ...r, protected: [...r.protected, ...mine.map((p) => describe(p, 'code', probe))] };
  });
  return { ...plan, roots };
}

/** What the roots planner reads from the environment. */
export interface RootsEnv {
  TMPDIR?: string | undefined;
  /** The person's home-like directories (personalDirs); none when absent (pure tests). */
  homes?: readonly string[] | undefined;
  /**
   * warden's own code (ownCode.ts wardenCodePaths), read-only in every root; none when absent (pure
   * tests). Asked only by a workspace-write plan: finding it lists warden's node_modules, which a
   * read-only run (every known-safe command) has no use for.
   */
  code?: (() => readonly string[]) | undefined;
}

/**
 * The person's home-like directories, whose start-up files run later outside any sandbox: $HOME (of
 * the command's environment and of warden's own, which may differ), the account's home from the
 * password database (what a login shell uses), $XDG_CONFIG_HOME and $XDG_DATA_HOME (autostart
 * entries, systemd user units, git's and fish's config, .desktop files). Absolute ones only. Does I/O
 * (the password database).
 */
/**
 * The environment names a sandbox's writable roots are planned from: $TMPDIR and the personalDirs
 * below. A run that needs no other (warden's patch helper) keeps only these, so the plan is the
 * one its commands get while the rest of the environment stays out of the sandbox. Pure.
 */
export const PLANNING_ENV = ['TMPDIR', 'HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME'] as const;

export function planningEnvOnly(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const name of PLANNING_ENV) if (env[name] !== undefined) out[name] = env[name];
  return out;
}

export function personalDirs(envs: ReadonlyArray<{ HOME?: string | undefined; XDG_CONFIG_HOME?: string | undefined; XDG_DATA_HOME?: string | undefined }>): string[] {
  const out = new Set<string>();
  const add = (p: string | undefined) => {
    if (p !== undefined && isAbsolute(p) && !p.includes('\0')) out.add(resolve(p));
  };
  for (const env of envs) {
    add(env.HOME);
    add(env.XDG_CONFIG_HOME);
    add(env.XDG_DATA_HOME);
  }
  try {
    add(userInfo().homedir);
  } catch {
    // no password entry (a container's arbitrary uid): $HOME is all there is
  }
  return [...out];
}

/**
 * Adds the home-like directories that lie inside one of the plan's roots (the rest are read-only
 * anyway). Red team (issue #13): with $HOME under a writable root ($HOME below /tmp, a workspace
 * holding the home, `--writable-root /home`) a sandboxed command could create ~/.bashrc,
 * ~/.profile, ~/.config/autostart/x.desktop, ~/.ssh/authorized_keys, ~/.gitconfig: code that runs the
 * next time the person opens a shell or logs in, outside any sandbox. The persistence names are
 * masked only at a root's top, and no list of start-up files is complete, so the home as a whole is
 * read-only (homeIslands, demotedRoots). Does I/O only through `probe`.
 */
function withHomes(plan: RootsPlan, env: RootsEnv, probe: FsProbe): RootsPlan {
  const homes: RootsPlan['homes'] = [];
  for (const want of env.homes ?? []) {
    if (!isAbsolute(want) || want.includes('\0')) continue;
    const real = probe.realpath(want);
    const home = real !== null && probe.kind(real) === 'dir' ? { path: real, missing: false } : { path: canonicalize(want, probe), missing: true };
    if (!plan.roots.some((r) => isWithin(home.path, r.root))) continue;
    if (!homes.some((h) => h.path === home.path)) homes.push(home);
  }
  return { ...plan, homes };
}

/**
 * The home-like directories re-bound read-only inside the writable roots: each existing one that
 * lies strictly inside a root that stays writable. A root that is a home, or holds a missing one,
 * is demoted instead (demotedRoots). Roots inside a home (a project below ~) are bound after it and
 * stay writable. Pure.
 */
export function homeIslands(plan: RootsPlan, demoted: ReadonlyMap<string, string>): string[] {
  const writable = plan.roots.map((r) => r.root).filter((r) => !demoted.has(r));
  return plan.homes
    .filter((h) => !h.missing && !writable.includes(h.path) && writable.some((r) => isWithin(h.path, r)))
    .map((h) => h.path);
}

/**
 * The directory a write to a missing `dir` needs (mkdir -p starts at its nearest existing
 * ancestor), when that is reached without a symlink: its real path is the path as written (or,
 * below cwd, cwd's real path plus the same rest). Null otherwise: a symlink on the way could carry
 * a person-approved write somewhere they never saw (`a/b` with `a -> ~/.ssh`), so that directory
 * stays read-only, the write fails and the person is asked again. Does I/O only through `probe`.
 */
function exactRoot(dir: string, cwd: string, probe: FsProbe): string | null {
  let at = dir;
  while (probe.kind(at) === 'missing') {
    const up = dirname(at);
    if (up === at) return null;
    at = up;
  }
  if (probe.kind(at) !== 'dir') return null;
  const real = probe.realpath(at);
  if (real === null) return null;
  if (real === at) return real;
  const realCwd = probe.realpath(cwd);
  if (realCwd !== null && isWithin(at, cwd) && real === join(realCwd, at.slice(cwd.length))) return real;
  return null;
}

/**
 * `onlyRoots`: the given directories and nothing else (a person-approved patch's directories,
 * src/machines/approval.machine.ts planExecution), each through exactRoot; protected entries
 * inside them stay read-only as in any root. A directory that is itself protected, or lies inside
 * a protected entry (a name on its path, or one of the workspace's gitdirs, repositories and
 * hooksPath targets), is not bound at all: the sandbox never writes those, an approval or not, so
 * the write fails and the person is asked whether to run it without the sandbox.
 */
function planExactRoots(dirs: readonly string[], cwd: string, probe: FsProbe, code: readonly string[]): RootsPlan {
  const roots: WritableRoot[] = [];
  const skipped: string[] = [];
  const truncated: string[] = [];
  const realCwd = probe.realpath(cwd);
  const guarded =
    realCwd === null || probe.kind(realCwd) !== 'dir'
      ? []
      : protectedEntries(realCwd, true, probe).entries.flatMap((e) => (e.target === undefined ? [e.path] : [e.path, e.target]));
  const insideProtected = (root: string) =>
    root.split('/').some((c) => protectedNameOf(c) !== null) ||
    guarded.some((g) => isWithin(root, g)) ||
    code.some((c) => isWithin(root, c)) || // warden's own code (ownCode.ts): never a patch's directory
    repoAbove(root, probe);
  for (const want of dirs.map((d) => resolve(cwd, d))) {
    const found = want.includes('\0') ? null : exactRoot(want, cwd, probe);
    const root = found !== null && insideProtected(found) ? null : found;
    if (root === null) {
      if (!skipped.includes(want)) skipped.push(want);
      continue;
    }
    if (roots.some((r) => r.root === root)) continue;
    const { entries, truncated: cut } = protectedEntries(root, true, probe);
    if (cut) truncated.push(root);
    roots.push({ root, protected: entries, temp: false });
  }
  return { roots, homes: [], skipped, truncated };
}

/** Whether `dir` or a directory above it looks like a git directory (HEAD + objects/ + refs/). Does I/O through `probe`. */
function repoAbove(dir: string, probe: FsProbe): boolean {
  if (probe.list === undefined) return false;
  for (let at = dir; ; at = dirname(at)) {
    const entries = probe.list(at);
    if (entries && looksLikeGitDir(entries)) return true;
    if (dirname(at) === at) return false;
  }
}

/**
 * The protected entries the sandbox acts on: all of them, bar the missing names of the shared temp
 * roots (a transient empty /tmp/.git would break git for every other process below /tmp, see
 * bwrapArgs.ts). Pure.
 */
export function sandboxEntries(plan: RootsPlan): ProtectedPath[] {
  // (a missing `.git` above a root in a temp root is masked as bwrapArgs.ts masks /tmp/.git: tempGitDirs)
  return plan.roots.flatMap((r) => (r.temp ? r.protected.filter((e) => !(e.kind === 'missing' && (e.why === 'name' || e.why === 'above'))) : r.protected));
}

/**
 * The roots that cannot be protected and so stay read-only, each with why: a protected entry that
 * is a symlink (a mount lands on its target, and the link itself could be swapped for a real `.git`
 * with hooks), or a missing one whose parent is missing too (nothing to mask it in place). Every
 * root holding such an entry is demoted. Shared by the sandbox (bwrapArgs.ts, seatbelt.ts) and
 * patch safety (patchRoots), so a patch is never auto-approved into a root the sandbox will not
 * bind. Does I/O only through `probe`.
 */
export function demotedRoots(plan: RootsPlan, probe: FsProbe): Map<string, string> {
  const all = plan.roots.map((r) => r.root);
  const demoted = new Map<string, string>();
  for (const e of sandboxEntries(plan)) {
    const inside = all.filter((root) => isWithin(e.path, root));
    if (inside.length === 0) continue; // outside every writable root: already read-only
    let reason: string | null = null;
    if (e.kind === 'symlink') reason = `${e.path} is a symlink; it could be replaced, so this root stays read-only`;
    if (e.kind === 'missing' && probe.kind(dirname(e.path)) !== 'dir') {
      reason = `${e.path} is missing and cannot be masked, so this root stays read-only`;
    }
    if (reason !== null) for (const root of inside) if (!demoted.has(root)) demoted.set(root, reason);
  }
  // The person's home as a writable root (cwd = ~), or a missing home inside one: its start-up files
  // (~/.bashrc, ~/.profile, ~/.config/autostart, ~/.ssh/authorized_keys, ~/bin on PATH, ...) could be
  // created, and no list of them is complete. Fail closed: that root stays read-only; writes there
  // are denials that escalate to a person (red team, issue #13). See withHomes.
  for (const home of plan.homes) {
    for (const root of all) {
      if (demoted.has(root)) continue;
      if (!home.missing && root === home.path) {
        demoted.set(root, `${root} is the home directory: its start-up files run later outside the sandbox, so it stays read-only (work in a project directory below it)`);
      } else if (home.missing && isWithin(home.path, root)) {
        demoted.set(root, `the home directory ${home.path} is missing inside this root and could be created with start-up files, so it stays read-only`);
      }
    }
  }
  return demoted;
}

/** True when `path` is `dir` or lies below it (both canonical). */
export function isWithin(path: string, dir: string): boolean {
  if (dir === '/') return path.startsWith('/');
  return path === dir || path.startsWith(dir + '/');
}

/**
 * True when an agent-chosen run directory is inside `base` (the directory warden serves, or the
 * client's workspace root) or one of the person's writable roots. Under workspace-write the
 * directory a command runs in is a writable root, so an agent that picks it (an MCP `workdir`,
 * Gemini's `dir_path: ../..`) would otherwise pick what the sandbox lets it write (redteam:
 * `~/.cargo/bin`, whose `cargo` the person's shell runs next). I/O (realpath of the roots).
 */
export function isRunDirectoryInside(cwd: string, base: string, writableRoots: readonly string[]): boolean {
  const real = (path: string): string => {
    const abs = resolve(base, path);
    try {
      return realpathSync(abs);
    } catch {
      return abs;
    }
  };
  const dir = real(cwd);
  return [base, ...writableRoots].map(real).some((r) => dir === r || dir.startsWith(r.endsWith('/') ? r : `${r}/`));
}
