/**
 * ripgrep (rg 13/14): read-only unless it spawns a preprocessor, hostname helper or decompressor.
 * Options from `rg --help`; rg takes no abbreviations, groups short flags and reads a short
 * option's value attached (`-g*.py`) or as the next word. Pure.
 */
import { type RiskyOption, type SafeVerdict, checkWithTable, optionTable } from './optionTable.ts';

const NEGATABLE = [
  'binary', 'block-buffered', 'byte-offset', 'column', 'config', 'context-separator', 'crlf', 'encoding', 'fixed-strings',
  'follow', 'glob-case-insensitive', 'heading', 'hidden', 'ignore', 'ignore-dot', 'ignore-exclude', 'ignore-files',
  'ignore-global', 'ignore-parent', 'ignore-vcs', 'ignore-file-case-insensitive', 'include-zero', 'invert-match', 'json',
  'line-buffered', 'line-number', 'max-columns-preview', 'messages', 'mmap', 'multiline', 'multiline-dotall', 'one-file-system',
  'pcre2', 'pcre2-unicode', 'pre', 'require-git', 'search-zip', 'sort-files', 'stats', 'text', 'trim', 'unicode', 'filename',
  'ignore-messages', 'auto-hybrid-regex', 'hyperlink',
];

export const RG_TABLE = optionTable({
  short: 'A:B:C:E:FHIL.NPSUVab0ce:f:g:hij:lM:m:nopqr:sT:t:uvwxd:z',
  long: [
    'after-context=', 'before-context=', 'context=', 'color=', 'colors=', 'context-separator=', 'max-depth=', 'maxdepth=',
    'dfa-size-limit=', 'encoding=', 'regexp=', 'file=', 'field-context-separator=', 'field-match-separator=', 'glob=', 'iglob=',
    'engine=', 'ignore-file=', 'threads=', 'max-columns=', 'max-count=', 'max-filesize=', 'path-separator=',
    'regex-size-limit=', 'replace=', 'sort=', 'sortr=', 'type=', 'type-not=', 'type-add=', 'type-clear=', 'hyperlink-format=',
    'pre-glob=', 'generate=', 'text', 'byte-offset', 'binary', 'block-buffered', 'count', 'count-matches', 'column', 'crlf',
    'debug', 'trace', 'fixed-strings', 'files', 'files-with-matches', 'files-without-match', 'follow', 'glob-case-insensitive',
    'heading', 'hidden', 'ignore-case', 'ignore-file-case-insensitive', 'include-zero', 'invert-match', 'json', 'line-buffered',
    'line-number', 'line-regexp', 'max-columns-preview', 'mmap', 'multiline', 'multiline-dotall', 'null', 'null-data',
    'one-file-system', 'only-matching', 'passthru', 'passthrough', 'pcre2', 'pcre2-version', 'pretty', 'quiet',
    'case-sensitive', 'smart-case', 'sort-files', 'stats', 'stop-on-nonmatch', 'trim', 'type-list', 'unrestricted',
    'vimgrep', 'with-filename', 'word-regexp', 'auto-hybrid-regex', 'unicode', 'help', 'version',
    'pre=', 'hostname-bin=', 'search-zip',
    ...NEGATABLE.map((n) => `no-${n}`),
  ],
  same: [['z', 'search-zip']],
});

export const RG_RISKY: readonly RiskyOption[] = [
  // --pre CMD runs CMD on every searched file (rg --pre ./evil.sh x)
  { option: '--pre', kind: 'exec', why: 'runs a preprocessor program' },
  // --hostname-bin CMD runs CMD to get the hostname for hyperlinks
  { option: '--hostname-bin', kind: 'exec', why: 'runs a program' },
  // -z / --search-zip spawn gzip, xz, bzip2 ... found on PATH
  { option: '--search-zip', kind: 'exec', why: 'runs decompressor programs' },
];

export function checkRg(args: readonly string[]): SafeVerdict {
  return checkWithTable('rg', RG_TABLE, RG_RISKY, args);
}
