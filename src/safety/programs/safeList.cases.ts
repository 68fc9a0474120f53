/** Cases for safeList.ts: [args after the program name, expected]. */
export const UNIQ_CASES: Array<{ args: string[]; safe: boolean; why: string }> = [
  { args: [], safe: true, why: 'stdin to stdout' },
  { args: ['-c'], safe: true, why: 'count' },
  { args: ['-c', 'in.txt'], safe: true, why: 'one input' },
  { args: ['in.txt', 'out.txt'], safe: false, why: 'second operand is written' },
  { args: ['-', 'out.txt'], safe: false, why: 'stdin in, file out' },
  { args: ['--', 'in', 'out'], safe: false, why: 'operands after --' },
  { args: ['-f', '1', 'in'], safe: false, why: 'option value counted as operand (conservative)' },
  { args: ['-u', '-i', 'in'], safe: true, why: 'flags only plus one input' },
];

export const UNCONDITIONAL_CASES: Array<{ name: string; platform: NodeJS.Platform; safe: boolean }> = [
  { name: 'ls', platform: 'linux', safe: true },
  { name: 'cat', platform: 'darwin', safe: true },
  { name: 'numfmt', platform: 'linux', safe: true },
  { name: 'numfmt', platform: 'darwin', safe: false },
  { name: 'tac', platform: 'win32', safe: false },
  { name: 'uniq', platform: 'linux', safe: false },
  { name: 'less', platform: 'linux', safe: false },
  { name: 'more', platform: 'linux', safe: false },
  { name: 'tee', platform: 'linux', safe: false },
  { name: 'sort', platform: 'linux', safe: false },
  { name: 'env', platform: 'linux', safe: false },
  { name: 'xargs', platform: 'linux', safe: false },
  { name: 'LS', platform: 'linux', safe: false },
];
