/**
 * find (GNU findutils 4.9): an expression language rather than options, so the table is of
 * primaries with the number of words each takes. Any primary not listed (a new action, `-fls`,
 * a typo) makes the command not known-safe; the risky ones run programs, delete or write files.
 * Layout read as find does: leading `-H -L -P -D x -Ox`, then paths (words before the first
 * `-`, `(`, `!` or `,`), then the expression. Pure.
 */
import { type RiskyOption, type SafeVerdict, SAFE, notSafe } from './optionTable.ts';

/** Actions that run a program for each match; the words up to `;` or `+` are the command. */
export const FIND_EXEC_ACTIONS: ReadonlySet<string> = new Set(['-exec', '-execdir', '-ok', '-okdir']);

export const FIND_RISKY: readonly RiskyOption[] = [
  ...[...FIND_EXEC_ACTIONS].map((option): RiskyOption => ({ option, kind: 'exec', why: 'runs a program for each match' })),
  { option: '-delete', kind: 'write', why: 'deletes the matches' },
  { option: '-fls', kind: 'write', why: 'writes a file' },
  { option: '-fprint', kind: 'write', why: 'writes a file' },
  { option: '-fprint0', kind: 'write', why: 'writes a file' },
  { option: '-fprintf', kind: 'write', why: 'writes a file' },
];

/** Read-only primaries and how many words follow each. */
const PRIMARIES: ReadonlyMap<string, number> = new Map([
  // tests
  ...['-name', '-iname', '-path', '-ipath', '-wholename', '-iwholename', '-regex', '-iregex', '-lname', '-ilname', '-type',
    '-xtype', '-size', '-mtime', '-mmin', '-atime', '-amin', '-ctime', '-cmin', '-newer', '-anewer', '-cnewer', '-perm',
    '-user', '-group', '-uid', '-gid', '-links', '-inum', '-samefile', '-fstype', '-used', '-context'].map((p) => [p, 1] as const),
  // -newerXY REF
  ...[...'aBcm'].flatMap((x) => [...'aBcmt'].map((y) => [`-newer${x}${y}`, 1] as const)),
  ...['-empty', '-executable', '-readable', '-writable', '-nouser', '-nogroup', '-true', '-false'].map((p) => [p, 0] as const),
  // options that look like primaries
  ...['-maxdepth', '-mindepth', '-regextype'].map((p) => [p, 1] as const),
  ...['-depth', '-d', '-mount', '-xdev', '-noleaf', '-follow', '-ignore_readdir_race', '-noignore_readdir_race', '-daystart',
    '-nowarn', '-warn'].map((p) => [p, 0] as const),
  // actions that only print to stdout or stop
  ...['-print', '-print0', '-ls', '-prune', '-quit'].map((p) => [p, 0] as const),
  ['-printf', 1],
  // operators
  ...['!', '-not', '-a', '-and', '-o', '-or', ',', '(', ')'].map((p) => [p, 0] as const),
]);

export function checkFind(args: readonly string[]): SafeVerdict {
  let i = 0;
  // leading options: -H -L -P, -D debugopts, -Olevel
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-H' || a === '-L' || a === '-P' || /^-O[0-3]$/.test(a)) continue;
    if (a === '-D') return notSafe(a, 'find -D debug options are not known to warden');
    break;
  }
  // paths
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-') || a === '(' || a === '!' || a === ',' || a === ')') break;
  }
  // the expression
  for (; i < args.length; i++) {
    const a = args[i]!;
    const risky = FIND_RISKY.find((r) => r.option === a);
    if (risky !== undefined) return notSafe(a, `\`find ${a}\` ${risky.why}`);
    const arity = PRIMARIES.get(a);
    if (arity === undefined) return notSafe(a, `find: \`${a}\` is not a primary warden knows`);
    if (arity > 0 && i + arity >= args.length) return notSafe(a, `find: \`${a}\` needs a value`);
    i += arity;
  }
  return SAFE;
}
