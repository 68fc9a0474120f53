/**
 * Programs that are read-only whatever their arguments (CODEX-REFERENCE §1), and `uniq`, which is
 * not: `uniq IN OUT` writes OUT. Pure.
 */

/** Read-only with any arguments (Codex's list, minus `uniq`, which has its own rule below). */
export const UNCONDITIONALLY_SAFE: ReadonlySet<string> = new Set([
  'cat', 'cd', 'cut', 'echo', 'expr', 'false', 'grep', 'head', 'id', 'ls', 'nl', 'paste', 'pwd',
  'rev', 'seq', 'stat', 'tail', 'tr', 'true', 'uname', 'wc', 'which', 'whoami',
]);

/** GNU-only tools Codex lists only in its Linux build. */
export const LINUX_ONLY_SAFE: ReadonlySet<string> = new Set(['numfmt', 'tac']);

export function isUnconditionallySafe(name: string, platform: NodeJS.Platform = process.platform): boolean {
  return UNCONDITIONALLY_SAFE.has(name) || (platform === 'linux' && LINUX_ONLY_SAFE.has(name));
}

/**
 * `uniq [OPTION]... [INPUT [OUTPUT]]`: a second operand is a file it truncates and writes
 * (Codex lists uniq unconditionally). We count every non-dash word as an operand, so an option
 * value (`-f 2`) also counts: refusing `uniq -f 2 file` is the cheap, safe error.
 */
export function isSafeUniq(args: readonly string[]): boolean {
  let operands = 0;
  let afterDashDash = false;
  for (const arg of args) {
    if (!afterDashDash && arg === '--') {
      afterDashDash = true;
      continue;
    }
    if (afterDashDash || arg === '-' || !arg.startsWith('-')) operands += 1;
  }
  // uniq IN OUT writes OUT
  return operands <= 1;
}
