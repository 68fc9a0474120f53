/**
 * Small files of this user's that warden trusts to skip work (the bwrap probe's memo, the store
 * check's memo): read only when the file is a regular file, not a symlink, owned by this user and
 * writable by nobody else, in a folder that is the same, so no other user can plant one; written
 * atomically (a temporary file renamed into place), private. A memo can only ever save work: every
 * reader treats a missing, foreign or unreadable file as "do the work". Does I/O; the two file
 * functions never throw. Also the shared folders warden keeps for itself (ownPrivateDir).
 * The V8 code cache (src/cli/runBundle.ts) is kept the same way.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

export type XdgEnv = { HOME?: string | undefined; XDG_CONFIG_HOME?: string | undefined; XDG_STATE_HOME?: string | undefined };

/** `$<variable>/warden`, else `$HOME/<fallback>/warden`; null when neither is an absolute path. Pure. */
function wardenXdgDir(env: XdgEnv, variable: 'XDG_CONFIG_HOME' | 'XDG_STATE_HOME', fallback: string): string | null {
  const value = env[variable];
  if (value !== undefined && isAbsolute(value)) return join(value, 'warden');
  return env.HOME !== undefined && isAbsolute(env.HOME) ? join(env.HOME, fallback, 'warden') : null;
}

/**
 * warden's state folder, where its private files live (the memos, the V8 code cache), or null.
 * Every sandbox hides it (sandbox/hiddenPaths.ts wardenOwnPaths resolves it here too). Pure.
 */
export function wardenStateDir(env: XdgEnv): string | null {
  return wardenXdgDir(env, 'XDG_STATE_HOME', '.local/state');
}

/** warden's config folder (hidden from every sandbox too), or null. Pure. */
export function wardenConfigDir(env: XdgEnv): string | null {
  return wardenXdgDir(env, 'XDG_CONFIG_HOME', '.config');
}

const shared = new Map<string, string>();

/**
 * A folder every warden process of this user shares: `warden-NAME-UID` in /dev/shm when that is a
 * real directory (not a symlink: every sandbox gets its own /dev), else the temp directory; made or
 * checked by ownPrivateDir once per process. Throws naming `purpose` (fail closed).
 */
export function sharedPrivateDir(name: string, purpose: string): string {
  const known = shared.get(name);
  if (known !== undefined) return known;
  let base = tmpdir();
  try {
    if (lstatSync('/dev/shm').isDirectory()) base = '/dev/shm';
  } catch {
    // no /dev/shm here
  }
  const uid = process.getuid?.() ?? -1;
  const dir = join(base, `warden-${name}-${uid < 0 ? 'user' : uid}`);
  ownPrivateDir(dir, purpose);
  shared.set(name, dir);
  return dir;
}

/**
 * Makes `dir` (one level) a 0700 directory of this user's, or finds it one; throws naming `purpose`
 * when it is anything else (another user may have made it first, or a symlink stands there).
 */
export function ownPrivateDir(dir: string, purpose: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const uid = process.getuid?.() ?? -1;
  const st = lstatSync(dir);
  if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new Error(`${dir} is not a 0700 directory of this user's: ${purpose}`);
  }
}

function ownedAndPrivate(st: { uid: number; mode: number }): boolean {
  return typeof process.getuid === 'function' && st.uid === process.getuid() && (st.mode & 0o022) === 0;
}

/** The file's bytes when it passes the checks above and is at most `maxBytes`, else null. */
export function readPrivateFile(file: string, maxBytes: number): Buffer | null {
  let fd: number;
  try {
    const dir = lstatSync(dirname(file));
    if (!dir.isDirectory() || !ownedAndPrivate(dir)) return null;
    // O_NONBLOCK: a FIFO in its place must not hang the start-up (fstat then refuses it)
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !ownedAndPrivate(st) || st.size > maxBytes) return null;
    return readFileSync(fd);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` as `file` (its folder made private when missing); does nothing in a folder that fails the checks. */
export function writePrivateFile(file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const dir = lstatSync(dirname(file));
    if (!dir.isDirectory() || !ownedAndPrivate(dir)) return;
    writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}
