/** find: read-only unless an action runs a program, deletes, or writes a file (§1). Pure. */

/** Actions that run a program for each match. */
export const FIND_EXEC_ACTIONS: ReadonlySet<string> = new Set(['-exec', '-execdir', '-ok', '-okdir']);

const FIND_WRITE_ACTIONS = new Set([
  '-delete', // removes the matches
  '-fls', '-fprint', '-fprint0', '-fprintf', // write their output to a named file
]);

export function isSafeFind(args: readonly string[]): boolean {
  // find has no option abbreviations and no combined forms, so exact tokens are complete
  return !args.some((a) => FIND_EXEC_ACTIONS.has(a) || FIND_WRITE_ACTIONS.has(a));
}
