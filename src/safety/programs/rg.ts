/** ripgrep: read-only unless it spawns a preprocessor, hostname helper or decompressor (§1). Pure. */
import { abbreviates, isShortGroup } from './flags.ts';

/** Short options that take a value: in `-gz` the `z` is the glob, not --search-zip. */
const SHORT_WITH_VALUE = new Set(['A', 'B', 'C', 'd', 'E', 'e', 'f', 'g', 'j', 'M', 'm', 'r', 'T', 't']);

/** Long options that run another program. */
const SPAWNING = ['--pre', '--hostname-bin', '--search-zip'];

export function isSafeRg(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') break;
    // --pre CMD / --hostname-bin CMD run CMD; --search-zip runs gzip, xz ... (and abbreviations)
    if (SPAWNING.some((opt) => arg === opt || arg.startsWith(`${opt}=`) || abbreviates(arg, opt, 3))) return false;
    // -z is --search-zip, alone or inside a group like -nz (stricter than Codex)
    if (isShortGroup(arg) && shortGroupSpawns(arg)) return false;
  }
  return true;
}

function shortGroupSpawns(arg: string): boolean {
  for (const ch of arg.slice(1)) {
    if (ch === 'z') return true;
    if (SHORT_WITH_VALUE.has(ch)) return false; // the rest of the group is this option's value
  }
  return false;
}
