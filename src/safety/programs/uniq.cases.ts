/** Cases for uniq.ts: arguments after `uniq`. */
export const UNIQ_CASES: Array<{ args: string[]; safe: boolean; why: string }> = [
  { args: [], safe: true, why: 'stdin to stdout' },
  { args: ['-c'], safe: true, why: 'count' },
  { args: ['-c', 'in.txt'], safe: true, why: 'one input' },
  { args: ['in.txt', 'out.txt'], safe: false, why: 'second operand is written' },
  { args: ['-', 'out.txt'], safe: false, why: 'stdin in, file out' },
  { args: ['--', 'in', 'out'], safe: false, why: 'operands after --' },
  { args: ['-f', '1', 'in'], safe: true, why: '-f takes a value: one operand' },
  { args: ['-u', '-i', 'in'], safe: true, why: 'flags plus one input' },
  { args: ['--output=x'], safe: false, why: 'not a uniq option' },
];
