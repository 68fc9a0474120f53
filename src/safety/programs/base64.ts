/** base64: read-only unless told to write an output file (BSD/macOS `-o`, `--output`). Pure. */
import { abbreviates, isShortGroup } from './flags.ts';

export function isSafeBase64(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') break;
    // --output FILE / --output=FILE / --outp (getopt_long abbreviation) write FILE
    if (arg === '--output' || arg.startsWith('--output=') || abbreviates(arg, '--output', 3)) return false;
    // -o FILE, -oFILE, and -do FILE (o inside a short group, stricter than Codex)
    if (isShortGroup(arg) && arg.slice(1).includes('o')) return false;
  }
  return true;
}
