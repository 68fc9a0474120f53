/** sed: only `sed -n N[,M]p [FILE]` is known read-only (§1); any other script may `w` or `e`. Pure. */
import { type RiskyOption, type SafeVerdict, SAFE, notSafe } from './optionTable.ts';

const PRINT_RANGE = /^([0-9]+,)?[0-9]+p$/;

/** For the rule checks: sed options that write or run (a script can also do both: see isSafeSed). */
export const SED_RISKY: readonly RiskyOption[] = [
  // sed -i rewrites files in place
  { option: '--in-place', kind: 'write', why: 'rewrites files in place' },
  { option: '-i', kind: 'write', why: 'rewrites files in place' },
  // -e/-f scripts may `w FILE` or `e CMD`
  { option: '--expression', kind: 'exec', why: 'adds a script that may write or run commands' },
  { option: '-e', kind: 'exec', why: 'adds a script that may write or run commands' },
  { option: '--file', kind: 'exec', why: 'reads a script that may write or run commands' },
  { option: '-f', kind: 'exec', why: 'reads a script that may write or run commands' },
];

export function checkSed(args: readonly string[]): SafeVerdict {
  if (args.length > 3 || args.length < 2) return notSafe(args[0] ?? 'sed', 'sed is known-safe only as `sed -n N[,M]p [FILE]`');
  if (args[0] !== '-n') return notSafe(args[0]!, 'sed is known-safe only as `sed -n N[,M]p [FILE]`');
  if (!PRINT_RANGE.test(args[1]!)) return notSafe(args[1]!, 'a sed script other than N[,M]p may write (w) or run (e)');
  const file = args[2];
  // `sed -n 1p --expression=w/x` makes 1p a file name and runs the w script (stricter than Codex)
  if (file !== undefined && file.startsWith('-')) return notSafe(file, 'an option in the file position');
  return SAFE;
}

/** Boolean form over the full argv (argv[0] is sed), kept for the case tables. */
export function isSafeSed(argv: readonly string[]): boolean {
  return checkSed(argv.slice(1)).safe;
}
