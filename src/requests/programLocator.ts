/**
 * The PATH an exec request's command runs with and where it finds the programs the classifier
 * looks up: the edge half of "a bare name is known-safe only when the program that will run is
 * in a system directory" (the pure half is src/safety/programs/programPath.ts, the PATH cleaning
 * src/sandbox/commandPath.ts). Used by the effects (classify, then run) and by the batch
 * classifiers (`classify`, `explain`), so all of them read a bare name the same way. I/O.
 */
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ApprovalRequest } from '../machines/approval.machine.ts';
import type { Classification } from '../safety/types.ts';
import { type ProgramLocator, TRUSTED_BIN_DIRS } from '../safety/programs/programPath.ts';
import { programsToLocate } from '../safety/classifyExec.ts';
import { isShellStartupVar } from '../safety/programs/shellStartup.ts';
import { type SearchPath, canonicalDir, locatorFor, searchPathFor } from '../sandbox/commandPath.ts';

/** Directories any process may write, whatever the policy: a PATH entry there may hold a planted program. */
function sharedScratch(env: NodeJS.ProcessEnv): string[] {
  return ['/tmp', '/var/tmp', '/dev/shm', tmpdir(), ...(env.TMPDIR ? [env.TMPDIR] : [])];
}

/**
 * The work tree the command's directory is in: the nearest directory from cwd up holding a `.git`.
 * An agent runs commands anywhere in its project, so an earlier run from the root may have written
 * `<root>/bin/git` though this one runs in `<root>/sub` (redteam: PATH=<root>/bin:/usr/bin, `cd
 * sub`, then `git pull` under an allow rule ran the planted git). Null when there is none, and for
 * $HOME or a directory above it (a dotfiles repository would make every personal tool directory
 * the agent's). I/O unless `hasGit` is given.
 */
export function workTreeRootOf(cwd: string, home: string | undefined, hasGit: (dir: string) => boolean = (d) => existsSync(join(d, '.git'))): string | null {
  let dir = resolve(cwd);
  for (;;) {
    if (hasGit(dir)) break;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
  if (dir === '/' || (home !== undefined && (home === dir || home.startsWith(`${dir}/`)))) return null;
  return dir;
}

/** The PATH an exec request's command runs with under `env` (I/O: canonicalises the entries, looks for the work tree). */
export function searchPathOf(env: NodeJS.ProcessEnv, request: Pick<ApprovalRequest, 'cwd' | 'policy'>): SearchPath {
  const root = workTreeRootOf(request.cwd, env.HOME ?? homedir());
  const writableRoots = root === null ? request.policy.writableRoots : [...request.policy.writableRoots, root];
  return searchPathFor(env.PATH, { cwd: request.cwd, writableRoots, tmpDirs: sharedScratch(env), canonical: canonicalDir });
}

/**
 * The environment an exec command runs with: the runner's, with the PATH searchPathOf leaves. A
 * known-safe command gets only the PATH's system directories, the ones classification found its
 * programs in, so what runs is what was judged even if the runner's PATH differs from the
 * classifier's (a hook classifies, `warden exec --request` runs) or a directory changed between;
 * and none of the variables naming a shell's startup file. I/O (canonicalises the entries).
 */
export function commandEnv(env: NodeJS.ProcessEnv, request: Pick<ApprovalRequest, 'cwd' | 'policy'>, classification: Classification | null): NodeJS.ProcessEnv {
  const search = searchPathOf(env, request);
  if (!classification?.knownSafe) return { ...env, PATH: search.path };
  // a known-safe shell form runs without its startup files (shellStartup.ts), $BASH_ENV's included,
  // and without what else makes bash run code first (exported functions, SHELLOPTS with PS4)
  const out: NodeJS.ProcessEnv = { ...env, PATH: search.entries.filter((e) => TRUSTED_BIN_DIRS.has(canonicalDir(e))).join(':') };
  for (const name of Object.keys(out)) if (isShellStartupVar(name)) delete out[name];
  return out;
}

/**
 * Where the command's PATH finds the programs classification looks up (I/O, once, before the pure
 * classifier). The client's own tool runs the command with its own environment, which the hook
 * only approximates and warden cannot clean: there a PATH with any entry searchPathOf would drop
 * places no bare name at all (`ls` may be the agent's ./ls), and nothing is known-safe by name.
 */
export function programLocatorFor(env: NodeJS.ProcessEnv, request: Pick<ApprovalRequest, 'cwd' | 'policy' | 'command'> & { clientRuns?: boolean }): ProgramLocator {
  const search = searchPathOf(env, request);
  if (request.clientRuns === true && search.dropped.length > 0) return () => null;
  return locatorFor(programsToLocate(request.command ?? []), search.entries, undefined, search.writable);
}
