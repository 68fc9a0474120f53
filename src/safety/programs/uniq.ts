/** uniq: `uniq [OPTION]... [INPUT [OUTPUT]]`; a second operand is a file it truncates and writes. Pure. */
import { type RiskyOption, type SafeVerdict, SAFE, checkWithTable, notSafe, optionTable } from './optionTable.ts';

export const UNIQ_TABLE = optionTable({
  short: 'cdDf:is:uw:z',
  long: [
    'count', 'repeated', 'all-repeated=?', 'skip-fields=', 'group=?', 'ignore-case', 'skip-chars=', 'unique', 'check-chars=',
    'zero-terminated', 'help', 'version',
  ],
  numeric: true,
});

export const UNIQ_RISKY: readonly RiskyOption[] = [];

export function checkUniq(args: readonly string[]): SafeVerdict {
  return checkWithTable('uniq', UNIQ_TABLE, UNIQ_RISKY, args, (read) => {
    // uniq IN OUT writes OUT
    const out = read.operands[1];
    return out === undefined ? SAFE : notSafe(out, `\`uniq IN ${out}\` writes its second operand`);
  });
}
