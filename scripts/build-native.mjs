/**
 * Builds the native helpers with the machine's C compiler, each only when its source is newer than its
 * binary. Run by build.mjs. Without a compiler it says so and goes on; a run that needs a missing
 * helper fails closed with this same advice:
 *   native/build/warden-netns (native/warden-netns.c): the relay `--allow-domain` runs need;
 *   native/build/warden-apply (native/warden-apply.c): the file-system calls of every apply_patch.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const HELPERS = [
  { name: 'warden-netns', without: '--allow-domain will refuse to run until it is built' },
  { name: 'warden-apply', without: 'apply_patch will refuse to apply patches until it is built' },
];
const mtime = (p) => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? -1;

for (const { name, without } of HELPERS) {
  const source = join(ROOT, 'native', `${name}.c`);
  const out = join(ROOT, 'native', 'build', name);
  if (mtime(source) < 0 || mtime(out) >= mtime(source)) continue;
  mkdirSync(join(ROOT, 'native', 'build'), { recursive: true });
  const cc = process.env.CC ?? 'cc';
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', tmp, source], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status === 0) {
    renameSync(tmp, out);
  } else {
    process.stderr.write(`build: could not compile ${source} with ${cc} (${r.error?.message ?? `exit ${r.status}`}); ${without}\n`);
  }
}
