/** base64 (GNU coreutils; BSD/macOS `-o`/`--output` writes a file). Pure. */
import { type RiskyOption, type SafeVerdict, checkWithTable, optionTable } from './optionTable.ts';

export const BASE64_TABLE = optionTable({
  short: 'diw:o:',
  long: ['decode', 'ignore-garbage', 'wrap=', 'output=', 'help', 'version'],
  same: [['o', 'output']],
});

export const BASE64_RISKY: readonly RiskyOption[] = [
  // base64 -o FILE (BSD) writes FILE
  { option: '--output', kind: 'write', why: 'writes a file' },
];

export function checkBase64(args: readonly string[]): SafeVerdict {
  return checkWithTable('base64', BASE64_TABLE, BASE64_RISKY, args);
}
