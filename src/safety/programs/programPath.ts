/**
 * How argv[0] names a program. Codex keys its rules on the basename, so `/usr/bin/ls` is `ls`.
 * warden trusts a program only where an agent cannot have put the binary: an absolute, normalised
 * path in a standard system directory, or a bare name that the PATH the command runs with finds
 * in one. `./ls`, `../bin/ls`, `/tmp/ls` and `/usr/bin/../../tmp/ls` are files the agent may have
 * written, and so is the `ls` a PATH of `.:/usr/bin` finds in the workspace: not known-safe. Where
 * a bare name is found is I/O, done at the edge (src/sandbox/commandPath.ts) and handed in as a
 * ProgramLocator. Pure.
 */

export const TRUSTED_BIN_DIRS: ReadonlySet<string> = new Set([
  '/bin', '/usr/bin', '/usr/local/bin', '/sbin', '/usr/sbin', '/usr/local/sbin', '/opt/homebrew/bin',
]);

export function programName(argv0: string): string {
  const i = argv0.lastIndexOf('/');
  return i < 0 ? argv0 : argv0.slice(i + 1);
}

/**
 * Where the PATH a command runs with finds a bare program name: the absolute path of the file
 * that runs (its directory canonical), or null when warden did not look it up or PATH holds none.
 * A lookup in a table made before classifying, never I/O itself.
 */
export type ProgramLocator = (name: string) => string | null;

/**
 * True when argv[0] lives directly in a trusted system directory: spelled so, or a bare name the
 * locator finds there. Without a locator a bare name is read as the system's program: the
 * argv-only question (`isKnownSafeCommand`, the conformance vectors), never a run's verdict.
 */
export function isTrustedProgramPath(argv0: string, locate?: ProgramLocator): boolean {
  if (argv0 === '' || argv0.includes('\0')) return false;
  if (!argv0.includes('/')) {
    if (locate === undefined) return true;
    // found through PATH: trusted only where the file that will run is (`.:/usr/bin` finds ./ls)
    const found = locate(argv0);
    return found !== null && found.includes('/') && programName(found) === argv0 && isTrustedProgramPath(found);
  }
  if (!argv0.startsWith('/')) return false;
  const dir = argv0.slice(0, argv0.lastIndexOf('/'));
  const segments = dir.split('/').slice(1);
  // no `.`, `..` or empty (`//`) segments: the directory must be spelled canonically
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return false;
  return TRUSTED_BIN_DIRS.has(dir);
}
