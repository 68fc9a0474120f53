/** Cases for find.ts: arguments after `find`. */
export const FIND_CASES: Array<{ args: string[]; safe: boolean; why: string }> = [
  { args: ['.', '-name', '*.ts'], safe: true, why: 'reads' },
  { args: ['.', '-type', 'f', '-print0'], safe: true, why: 'prints to stdout' },
  { args: ['.', '-printf', '%p\n'], safe: true, why: 'stdout only' },
  { args: ['.', '-exec', 'cat', '{}', ';'], safe: false, why: 'runs a program' },
  { args: ['.', '-execdir', 'sh', '-c', 'x', ';'], safe: false, why: 'runs a program' },
  { args: ['.', '-ok', 'rm', '{}', ';'], safe: false, why: 'runs a program' },
  { args: ['.', '-okdir', 'rm', '{}', ';'], safe: false, why: 'runs a program' },
  { args: ['.', '-delete'], safe: false, why: 'deletes' },
  { args: ['.', '-fprint', '/tmp/x'], safe: false, why: 'writes a file' },
  { args: ['.', '-fprint0', 'x'], safe: false, why: 'writes a file' },
  { args: ['.', '-fprintf', 'x', '%p'], safe: false, why: 'writes a file' },
  { args: ['.', '-fls', 'x'], safe: false, why: 'writes a file' },
];
