/**
 * The file-system calls applyPatch.ts makes, as one interface with two implementations: node's own
 * (`nodePatchFs`, in this process: tests, and anything applying outside a sandbox) and the native
 * helper inside the sandbox (remotePatchFs.ts), so the patch logic exists once whichever process
 * does the calls. Failures are node-style errors (`code`, `syscall`, `path`, and node's message), so
 * what a caller matches on (ENOENT, "read-only file system") is the same for both. Does I/O.
 */
// fs.promises, not node:fs/promises: node loads it on first use, and `exec` and the hooks, which
// bundle this module but never apply a patch in this process, then never load it (~3 ms a start).
import { constants as fsc, promises as fsp } from 'node:fs';

export interface PathStat {
  kind: 'file' | 'directory' | 'symlink' | 'other';
  /** Permission bits (and setuid/setgid/sticky). */
  mode: number;
  uid: number;
  gid: number;
}

export interface PatchFs {
  lstat(path: string): Promise<PathStat>;
  /** Through symlinks. */
  stat(path: string): Promise<PathStat>;
  /** A regular file's bytes, through symlinks. */
  readFile(path: string): Promise<Buffer>;
  readlink(path: string): Promise<string>;
  /** mkdir -p; the topmost directory it created, or undefined when all were there. */
  mkdirp(path: string): Promise<string | undefined>;
  /**
   * A new file (O_EXCL | O_NOFOLLOW: never through something planted at the name) with `mode` when
   * given, `owner` when given and running as root, fsynced before it resolves.
   */
  writeNew(path: string, content: string | Buffer, mode: number | null, owner: { uid: number; gid: number } | null): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  symlink(target: string, path: string): Promise<void>;
  /** fsync of a directory, so renames in it survive a crash. */
  syncDir(path: string): Promise<void>;
}

const kindOf = (st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): PathStat['kind'] =>
  st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other';
const statOf = (st: Awaited<ReturnType<typeof fsp.lstat>>): PathStat => ({ kind: kindOf(st), mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid) });

/** This process's own file system. */
export const nodePatchFs: PatchFs = {
  lstat: async (p) => statOf(await fsp.lstat(p)),
  stat: async (p) => statOf(await fsp.stat(p)),
  readFile: (p) => fsp.readFile(p),
  readlink: (p) => fsp.readlink(p),
  mkdirp: (p) => fsp.mkdir(p, { recursive: true }),
  async writeNew(p, content, mode, owner) {
    const fh = await fsp.open(p, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode ?? 0o666);
    try {
      await fh.writeFile(content);
      if (mode !== null) await fh.chmod(mode); // open's mode is masked by umask
      if (owner !== null && process.getuid?.() === 0) await fh.chown(owner.uid, owner.gid);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (a, b) => fsp.rename(a, b),
  unlink: (p) => fsp.unlink(p),
  rmdir: (p) => fsp.rmdir(p),
  readdir: (p) => fsp.readdir(p),
  symlink: (t, p) => fsp.symlink(t, p),
  async syncDir(p) {
    const fh = await fsp.open(p, fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};
