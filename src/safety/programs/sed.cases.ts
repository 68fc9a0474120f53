/** Cases for sed.ts: full argv. */
export const SED_CASES: Array<{ argv: string[]; safe: boolean; why: string }> = [
  { argv: ['sed', '-n', '1,5p', 'f'], safe: true, why: 'print a range' },
  { argv: ['sed', '-n', '10p'], safe: true, why: 'stdin' },
  { argv: ['sed', '-n', '1p', '--expression=w/tmp/x'], safe: false, why: 'a -e script makes 1p a file and w writes' },
  { argv: ['sed', '-n', '1p', '-i'], safe: false, why: 'option in the file slot' },
  { argv: ['sed', '-n', '1w/tmp/x'], safe: false, why: 'w writes' },
  { argv: ['sed', '-n', '1e id'], safe: false, why: 'e executes' },
  { argv: ['sed', '-n', '$p', 'f'], safe: false, why: 'not a numeric range' },
  { argv: ['sed', '-n', '١p', 'f'], safe: false, why: 'only ASCII digits' },
  { argv: ['sed', '-e', '1p', 'f'], safe: false, why: 'must be -n' },
  { argv: ['sed', '-n'], safe: false, why: 'no script' },
  { argv: ['sed', '-n', '1p', 'a', 'b'], safe: false, why: 'too many args' },
];
