/**
 * The small read-only tools (coreutils and friends) with their allow-listed options, written from
 * the GNU man pages (coreutils 9.x, util-linux rev, debianutils which). None of them has an option
 * that runs a program or writes a file, so their risky tables are empty; what the table buys is
 * that a flag we have not read (a future `--exec`, an abbreviation, a value where none is taken)
 * is not waved through. They share one file because each is a few lines; the larger tools (git,
 * rg, find, sort, file, sed, base64, uniq) have their own. Pure.
 */
import { type OptionTable, type RiskyOption, type SafeVerdict, SAFE, checkWithTable, optionTable } from './optionTable.ts';

export interface TableRule {
  readonly table: OptionTable;
  readonly risky: readonly RiskyOption[];
}

const HELP = ['help', 'version'];

export const COREUTILS: Readonly<Record<string, TableRule>> = {
  cat: {
    table: optionTable({
      short: 'AbeEnstTuv',
      long: ['show-all', 'number-nonblank', 'number', 'squeeze-blank', 'show-ends', 'show-tabs', 'show-nonprinting', ...HELP],
    }),
    risky: [],
  },
  cut: {
    table: optionTable({
      short: 'b:c:d:f:nsz',
      long: ['bytes=', 'characters=', 'delimiter=', 'fields=', 'complement', 'only-delimited', 'output-delimiter=', 'zero-terminated', ...HELP],
    }),
    risky: [],
  },
  head: {
    table: optionTable({ short: 'c:n:qvz', long: ['bytes=', 'lines=', 'quiet', 'silent', 'verbose', 'zero-terminated', ...HELP], numeric: true }),
    risky: [],
  },
  tail: {
    table: optionTable({
      short: 'c:fFn:qs:vz',
      long: ['bytes=', 'follow=?', 'lines=', 'max-unchanged-stats=', 'pid=', 'quiet', 'retry', 'silent', 'sleep-interval=', 'verbose', 'zero-terminated', ...HELP],
      numeric: true,
    }),
    risky: [],
  },
  id: {
    table: optionTable({ short: 'aZgGnruz', long: ['context', 'group', 'groups', 'name', 'real', 'user', 'zero', ...HELP] }),
    risky: [],
  },
  ls: {
    table: optionTable({
      short: 'aAbBcCdDfFgGhHiI:klLmnNopqQrRsStT:uUvw:xXZ1',
      long: [
        'all', 'almost-all', 'author', 'escape', 'block-size=', 'ignore-backups', 'color=?', 'colour=?', 'directory', 'dired',
        'classify=?', 'file-type', 'format=', 'full-time', 'group-directories-first', 'no-group', 'human-readable', 'si',
        'dereference-command-line', 'dereference-command-line-symlink-to-dir', 'hide=', 'hyperlink=?', 'indicator-style=',
        'inode', 'ignore=', 'kibibytes', 'dereference', 'literal', 'numeric-uid-gid', 'hide-control-chars',
        'show-control-chars', 'quote-name', 'quoting-style=', 'reverse', 'recursive', 'size', 'sort=', 'time=', 'time-style=',
        'tabsize=', 'width=', 'context', 'zero', ...HELP,
      ],
    }),
    risky: [],
  },
  nl: {
    table: optionTable({
      short: 'b:d:f:h:i:l:n:ps:v:w:',
      long: [
        'body-numbering=', 'section-delimiter=', 'footer-numbering=', 'header-numbering=', 'line-increment=', 'join-blank-lines=',
        'number-format=', 'no-renumber', 'number-separator=', 'starting-line-number=', 'number-width=', ...HELP,
      ],
    }),
    risky: [],
  },
  paste: {
    table: optionTable({ short: 'd:sz', long: ['delimiters=', 'serial', 'zero-terminated', ...HELP] }),
    risky: [],
  },
  pwd: { table: optionTable({ short: 'LP', long: ['logical', 'physical', ...HELP] }), risky: [] },
  // the shell builtin: only -L -P (and -e/-@ in bash), and it changes nothing on disk
  cd: { table: optionTable({ short: 'LPe@', long: [] }), risky: [] },
  rev: { table: optionTable({ short: '0hV', long: ['zero', ...HELP] }), risky: [] },
  seq: {
    table: optionTable({ short: 'f:s:w', long: ['format=', 'separator=', 'equal-width', ...HELP] }),
    risky: [],
  },
  stat: {
    table: optionTable({ short: 'Lfc:t', long: ['dereference', 'file-system', 'cached=', 'format=', 'printf=', 'terse', ...HELP] }),
    risky: [],
  },
  tr: {
    table: optionTable({ short: 'cCdst', long: ['complement', 'delete', 'squeeze-repeats', 'truncate-set1', ...HELP] }),
    risky: [],
  },
  uname: {
    table: optionTable({
      short: 'asnrvmpio',
      long: ['all', 'kernel-name', 'nodename', 'kernel-release', 'kernel-version', 'machine', 'processor', 'hardware-platform', 'operating-system', ...HELP],
    }),
    risky: [],
  },
  wc: {
    table: optionTable({ short: 'cmlLw', long: ['bytes', 'chars', 'lines', 'files0-from=', 'max-line-length', 'words', 'total=', ...HELP] }),
    risky: [],
  },
  which: { table: optionTable({ short: 'as', long: [] }), risky: [] },
  whoami: { table: optionTable({ long: HELP }), risky: [] },
  grep: {
    table: optionTable({
      short: 'EFGPe:f:iyvwxcLlm:oqsbHhnTZzA:B:C:aD:d:IrRUuV',
      long: [
        'extended-regexp', 'fixed-strings', 'basic-regexp', 'perl-regexp', 'regexp=', 'file=', 'ignore-case', 'no-ignore-case',
        'invert-match', 'word-regexp', 'line-regexp', 'count', 'color=?', 'colour=?', 'files-without-match',
        'files-with-matches', 'max-count=', 'only-matching', 'quiet', 'silent', 'no-messages', 'byte-offset', 'with-filename',
        'no-filename', 'label=', 'line-number', 'initial-tab', 'null', 'null-data', 'after-context=', 'before-context=',
        'context=', 'text', 'binary-files=', 'devices=', 'directories=', 'exclude=', 'exclude-from=', 'exclude-dir=',
        'include=', 'recursive', 'dereference-recursive', 'line-buffered', 'binary', 'unix-byte-offsets', ...HELP,
      ],
      numeric: true,
    }),
    risky: [],
  },
  numfmt: {
    table: optionTable({
      short: 'd:z',
      long: [
        'debug', 'delimiter=', 'field=', 'format=', 'from=', 'from-unit=', 'grouping', 'header=?', 'invalid=', 'padding=',
        'round=', 'suffix=', 'to=', 'to-unit=', 'zero-terminated', ...HELP,
      ],
    }),
    risky: [],
  },
  tac: { table: optionTable({ short: 'brs:', long: ['before', 'regex', 'separator=', ...HELP] }), risky: [] },
};

/**
 * Read-only with any arguments at all: they read no option that does anything but print (`echo`
 * prints its words, `true`/`false` ignore theirs, `expr` evaluates its words).
 */
export const ANY_ARGUMENTS: ReadonlySet<string> = new Set(['echo', 'true', 'false', 'expr']);

/** GNU-only tools Codex lists only in its Linux build. */
export const LINUX_ONLY: ReadonlySet<string> = new Set(['numfmt', 'tac']);

export function checkCoreutil(name: string, args: readonly string[]): SafeVerdict | null {
  if (ANY_ARGUMENTS.has(name)) return SAFE;
  const rule = COREUTILS[name];
  if (rule === undefined || !Object.hasOwn(COREUTILS, name)) return null;
  return checkWithTable(name, rule.table, rule.risky, args);
}
