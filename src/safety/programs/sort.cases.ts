/** Cases for sort.ts: arguments after `sort`. */
export const SORT_CASES: Array<{ args: string[]; safe: boolean; why: string }> = [
  { args: ['-n', 'f'], safe: true, why: 'numeric sort to stdout' },
  { args: ['-k', '2,2', '-t', ',', 'f'], safe: true, why: 'key and separator values' },
  { args: ['-rnk2', 'f'], safe: true, why: 'group ending in a value option' },
  { args: ['-u', '--parallel=2', 'f'], safe: true, why: 'threads' },
  { args: ['-o', 'out', 'f'], safe: false, why: 'writes out' },
  { args: ['-oout', 'f'], safe: false, why: 'attached value' },
  { args: ['-no', 'out'], safe: false, why: 'o at the end of a group' },
  { args: ['--output=out'], safe: false, why: 'long form' },
  { args: ['--output', 'out'], safe: false, why: 'separate value' },
  { args: ['--out=x'], safe: false, why: 'abbreviation: not read' },
  { args: ['--compress-program=sh', 'f'], safe: false, why: 'runs a program' },
  { args: ['-T', '/etc', 'f'], safe: false, why: 'writes temporary files in a directory' },
  { args: ['-k', '-o', 'f'], safe: true, why: '-o is the key value here, not an option' },
  { args: ['--', '-o'], safe: true, why: 'a file named -o' },
];
