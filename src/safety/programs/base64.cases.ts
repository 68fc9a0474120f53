/** Cases for base64.ts: arguments after `base64`. */
export const BASE64_CASES: Array<{ args: string[]; safe: boolean; why: string }> = [
  { args: [], safe: true, why: 'stdin to stdout' },
  { args: ['-d', 'in.b64'], safe: true, why: 'decode to stdout' },
  { args: ['-w', '0', 'f'], safe: true, why: 'wrap' },
  { args: ['-o', 'out'], safe: false, why: 'writes out' },
  { args: ['-oout'], safe: false, why: 'inline value' },
  { args: ['-do', 'out'], safe: false, why: 'o inside a group' },
  { args: ['--output', 'out'], safe: false, why: 'writes out' },
  { args: ['--output=out'], safe: false, why: 'writes out' },
  { args: ['--outp=out'], safe: false, why: 'getopt abbreviation' },
  { args: ['--', '-o'], safe: true, why: 'file named -o' },
];
