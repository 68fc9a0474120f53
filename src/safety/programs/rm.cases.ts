/** Cases for rm.ts: arguments after `rm`. */
export const RM_CASES: Array<{ args: string[]; dangerous: boolean; why: string }> = [
  { args: ['x'], dangerous: false, why: 'one file, prompts on write-protected' },
  { args: ['-i', 'x'], dangerous: false, why: 'interactive' },
  { args: ['-v', 'x'], dangerous: false, why: 'verbose' },
  { args: ['-rf', '/'], dangerous: true, why: 'Codex rule' },
  { args: ['-f', 'x'], dangerous: true, why: 'Codex rule' },
  { args: ['-r', '-f', 'x'], dangerous: true, why: 'split flags' },
  { args: ['x', '-rf'], dangerous: true, why: 'flags after the operand' },
  { args: ['-fR', 'x'], dangerous: true, why: 'capital R' },
  { args: ['-vfr', 'x'], dangerous: true, why: 'group' },
  { args: ['--recursive', '--force', 'x'], dangerous: true, why: 'long forms' },
  { args: ['--rec', 'x'], dangerous: true, why: 'abbreviation' },
  { args: ['--f', 'x'], dangerous: true, why: 'abbreviation' },
  { args: ['-r', 'dir'], dangerous: true, why: 'recursive alone removes trees' },
  { args: ['--no-preserve-root', '/'], dangerous: true, why: 'explicitly unsafe' },
  { args: ['--', '-rf'], dangerous: false, why: 'a file named -rf' },
  { args: ['-d', 'emptydir'], dangerous: false, why: 'empty dir only' },
];
