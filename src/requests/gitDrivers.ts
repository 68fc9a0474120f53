/**
 * Just before a known-safe git command runs: the names its repository's config defines (I/O, one
 * `git config --list --name-only -z` per git program the command runs, in the request's directory
 * and with the run's environment, so it sees the same repository, includes and scopes), turned
 * into overrides for every attribute-selectable driver (programs/gitHardening.ts DRIVER_KEYS).
 * Listing config runs no program of the repository's. Fail closed: a listing that fails (bad
 * config, a git that is missing or hangs) throws, and the run is recorded as failed, not run bare.
 */
import { execFile } from 'node:child_process';
import type { Classification } from '../safety/types.ts';
import { driverOverrides, withConfigEntries } from '../safety/programs/gitHardening.ts';
import { programName } from '../safety/programs/programPath.ts';

const LIST_TIMEOUT_MS = 10_000;

/** The git programs (as spelled: `git`, `/usr/bin/git`) the classified commands run. Pure. */
export function gitProgramsOf(classification: Classification): string[] {
  const out = new Set<string>();
  for (const words of classification.commands ?? []) {
    const argv0 = words[0];
    if (argv0 !== undefined && programName(argv0) === 'git') out.add(argv0);
  }
  return [...out];
}

/** `git config --list --name-only -z` in cwd (I/O); rejects on any failure. */
export function listConfigNames(git: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      git,
      ['config', '--list', '--name-only', '-z'],
      { cwd, env, timeout: LIST_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`could not list git's config before a known-safe git command, so it was not run: ${(stderr || error.message).trim().slice(0, 500)}`));
          return;
        }
        resolve(stdout.split('\0').filter((n) => n !== ''));
      },
    );
  });
}

/**
 * The run environment with every repository-named driver neutralised (I/O). `env` is the run's
 * environment already holding the static hardening (effects.withRunEnv); unchanged when the
 * classification carries no hardening (not a known-safe git run).
 */
export async function withDriverOverrides(env: NodeJS.ProcessEnv, classification: Classification | null, cwd: string): Promise<NodeJS.ProcessEnv> {
  if (!classification?.runEnv) return env;
  const names: string[] = [];
  for (const git of gitProgramsOf(classification)) names.push(...(await listConfigNames(git, cwd, env)));
  const extra = driverOverrides(names);
  if (extra.length === 0) return env;
  return { ...env, ...withConfigEntries(env as Record<string, string>, extra) };
}
