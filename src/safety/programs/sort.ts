/**
 * sort: read-only except where an option names a file to write or a program to run. Options from
 * GNU coreutils 9 sort(1). Pure.
 */
import { type RiskyOption, type SafeVerdict, checkWithTable, optionTable } from './optionTable.ts';

export const SORT_TABLE = optionTable({
  short: 'bdfgiMhnRrVcCk:mo:sS:t:T:uz',
  long: [
    'ignore-leading-blanks', 'dictionary-order', 'ignore-case', 'general-numeric-sort', 'ignore-nonprinting', 'month-sort',
    'human-numeric-sort', 'numeric-sort', 'random-sort', 'random-source=', 'reverse', 'sort=', 'version-sort',
    'batch-size=', 'check=?', 'compress-program=', 'debug', 'files0-from=', 'key=', 'merge', 'output=', 'stable',
    'buffer-size=', 'field-separator=', 'temporary-directory=', 'parallel=', 'unique', 'zero-terminated', 'help', 'version',
  ],
  same: [['o', 'output'], ['T', 'temporary-directory']],
});

export const SORT_RISKY: readonly RiskyOption[] = [
  // sort -o FILE truncates and writes FILE (sort -o ~/.bashrc)
  { option: '--output', kind: 'write', why: 'writes a file' },
  // --compress-program=PROG runs PROG on temporary files
  { option: '--compress-program', kind: 'exec', why: 'runs a program' },
  // -T DIR creates temporary files in DIR
  { option: '--temporary-directory', kind: 'write', why: 'writes files in a directory' },
];

export function checkSort(args: readonly string[]): SafeVerdict {
  return checkWithTable('sort', SORT_TABLE, SORT_RISKY, args);
}
