/**
 * A memo of a bwrap probe that worked (platform.ts), so a start-up does not spend a child process
 * and ~10 ms of its main thread on the probe every time: a hook is one warden process per tool call.
 *
 * Only success is remembered, and only for the same boot, kernel, user namespace, user, bwrap binary
 * (path, device, inode, size, times) and probe (arguments and seccomp filter): anything else and the
 * probe runs again. The memo cannot make anything run less sandboxed: a run still fails closed when
 * its bwrap cannot set up (runCommand reports a set-up failure and runs nothing, then forgets the
 * memo, so the next start probes and names the cause). It is a file in warden's state folder, which
 * every sandbox hides (hiddenPaths.ts wardenOwnPaths), read only when it is a private file of this
 * user's (src/privateFiles.ts).
 * I/O: the memo file, /proc, the bwrap binary's metadata.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { readPrivateFile, wardenStateDir, writePrivateFile } from '../privateFiles.ts';

const FORMAT = 'warden-bwrap-probe-1';
const MAX_BYTES = 4096;

export interface ProbeMemo {
  /** Whether a probe of exactly this bwrap and invocation worked earlier in this boot. */
  remembered(): boolean;
  /** Records that the probe just worked. Never throws: an unwritable folder only costs a probe. */
  remember(): void;
}

/** The memo file for this environment, or null when warden has no state folder. Pure. */
export function probeMemoFile(env: NodeJS.ProcessEnv): string | null {
  const dir = wardenStateDir(env);
  return dir === null ? null : join(dir, 'bwrap-probe');
}

/**
 * The memo for probing `bwrapPath` with `args` and `filter` (what the probe hands bwrap), or null
 * when what it would be keyed on cannot be read (then the probe simply runs). I/O.
 */
export function bwrapProbeMemo(bwrapPath: string, args: readonly string[], filter: Buffer | null, env: NodeJS.ProcessEnv = process.env): ProbeMemo | null {
  const file = probeMemoFile(env);
  if (file === null || typeof process.getuid !== 'function') return null;
  let key: string;
  try {
    const bin = statSync(bwrapPath);
    const probe = createHash('sha256').update(args.join('\u0000')).update('\u0001').update(filter ?? '').digest('hex');
    key = JSON.stringify({
      format: FORMAT,
      boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      kernel: release(),
      // another container (or `unshare -U`) on the same boot may forbid what this one allows
      userNamespace: readlinkSync('/proc/self/ns/user'),
      uid: process.getuid(),
      bwrap: [bwrapPath, bin.dev, bin.ino, bin.size, bin.mtimeMs, bin.ctimeMs, bin.mode],
      probe,
    });
  } catch {
    return null;
  }
  return {
    remembered: () => readPrivateFile(file, MAX_BYTES)?.toString('utf8') === key,
    remember: () => writePrivateFile(file, key),
  };
}

/** Drops the memo (a run's bwrap failed to set up): the next start probes again. Never throws. */
export function forgetBwrapProbe(env: NodeJS.ProcessEnv = process.env): void {
  const file = probeMemoFile(env);
  if (file !== null) rmSync(file, { force: true });
}
