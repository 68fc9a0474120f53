/**
 * The decoy: the empty mode-000 file bwrap binds read-only over hidden files (hiddenPaths.ts,
 * bwrapArgs.ts), one per warden process, in its own 0700 directory in /dev/shm (decoyRoot), else
 * the temp directory (which every plan hides too). Does I/O (the temp directory, /proc).
 *
 * Red team: in the temp directory, a command sandboxed by another warden process (the agent runs
 * one per hook call) with /tmp writable reached this process's decoy: its own plan hides only its
 * own decoy. Running as the decoy's owner it chmod'ed it and wrote into it, and the hidden files of
 * this process's runs showed that, in a running sandbox and between the check and the mount. Every
 * sandbox has a /dev of its own (bwrap --dev), so the machine's /dev/shm is out of every sandbox's
 * reach; the temp directory is the fallback where there is no /dev/shm.
 *
 * Red team: ~430 `warden-decoy-*` directories piled up in /tmp on one machine, one for each warden
 * process that was killed (SIGKILL, a crash, a client closing it): its exit handler never ran. As
 * with the run cgroups (pidsLimit.ts), the directory is named after its owner's pid and start time
 * (`warden-decoy-PID-START-XXXXXX`), and the next warden process to make a decoy removes the ones
 * whose owner is gone, never a live owner's.
 *
 * The temp directory is shared: other users, and sandboxed commands of this user (with /tmp
 * writable, in any warden process), may create entries with that name, or swap one for a symlink
 * between two of the sweep's steps. So the sweep touches only what it has opened itself: the
 * directory is opened without following a symlink and checked (a directory, owned by this user)
 * through its fd, and its `hidden` is unlinked through that fd (/proc/self/fd/N/hidden names the
 * opened directory, whatever the path names by then); nothing is removed recursively, and the
 * directory goes with rmdir, which removes no symlink and no directory that is not empty.
 */
import { closeSync, constants as fsConstants, fchmodSync, fstatSync, mkdtempSync, openSync, readdirSync, realpathSync, rmdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sharedPrivateDir } from '../privateFiles.ts';
import { namesOfGoneOwners, OWNER_PATTERN, ownTag } from './processOwner.ts';

const PREFIX = 'warden-decoy-';

/**
 * Where decoy directories are made and swept: `warden-decoys-UID` (privateFiles.ts sharedPrivateDir), one for every
 * warden process of this user, which every plan hides whole (bwrapArgs `decoyDir`). Red team: with
 * TMPDIR=/dev/shm (or a writable root over it) a sandbox of another warden process had /dev/shm
 * bound writable and wrote into this process's decoy; a plan hid only its own decoy's directory,
 * and a decoy made after a sandbox started was never hidden from it. Hiding the one shared
 * directory covers every decoy, made before or after. Fails closed (throws) when the name is not a
 * 0700 directory of this user's (another user may have made it first). Does I/O.
 */
export function decoyRoot(): string {
  return sharedPrivateDir('decoys', 'no decoy can be made for hidden files');
}
/** mkdtemp's six random characters after `warden-decoy-PID-START-`. */
/**
 * `warden-decoy-PID-START-pNS-XXXXXX`: NS is the owner's pid namespace (processOwner.ts).
 * Red team: /dev/shm and the temp directory are shared with wardens in other pid namespaces (an
 * `unshare --pid`, a container), whose pids name other processes here: this sweep removed a live
 * one's decoy, and its runs failed. A name of another namespace is never this sweep's.
 */
const OWNED = new RegExp(`^warden-decoy-${OWNER_PATTERN}[A-Za-z0-9]{6}$`);
const FILE = 'hidden';
const COVER = /^cover-\d+-\d+$/;

let current: string | null = null;
/** Every decoy directory this process made (one is made again if something removed or changed it). */
const mine = new Set<string>();
let swept = false;

/**
 * Removes one decoy directory: its `hidden` and then the directory, and only if it is a directory
 * owned by `uid` (not a symlink to one). Returns whether it is gone. Does I/O.
 */
function removeDecoyDir(dir: string, uid: number): boolean {
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink planted under the name fails here (ELOOP/ENOTDIR) and is left alone.
    fd = openSync(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
  try {
    const st = fstatSync(fd);
    if (!st.isDirectory() || st.uid !== uid) return false; // another user's: never ours to remove
    try {
      // Through the fd: a rename of `dir` since the open cannot point this unlink elsewhere.
      unlinkSync(`/proc/self/fd/${fd}/${FILE}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
    // A killed process's run-long copies of git configs (runCommand.ts credentialFreeGitConfigs).
    try {
      for (const name of readdirSync(`/proc/self/fd/${fd}`)) if (COVER.test(name)) unlinkSync(`/proc/self/fd/${fd}/${name}`);
    } catch {
      // rmdir below says whether anything is left
    }
  } finally {
    closeSync(fd);
  }
  try {
    // rmdir removes no symlink (ENOTDIR) and nothing with entries left in it (ENOTEMPTY).
    rmdirSync(dir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * Removes the decoy directories in `root` whose owner (by pid and start time) is gone, and returns
 * their paths. Only names of the exact pattern, owned by `uid`, never through a symlink; a live
 * owner's is kept. Old-style `warden-decoy-XXXXXX` names carry no owner and are never touched: a
 * live warden of an older version may be using one. Does I/O.
 */
export function sweepDecoys(root: string = decoyRoot(), uid: number = process.getuid?.() ?? -1): string[] {
  const removed: string[] = [];
  // Without a start time of its own (no /proc) nothing tells a live owner from a dead one here.
  if (uid < 0 || ownTag().start === null) return removed;
  for (const name of namesOfGoneOwners(root, OWNED)) {
    const dir = join(root, name);
    if (removeDecoyDir(dir, uid)) removed.push(dir);
  }
  return removed;
}

/**
 * This process's decoy file, made (after a sweep of the dead owners' ones, once per process) when
 * there is none or it is not an empty mode-000 file any more. Does I/O.
 */
export function decoyFile(): string {
  return decoy().file;
}

/**
 * The decoy's path and its fd from one check, for a plan that names both: two separate calls could
 * straddle a decoy made again in between (the plan's path of the old one, fds of the new).
 */
export function decoy(): { file: string; fd: number } {
  const fd = decoyFd();
  return { file: current!, fd };
}

let currentFd: number | null = null;

/**
 * An open fd of this process's decoy, which bwrap binds from (`--ro-bind-fd`), never its path.
 * Red team: the decoy's directory is in the shared temp directory, hidden only from this process's
 * own sandboxes; a sandboxed command of another warden process (the agent runs several: one per
 * hook call) with /tmp writable could swap `hidden` for a symlink to ~/.ssh/id_rsa between this
 * process's check and bwrap's mount, and every hidden file of the next run would show the key. An
 * fd names the file that was made and checked here, whatever the path names by then. The file is
 * made readable to open it, then made mode 000 through the fd (a user cannot open a mode-000 file
 * of its own). Checked through the fd before each use: still an empty mode-000 file, else a new one.
 */
export function decoyFd(): number {
  if (currentFd !== null) {
    try {
      const st = fstatSync(currentFd);
      if (st.isFile() && st.size === 0 && (st.mode & 0o777) === 0 && st.nlink === 1) return currentFd;
    } catch {
      // closed under us: make a new one
    }
    // Never closed: a plan made a moment ago may still name this fd, and a closed number could be
    // reused by another file of warden's before its bwrap binds it. A changed decoy is rare.
    currentFd = null;
  }
  if (!swept) {
    swept = true;
    // The temp directory too: decoys of wardens from before decoyRoot, and where there is no /dev/shm.
    for (const dir of new Set([decoyRoot(), dirname(decoyRoot()), tmpdir()])) sweepDecoys(dir);
    process.once('exit', () => {
      const uid = process.getuid?.() ?? -1;
      for (const dir of mine) removeDecoyDir(dir, uid);
    });
  }
  const own = ownTag();
  // Without a start time the name carries no owner, so no sweep of another process removes it.
  const dir = realpathSync(mkdtempSync(join(decoyRoot(), own.start === null ? PREFIX : `${PREFIX}${own.text}`)));
  mine.add(dir);
  const file = join(dir, FILE);
  const fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
  fchmodSync(fd, 0o000);
  current = file;
  currentFd = fd;
  return fd;
}
