/** sed: only `sed -n N[,M]p [FILE]` is known read-only (§1); any other script may `w` or `e`. Pure. */

const PRINT_RANGE = /^([0-9]+,)?[0-9]+p$/;

export function isSafeSed(argv: readonly string[]): boolean {
  if (argv.length > 4 || argv.length < 3) return false;
  if (argv[1] !== '-n' || !PRINT_RANGE.test(argv[2]!)) return false;
  const file = argv[3];
  // `sed -n 1p --expression=w/x` makes 1p a file name and runs the w script (stricter than Codex)
  if (file !== undefined && file.startsWith('-')) return false;
  return true;
}
