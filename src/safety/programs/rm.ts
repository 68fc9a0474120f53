/**
 * rm: dangerous when it forces or recurses, in any order, position, group or long form (stricter
 * than Codex, which only looks at argv[1] being exactly `-f` or `-rf`). Pure.
 */
import { isShortGroup, longName } from './flags.ts';

const LONG_DANGEROUS = ['--force', '--recursive', '--no-preserve-root'];

export function isDangerousRm(args: readonly string[]): boolean {
  for (const arg of args) {
    // after -- everything is a file name, even `-rf`
    if (arg === '--') return false;
    if (isShortGroup(arg) && /[frR]/.test(arg.slice(1))) return true;
    const name = longName(arg);
    // getopt_long takes unique prefixes: --forc, --rec; --f and --r are already unique for rm
    if (name !== null && LONG_DANGEROUS.some((opt) => opt.startsWith(name))) return true;
  }
  return false;
}
