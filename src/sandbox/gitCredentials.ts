/**
 * git's configuration files as a sandboxed command without the network sees them: with the
 * credentials taken out. Red team: `git clone https://user:TOKEN@host/…` leaves the token in the
 * repository's `.git/config`, CI checkouts (actions/checkout) leave `http.<url>.extraheader =
 * AUTHORIZATION: basic …` there, and `url.https://TOKEN@github.com/.insteadOf` in ~/.gitconfig is a
 * common way to give tools a token; an auto-approved `cat .git/config` or `git remote -v` printed
 * them into the agent's context, the leak runCommand's sandboxEnv stops for the environment. As
 * there, a run without any network has no service to log in to, so it gets a copy without them,
 * bound read-only over each file (runCommand.ts); a run with the network keeps them, since git may
 * need them to fetch. Pure but for `read`.
 *
 * Which files: the repository git finds from the working directory (its discovery walks up: a
 * `.git` directory, a `.git` file's gitdir, a bare repository), its `config` and `config.worktree`
 * and those of the common directory of a worktree; the person's ~/.gitconfig and
 * $XDG_CONFIG_HOME/git/config (else ~/.config/git/config); /etc/gitconfig; $GIT_CONFIG_GLOBAL and
 * $GIT_CONFIG_SYSTEM; and every file these `include` or `includeIf` (a `~/.gitconfig.local` with
 * the token is a common layout), followed to INCLUDE_DEPTH.
 */
import { dirname, join, resolve } from 'node:path';
import { looksLikeGitDir, parseGitdirPointer, type FsProbe } from './writableRoots.ts';

type GitEnv = { HOME?: string | undefined; XDG_CONFIG_HOME?: string | undefined; GIT_CONFIG_GLOBAL?: string | undefined; GIT_CONFIG_SYSTEM?: string | undefined };

/**
 * The config files named in the header that exist, canonical, for each of `envs` (the command's and
 * warden's own: their $HOME may differ; a `~/` include is read from each one's home). The
 * repository is found once: it depends on `cwd` alone. Does I/O only through `probe`.
 */
export function gitConfigFiles(cwd: string, envs: readonly GitEnv[], probe: FsProbe): string[] {
  const repository: string[] = [];
  const gitDir = discoveredGitDir(cwd, probe);
  if (gitDir !== null) {
    repository.push(join(gitDir, 'config'), join(gitDir, 'config.worktree'));
    const common = probe.readText(join(gitDir, 'commondir'));
    if (common !== null && common.trim() !== '') {
      const dir = resolve(gitDir, common.trim());
      repository.push(join(dir, 'config'), join(dir, 'config.worktree'));
    }
  }
  const files = new Set<string>();
  for (const env of envs) {
    const out = [...repository];
    if (env.HOME !== undefined && env.HOME.startsWith('/')) out.push(join(env.HOME, '.gitconfig'));
    const xdg = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : env.HOME?.startsWith('/') ? join(env.HOME, '.config') : null;
    if (xdg !== null) out.push(join(xdg, 'git', 'config'));
    out.push('/etc/gitconfig');
    for (const path of [env.GIT_CONFIG_GLOBAL, env.GIT_CONFIG_SYSTEM]) if (path !== undefined && path.startsWith('/')) out.push(path);
    const seen = new Set<string>();
    const visit = (path: string, depth: number) => {
      const real = probe.realpath(path);
      if (real === null || seen.has(real) || probe.kind(real) !== 'file') return;
      seen.add(real);
      files.add(real);
      if (depth >= INCLUDE_DEPTH) return;
      const text = probe.readText(real);
      for (const inc of text === null ? [] : includedPaths(text)) {
        const home = env.HOME?.startsWith('/') ? env.HOME : null;
        const abs = inc.startsWith('~/') ? (home === null ? null : join(home, inc.slice(2))) : resolve(dirname(path), inc);
        if (abs !== null) visit(abs, depth + 1);
      }
    };
    for (const path of out) visit(path, 0);
  }
  return [...files];
}

/** How deep includes are followed (git itself stops at 10). */
const INCLUDE_DEPTH = 10;

/** The `path` values of a config's `[include]` and `[includeIf "…"]` sections. Pure. */
export function includedPaths(text: string): string[] {
  const out: string[] = [];
  let inInclude = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const section = /^\[\s*([^\]\s"]+)/.exec(line);
    if (section) inInclude = /^include(if)?$/i.test(section[1]!);
    const m = inInclude ? /^path\s*=\s*(.+?)\s*$/i.exec(line) : null;
    if (m?.[1]) out.push(m[1].replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

/** The git directory git's discovery finds from `cwd`, canonical, or null. Does I/O only through `probe`. */
function discoveredGitDir(cwd: string, probe: FsProbe): string | null {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const dotgit = join(dir, '.git');
    const kind = probe.kind(dotgit);
    let found: string | null = null;
    if (kind === 'dir' || kind === 'symlink') found = dotgit;
    else if (kind === 'file') {
      const text = probe.readText(dotgit);
      found = text === null ? null : parseGitdirPointer(text, dir);
    } else if (probe.kind(join(dir, 'HEAD')) === 'file') {
      const entries = probe.list?.(dir);
      if (entries && looksLikeGitDir(entries)) found = dir; // a bare repository
    }
    if (found !== null) return probe.realpath(found);
    if (dirname(dir) === dir) return null;
  }
}

/** `scheme://userinfo@`: any userinfo of an http(s) URL (a token is often the user name alone), one with a password elsewhere. */
const HTTP_USERINFO = /\b(https?:\/\/)[^/@\s"]+@/gi;
const PASSWORD_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s":]*:[^/@\s"]*@/gi;
/** Keys whose value is a credential: http.extraHeader (an Authorization header), and any *password / *token key. */
const SECRET_KEY = /^\s*(extraheader|[a-z0-9-]*password|[a-z0-9-]*token)\s*(=|$)/i;

/**
 * The text without credentials, or null when it has none: userinfo dropped from URLs (in any
 * key: remote urls, `url.<base>.insteadOf` section names, pushurls) and credential keys' lines
 * blanked (line numbers stay, so git's own errors still point at the right line). Pure.
 */
export function withoutCredentials(text: string): string | null {
  let changed = false;
  const lines = text.split('\n').map((line) => {
    if (SECRET_KEY.test(line)) {
      changed = true;
      return '';
    }
    const next = line.replace(HTTP_USERINFO, '$1').replace(PASSWORD_USERINFO, '$1');
    if (next !== line) changed = true;
    return next;
  });
  return changed ? lines.join('\n') : null;
}
