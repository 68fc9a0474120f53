/** Cases for rg.ts: arguments after `rg`. */
export const RG_CASES: Array<{ args: string[]; safe: boolean; why: string }> = [
  { args: ['-n', 'foo'], safe: true, why: 'search' },
  { args: ['-g', '*.zip', 'foo'], safe: true, why: 'glob value' },
  { args: ['-gz', 'foo'], safe: true, why: 'z is the value of -g' },
  { args: ['--pre-glob', '*.x', 'foo'], safe: true, why: 'pre-glob alone runs nothing' },
  { args: ['--', '--pre', 'foo'], safe: true, why: 'after -- it is the pattern' },
  { args: ['-nz', 'foo'], safe: false, why: 'z in a group is --search-zip' },
  { args: ['-z', 'foo'], safe: false, why: 'search-zip spawns decompressors' },
  { args: ['--search-zip'], safe: false, why: 'decompressors' },
  { args: ['--search-z'], safe: false, why: 'abbreviation' },
  { args: ['--pre', 'sh', 'x'], safe: false, why: 'runs a preprocessor' },
  { args: ['--pre=./evil', 'x'], safe: false, why: 'runs a preprocessor' },
  { args: ['--pr=./evil', 'x'], safe: false, why: 'abbreviation of --pre' },
  { args: ['--hostname-bin', 'x'], safe: false, why: 'runs a program' },
  { args: ['--hostname=x'], safe: false, why: 'abbreviation of --hostname-bin' },
];
