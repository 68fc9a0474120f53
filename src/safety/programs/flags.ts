/**
 * Small helpers the program rules share for reading option syntax: short-flag groups (`-rfv`) and
 * long options that getopt_long and git's parse-options accept in abbreviated form (`--outp`).
 * Pure.
 */

/** `-abc` style group: one dash, at least one letter, not `--`. */
export function isShortGroup(arg: string): boolean {
  return arg.length > 1 && arg.startsWith('-') && !arg.startsWith('--');
}

/** True when `arg` is a short-flag group holding any of `letters`. */
export function shortGroupHas(arg: string, letters: string): boolean {
  if (!isShortGroup(arg)) return false;
  for (const ch of arg.slice(1)) if (letters.includes(ch)) return true;
  return false;
}

/** The name part of a long option: `--output=x` gives `--output`; null if not a long option. */
export function longName(arg: string): string | null {
  if (!arg.startsWith('--') || arg.length <= 2) return null;
  const eq = arg.indexOf('=');
  return eq < 0 ? arg : arg.slice(0, eq);
}

/**
 * True when `arg` names `option` or an abbreviation of it (getopt_long and git accept any unique
 * prefix, so `--outp=x` is `--output=x`). `minLength` is the shortest prefix counted, dashes included.
 */
export function abbreviates(arg: string, option: string, minLength = 3): boolean {
  const name = longName(arg);
  return name !== null && name.length >= minLength && option.startsWith(name);
}
