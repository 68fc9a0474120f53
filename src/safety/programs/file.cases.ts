/** Cases for file.ts: arguments after `file`. */
export const FILE_CASES: Array<{ args: string[]; safe: boolean; why: string }> = [
  { args: ['a.bin'], safe: true, why: 'reads' },
  { args: ['-b', '--mime-type', 'a'], safe: true, why: 'prints' },
  { args: ['-L', '-f', 'list'], safe: true, why: 'names from a file' },
  { args: ['-m', 'magic', 'a'], safe: true, why: 'reads a magic file' },
  { args: ['-m', 'magic', '-f', 'list'], safe: false, why: "redteam3: the agent's magic prints the contents of files named in the list" },
  { args: ['-fmagic', 'list', '--magic-file=m'], safe: false, why: 'attached and long spellings, options after operands' },
  { args: ['-C', '-m', 'x'], safe: false, why: 'compiles: writes x.mgc' },
  { args: ['--compile'], safe: false, why: 'long form' },
  { args: ['-bC'], safe: false, why: 'in a group' },
  { args: ['-z', 'a.gz'], safe: false, why: 'runs decompressors' },
  { args: ['-Z', 'a.gz'], safe: false, why: 'runs decompressors' },
  { args: ['-p', 'a'], safe: false, why: 'writes access times' },
  { args: ['-S', 'a'], safe: false, why: 'turns off file\'s own sandbox' },
];
