/**
 * Builds native/warden-netns (the relay that sandboxed commands with allowed domains reach warden's
 * proxy through; see native/warden-netns.c) with the machine's C compiler, only when the source is newer
 * than the binary. Run by build.mjs. Without a compiler it says so and goes on: only `--allow-domain`
 * needs the relay, and a run that needs it without it fails closed with this same advice.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const source = join(ROOT, 'native', 'warden-netns.c');
const out = join(ROOT, 'native', 'build', 'warden-netns');
const mtime = (p) => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? -1;

if (mtime(source) >= 0 && mtime(out) < mtime(source)) {
  mkdirSync(join(ROOT, 'native', 'build'), { recursive: true });
  const cc = process.env.CC ?? 'cc';
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', tmp, source], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status === 0) {
    renameSync(tmp, out);
  } else {
    process.stderr.write(
      `build: could not compile ${source} with ${cc} (${r.error?.message ?? `exit ${r.status}`}); ` +
        '--allow-domain will refuse to run until it is built\n',
    );
  }
}
