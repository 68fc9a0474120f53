/**
 * The compiled CLI a bench starts: builds dist/ first (incremental, as the test runner does), so a
 * bench never measures a dist/ older than the source. Returns bin/warden.js's absolute path.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');

export function builtWarden(): string {
  const r = spawnSync(process.execPath, [resolve(REPO, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
  return resolve(REPO, 'bin/warden.js');
}
