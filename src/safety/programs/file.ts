/**
 * file(1) (file 5.x): read-only except `-C` (compiles a magic file, writing `NAME.mgc`), `-z`/`-Z`
 * (libmagic forks external decompressors for compressed input), `-p` (resets access times with
 * utime), and `-S` (turns off file's own seccomp sandbox, so it is not in the accepted table). Pure.
 */
import { type RiskyOption, type SafeVerdict, SAFE, checkWithTable, notSafe, optionTable } from './optionTable.ts';

export const FILE_TABLE = optionTable({
  short: 'bcCdEe:F:f:hiklLm:NnP:prszZ0v',
  long: [
    'brief', 'checking-printout', 'compile', 'exclude=', 'exclude-quiet=', 'extension', 'separator=', 'files-from=',
    'no-dereference', 'mime', 'mime-type', 'mime-encoding', 'keep-going', 'list', 'dereference', 'magic-file=', 'no-pad',
    'no-buffer', 'parameter=', 'preserve-date', 'raw', 'special-files', 'uncompress', 'uncompress-noreport', 'print0',
    'apple', 'help', 'version',
  ],
  same: [['C', 'compile'], ['z', 'uncompress'], ['Z', 'uncompress-noreport'], ['p', 'preserve-date'], ['f', 'files-from'], ['m', 'magic-file']],
});

export const FILE_RISKY: readonly RiskyOption[] = [
  // file -C -m evil writes evil.mgc
  { option: '--compile', kind: 'write', why: 'writes a compiled magic file' },
  // file -z runs gzip, bzip2, xz ... on the input
  { option: '--uncompress', kind: 'exec', why: 'runs decompressor programs' },
  { option: '--uncompress-noreport', kind: 'exec', why: 'runs decompressor programs' },
  // file -p writes access times back
  { option: '--preserve-date', kind: 'write', why: 'writes file times' },
];

/**
 * A magic file of the agent's own prints what it likes of each file (`0 string x %s` prints the
 * first line), and `-f LIST` reads the names from a file warden cannot see: together they print
 * ~/.ssh/id_rsa's contents with no word naming it (redteam3). Either alone is a plain read: the
 * system magic prints types, and the agent's magic prints only files the argv names.
 */
export function checkFile(args: readonly string[]): SafeVerdict {
  return checkWithTable('file', FILE_TABLE, FILE_RISKY, args, (read) => {
    const list = read.options.find((o) => o.name === '--files-from');
    const magic = read.options.find((o) => o.name === '--magic-file');
    if (list !== undefined && magic !== undefined) {
      return notSafe(list.word, `\`file ${magic.word} ... ${list.word}\`: the agent's magic prints the contents of files named in a list warden cannot see`);
    }
    return SAFE;
  });
}
