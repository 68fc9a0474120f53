/**
 * How argv[0] names a program. Codex keys its rules on the basename, so `/usr/bin/ls` is `ls`.
 * warden trusts a path only where an agent cannot have put the binary: a bare name (found on PATH)
 * or an absolute, normalised path in a standard system directory. `./ls`, `../bin/ls`, `/tmp/ls`
 * and `/usr/bin/../../tmp/ls` are files the agent may have written: not known-safe. Pure.
 */

export const TRUSTED_BIN_DIRS: ReadonlySet<string> = new Set([
  '/bin', '/usr/bin', '/usr/local/bin', '/sbin', '/usr/sbin', '/usr/local/sbin', '/opt/homebrew/bin',
]);

export function programName(argv0: string): string {
  const i = argv0.lastIndexOf('/');
  return i < 0 ? argv0 : argv0.slice(i + 1);
}

/** True when argv[0] is a bare name or lives directly in a trusted system directory. */
export function isTrustedProgramPath(argv0: string): boolean {
  if (argv0 === '' || argv0.includes('\0')) return false;
  if (!argv0.includes('/')) return true;
  if (!argv0.startsWith('/')) return false;
  const dir = argv0.slice(0, argv0.lastIndexOf('/'));
  const segments = dir.split('/').slice(1);
  // no `.`, `..` or empty (`//`) segments: the directory must be spelled canonically
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return false;
  return TRUSTED_BIN_DIRS.has(dir);
}
